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

TEST(StoreKeysTest, UserKeysKeepOneUsersIndexesTogetherAndApart) {
  // One user's entries of all three indexes sort side by side, grouped by index...
  const std::string audit(user_u64_key("u", UserIndex::kAudit, 7).view());
  const std::string live(user_live_key("u", "yoga").view());
  const std::string rsvp(user_u64_key("u", UserIndex::kRsvps, 3).view());
  EXPECT_LT(audit, live);
  EXPECT_LT(live, rsvp);
  // ...and a longer user id that starts with "u" sorts after all of them.
  EXPECT_LT(rsvp, std::string(user_u64_key("uv", UserIndex::kAudit, 0).view()));
  // A prefix covers exactly its index, and the end key is above all of it and below the next.
  const std::string prefix(user_index_prefix("u", UserIndex::kRsvps).view());
  const std::string end(user_index_end("u", UserIndex::kRsvps).view());
  EXPECT_TRUE(rsvp.starts_with(prefix));
  EXPECT_FALSE(live.starts_with(prefix));
  EXPECT_LT(std::string(user_u64_key("u", UserIndex::kRsvps, UINT64_MAX).view()), end);
  EXPECT_LT(end, std::string(user_u64_key("uv", UserIndex::kRsvps, 0).view()));
  EXPECT_LT(std::string(user_u64_key("u", UserIndex::kRsvps, 2).view()),
            std::string(user_u64_key("u", UserIndex::kRsvps, 256).view()));
}

TEST(StoreKeysTest, UserKeysDecodeAndMalformedOnesAreCorruption) {
  const StoreKey rsvp_key = user_u64_key("ann", UserIndex::kRsvps, 9);
  Result<UserIndexKey> rsvp = decode_user_index_key(rsvp_key.view());
  ASSERT_TRUE(rsvp.is_ok());
  EXPECT_EQ(rsvp->user, "ann");
  EXPECT_EQ(rsvp->index, UserIndex::kRsvps);
  EXPECT_EQ(rsvp->value, 9u);
  Result<UserIndexKey> audit = decode_user_index_key(user_u64_key("ann", UserIndex::kAudit, 4).view());
  ASSERT_TRUE(audit.is_ok());
  EXPECT_EQ(audit->index, UserIndex::kAudit);
  EXPECT_EQ(audit->value, 4u);
  const StoreKey live_key = user_live_key("ann", "climb-1");  // The decoded views point into it.
  Result<UserIndexKey> live = decode_user_index_key(live_key.view());
  ASSERT_TRUE(live.is_ok());
  EXPECT_EQ(live->index, UserIndex::kLive);
  EXPECT_EQ(live->rest, "climb-1");

  const std::string good(user_u64_key("ann", UserIndex::kRsvps, 9).view());
  std::string unknown_tag = good;
  unknown_tag[4] = 'z';
  for (const std::string& bad :
       {std::string(), std::string("ann"), good.substr(0, good.size() - 1), unknown_tag,
        std::string("ann\0r", 5), std::string("a n\0r", 5) + std::string(8, '\0'),
        std::string("ann\0l", 5), std::string("ann\0l bad", 9)}) {
    EXPECT_EQ(decode_user_index_key(bad).status().code(), StatusCode::kCorruption) << bad.size();
  }
}

}  // namespace
}  // namespace rsvpd
