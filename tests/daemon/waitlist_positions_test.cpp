#include "daemon/waitlist_positions.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace rsvpd {
namespace {

TEST(WaitlistPositionsTest, PositionsFollowTicketOrderAndCloseGapsOnRemoval) {
  WaitlistPositions positions;
  for (uint64_t ticket : {1, 2, 5, 9}) positions.add(ticket);
  EXPECT_EQ(positions.position(1), 1u);
  EXPECT_EQ(positions.position(5), 3u);
  EXPECT_EQ(positions.position(9), 4u);
  EXPECT_EQ(positions.position(3), 0u);  // Not waiting.
  positions.remove(1);                   // The head is promoted.
  EXPECT_EQ(positions.position(2), 1u);
  EXPECT_EQ(positions.position(9), 3u);
  EXPECT_EQ(positions.size(), 3u);
}

TEST(WaitlistPositionsTest, MatchesCountingAcrossGrowthAndRandomChanges) {
  WaitlistPositions positions;
  std::set<uint64_t> reference;
  std::mt19937 random(3);
  uint64_t next_ticket = 1;
  for (int step = 0; step < 20'000; ++step) {
    if (reference.empty() || random() % 3 != 0) {
      positions.add(next_ticket);  // Crosses the doubling boundaries 64, 128, ... 16384.
      reference.insert(next_ticket++);
    } else {
      auto it = reference.begin();
      std::advance(it, random() % reference.size());
      positions.remove(*it);
      reference.erase(it);
    }
    if (step % 97 == 0) {
      uint64_t expected = 0;
      for (const uint64_t ticket : reference) {
        ASSERT_EQ(positions.position(ticket), ++expected) << "ticket " << ticket;
      }
    }
  }
  EXPECT_EQ(positions.size(), reference.size());
}

}  // namespace
}  // namespace rsvpd
