#include "daemon/claim_table.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace rsvpd {
namespace {

TEST(ClaimTableTest, KeysOfTheTwoKindsNeverCollide) {
  EXPECT_NE(ClaimTable::user_activity_key("a", "b"), ClaimTable::idempotency_key("a", "b"));
  EXPECT_NE(ClaimTable::user_activity_key("a", "bc"), ClaimTable::user_activity_key("ab", "c"));
}

TEST(ClaimTableTest, ASecondClaimWaitsForTheFirstOutcome) {
  ClaimTable table;
  const std::string key = ClaimTable::user_activity_key("alice", "gig");
  ASSERT_EQ(table.claim(key, nullptr), ClaimTable::ClaimResult::kClaimed);
  ClaimOutcome seen;
  int runs = 0;
  ASSERT_EQ(table.claim(key, [&](const ClaimOutcome& outcome) { seen = outcome; ++runs; }),
            ClaimTable::ClaimResult::kQueued);
  EXPECT_EQ(runs, 0);
  table.release(key, ClaimOutcome{true, 42});
  EXPECT_EQ(runs, 1);
  EXPECT_TRUE(seen.succeeded);
  EXPECT_EQ(seen.rsvp_id, 42u);
  EXPECT_EQ(table.size(), 0u);
  // Free again: a fresh claim succeeds.
  EXPECT_EQ(table.claim(key, nullptr), ClaimTable::ClaimResult::kClaimed);
  table.release(key, ClaimOutcome{});
}

TEST(ClaimTableTest, WaitersPerKeyAreBounded) {
  ClaimTable table;
  const std::string key = ClaimTable::idempotency_key("bob", "k1");
  ASSERT_EQ(table.claim(key, nullptr), ClaimTable::ClaimResult::kClaimed);
  for (size_t i = 0; i < ClaimTable::kWaitersPerClaimMax; ++i) {
    ASSERT_EQ(table.claim(key, [](const ClaimOutcome&) {}), ClaimTable::ClaimResult::kQueued);
  }
  EXPECT_EQ(table.claim(key, [](const ClaimOutcome&) {}), ClaimTable::ClaimResult::kFull);
  table.release(key, ClaimOutcome{});
}

TEST(ClaimTableTest, ConcurrentClaimsOfOneKeyAdmitExactlyOneOwnerAtATime) {
  ClaimTable table;
  const std::string key = ClaimTable::user_activity_key("carol", "hot");
  std::atomic<int> owners{0};
  std::atomic<int> max_owners{0};
  std::atomic<int> completed{0};
  constexpr int kAttempts = 2'000;
  // Each attempt either owns the key (and releases it) or is continued by the owner's release,
  // which then retries; every attempt completes exactly once. Three threads can queue more than
  // kWaitersPerClaimMax continuations behind one owner: such an attempt is refused (kFull, as
  // the service answers `overloaded`) and tries again, as a client would.
  std::function<void()> attempt = [&] {
    ClaimTable::ClaimResult result;
    while ((result = table.claim(key, [&](const ClaimOutcome&) { attempt(); })) ==
           ClaimTable::ClaimResult::kFull) {
      std::this_thread::yield();
    }
    if (result != ClaimTable::ClaimResult::kClaimed) return;
    const int now = owners.fetch_add(1) + 1;
    int seen = max_owners.load();
    while (now > seen && !max_owners.compare_exchange_weak(seen, now)) {
    }
    owners.fetch_sub(1);
    completed.fetch_add(1);
    table.release(key, ClaimOutcome{});
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kAttempts / 4; ++i) attempt();
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(max_owners.load(), 1);
  EXPECT_EQ(completed.load(), kAttempts);
  EXPECT_EQ(table.size(), 0u);
}

}  // namespace
}  // namespace rsvpd
