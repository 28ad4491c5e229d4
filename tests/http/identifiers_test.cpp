#include "http/identifiers.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rsvpd::http {
namespace {

TEST(IdentifiersTest, IdsAcceptTheDocumentedAlphabet) {
  EXPECT_TRUE(is_valid_id("a"));
  EXPECT_TRUE(is_valid_id("Yoga.Class_2026:morning-1"));
  EXPECT_TRUE(is_valid_id(std::string(kIdBytesMax, 'x')));
}

TEST(IdentifiersTest, IdsRejectEmptyLongAndForeignCharacters) {
  EXPECT_FALSE(is_valid_id(""));
  EXPECT_FALSE(is_valid_id(std::string(kIdBytesMax + 1, 'x')));
  for (const char* bad : {"a b", "a/b", "a\"b", "é", "a\nb", "a%20", "a+b", "a#"}) {
    EXPECT_FALSE(is_valid_id(bad)) << bad;
  }
  EXPECT_FALSE(is_valid_id(std::string("a\0b", 3)));
}

TEST(IdentifiersTest, IdempotencyKeysArePrintableAsciiUpTo128) {
  EXPECT_TRUE(is_valid_idempotency_key("k"));
  EXPECT_TRUE(is_valid_idempotency_key("order 42/retry {\"x\"}~"));
  EXPECT_TRUE(is_valid_idempotency_key(std::string(kIdempotencyKeyBytesMax, '~')));
  EXPECT_FALSE(is_valid_idempotency_key(""));
  EXPECT_FALSE(is_valid_idempotency_key(std::string(kIdempotencyKeyBytesMax + 1, 'k')));
  EXPECT_FALSE(is_valid_idempotency_key("tab\tkey"));
  EXPECT_FALSE(is_valid_idempotency_key("del\x7f"));
  EXPECT_FALSE(is_valid_idempotency_key("caf\xc3\xa9"));
  EXPECT_FALSE(is_valid_idempotency_key(" leading"));
  EXPECT_FALSE(is_valid_idempotency_key("trailing "));
}

TEST(IdentifiersTest, RequestIdsFromClientsAreEchoedOnlyWhenSafe) {
  RequestIdGenerator generator(42);
  EXPECT_EQ(generator.accept_or_generate("client-req.1:x_y"), "client-req.1:x_y");
  EXPECT_EQ(generator.accept_or_generate(std::string(kRequestIdBytesMax, 'r')),
            std::string(kRequestIdBytesMax, 'r'));
  for (const std::string& bad :
       {std::string(), std::string(kRequestIdBytesMax + 1, 'r'), std::string("a b"),
        std::string("<script>"), std::string("x\r\nSet-Cookie: y")}) {
    EXPECT_FALSE(is_valid_request_id(bad)) << bad;
    const std::string replaced = generator.accept_or_generate(bad);
    EXPECT_NE(replaced, bad);
    EXPECT_TRUE(is_valid_request_id(replaced));
  }
}

TEST(IdentifiersTest, GeneratedRequestIdsAreValidAndUniqueAcrossThreads) {
  Result<std::uint64_t> seed = RequestIdGenerator::random_seed();
  ASSERT_TRUE(seed.is_ok());
  RequestIdGenerator generator(seed.value());
  constexpr int kThreadsCount = 4;
  constexpr int kIdsPerThreadCount = 2000;
  std::vector<std::vector<std::string>> ids(kThreadsCount);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreadsCount; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kIdsPerThreadCount; ++i) ids[t].push_back(generator.next());
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::set<std::string> unique;
  for (const auto& list : ids) {
    for (const std::string& id : list) {
      EXPECT_TRUE(is_valid_request_id(id)) << id;
      unique.insert(id);
    }
  }
  EXPECT_EQ(unique.size(), static_cast<std::size_t>(kThreadsCount * kIdsPerThreadCount));
}

TEST(IdentifiersTest, GeneratorsWithDifferentSeedsHaveDifferentPrefixes) {
  RequestIdGenerator first(1);
  RequestIdGenerator second(2);
  EXPECT_NE(first.next(), second.next());
  RequestIdGenerator same(1);
  EXPECT_EQ(same.next(), RequestIdGenerator(1).next());
}

TEST(IdentifiersTest, GeneratedActivityIdsMatchTheIdRuleAndDiffer) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    Result<std::string> id = generate_activity_id();
    ASSERT_TRUE(id.is_ok());
    EXPECT_EQ(id->size(), kGeneratedActivityIdPrefix.size() + kGeneratedIdRandomCharsCount);
    EXPECT_EQ(id->rfind("a_", 0), 0u);
    EXPECT_TRUE(is_valid_id(id.value())) << id.value();
    for (std::size_t k = 2; k < id->size(); ++k) {
      const char c = id.value()[k];
      EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << id.value();
    }
    seen.insert(id.value());
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace rsvpd::http
