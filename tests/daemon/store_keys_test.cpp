#include "daemon/store_keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace rsvpd {
namespace {

TEST(StoreKeysTest, IdValidation) {
  EXPECT_TRUE(is_valid_id("a"));
  EXPECT_TRUE(is_valid_id("Az09._:-"));
  EXPECT_TRUE(is_valid_id(std::string(kIdBytesMax, 'x')));
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id(std::string(kIdBytesMax + 1, 'x')));
  EXPECT_FALSE(is_valid_id("a b"));
  EXPECT_FALSE(is_valid_id("a/b"));
  EXPECT_FALSE(is_valid_id(std::string("a\0b", 3)));
  EXPECT_FALSE(is_valid_id("\xc3\xa9"));
}

TEST(StoreKeysTest, IdempotencyKeyValidation) {
  EXPECT_TRUE(is_valid_idempotency_key("k"));
  EXPECT_TRUE(is_valid_idempotency_key(" ~!{}"));
  EXPECT_TRUE(is_valid_idempotency_key(std::string(kIdempotencyKeyBytesMax, 'k')));
  EXPECT_FALSE(is_valid_idempotency_key(""));
  EXPECT_FALSE(is_valid_idempotency_key(std::string(kIdempotencyKeyBytesMax + 1, 'k')));
  EXPECT_FALSE(is_valid_idempotency_key("tab\there"));
  EXPECT_FALSE(is_valid_idempotency_key("\x7f"));
}

TEST(StoreKeysTest, U64KeysAreBigEndianAndSortNumerically) {
  EXPECT_EQ(u64_key(0x0102030405060708ull).view(), std::string("\x01\x02\x03\x04\x05\x06\x07\x08", 8));
  const std::vector<uint64_t> values = {0, 1, 255, 256, 65535, 1ull << 32, (1ull << 63) - 1,
                                        1ull << 63, UINT64_MAX - 1, UINT64_MAX};
  for (size_t i = 0; i + 1 < values.size(); ++i) {
    EXPECT_LT(u64_key(values[i]).view(), u64_key(values[i + 1]).view()) << values[i];
  }
  for (const uint64_t value : values) {
    const Result<uint64_t> decoded = decode_u64_key(u64_key(value).view());
    ASSERT_TRUE(decoded.is_ok());
    EXPECT_EQ(decoded.value(), value);
  }
}

TEST(StoreKeysTest, CompositeKeysGroupByIdThenNumber) {
  // Bytewise order (LMDB's default) must be: all of "ab" in numeric order, then "ab-", "abc".
  std::vector<std::string> keys;
  for (const char* id : {"abc", "ab", "ab-", "B"}) {
    for (const uint64_t n : {300ull, 2ull, 1ull << 40, 1ull}) {
      keys.emplace_back(id_u64_key(id, n).view());
    }
  }
  std::sort(keys.begin(), keys.end());
  std::vector<std::pair<std::string, uint64_t>> decoded;
  for (const std::string& key : keys) {
    const Result<IdU64Key> parts = decode_id_u64_key(key);
    ASSERT_TRUE(parts.is_ok());
    decoded.emplace_back(std::string(parts.value().id), parts.value().value);
  }
  const std::vector<std::pair<std::string, uint64_t>> expected = {
      {"B", 1},   {"B", 2},   {"B", 300},   {"B", 1ull << 40},   {"ab", 1},
      {"ab", 2},  {"ab", 300}, {"ab", 1ull << 40}, {"ab-", 1},     {"ab-", 2},
      {"ab-", 300}, {"ab-", 1ull << 40}, {"abc", 1}, {"abc", 2},  {"abc", 300},
      {"abc", 1ull << 40}};
  EXPECT_EQ(decoded, expected);
}

TEST(StoreKeysTest, PrefixCoversExactlyOneId) {
  const std::string prefix(id_prefix_key("ab").view());
  EXPECT_EQ(prefix, std::string("ab\0", 3));
  EXPECT_EQ(std::string(id_u64_key("ab", 7).view()).rfind(prefix, 0), 0u);
  EXPECT_NE(std::string(id_u64_key("abc", 7).view()).rfind(prefix, 0), 0u);
  EXPECT_EQ(std::string(id_id_key("ab", "act").view()), std::string("ab\0act", 6));
  EXPECT_EQ(std::string(idempotency_store_key("u1", "k ~").view()), std::string("u1\0k ~", 6));
  EXPECT_EQ(id_key("x.y").view(), "x.y");
}

TEST(StoreKeysTest, LongestKeysFit) {
  const std::string id(kIdBytesMax, 'i');
  const std::string key(kIdempotencyKeyBytesMax, 'k');
  EXPECT_EQ(idempotency_store_key(id, key).view().size(), kKeyBytesMax);
  EXPECT_EQ(id_u64_key(id, 1).view().size(), kIdBytesMax + 1 + kU64KeyBytes);
}

TEST(StoreKeysTest, MalformedKeysAreCorruption) {
  EXPECT_EQ(decode_u64_key("1234567").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(decode_u64_key("123456789").status().code(), StatusCode::kCorruption);
  const std::string good(id_u64_key("ab", 5).view());
  ASSERT_TRUE(decode_id_u64_key(good).is_ok());
  std::string no_separator = good;
  no_separator[2] = 'x';
  for (const std::string& bad :
       {std::string(), good.substr(0, good.size() - 1), good.substr(1 + 1), no_separator,
        std::string("a b\0", 4) + std::string(8, '\0'), std::string("\0", 1) + std::string(8, '\0')}) {
    EXPECT_EQ(decode_id_u64_key(bad).status().code(), StatusCode::kCorruption);
  }
}

}  // namespace
}  // namespace rsvpd
