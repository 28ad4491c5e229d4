#include "daemon/commit_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace rsvpd {
namespace {

TEST(CommitQueueTest, ReservationsBoundTheQueueAndPopFreesThem) {
  CommitQueue<int> queue(4);
  int items[4] = {1, 2, 3, 4};
  for (int& item : items) {
    ASSERT_TRUE(queue.try_reserve());
    queue.push(&item);
  }
  EXPECT_FALSE(queue.try_reserve());  // Full: the caller answers overloaded, nothing taken.
  std::vector<int*> batch;
  EXPECT_EQ(queue.pop_batch(batch, 3), 3u);
  EXPECT_EQ(*batch[0], 1);
  EXPECT_EQ(*batch[2], 3);
  EXPECT_EQ(queue.reserved(), 1u);
  EXPECT_TRUE(queue.try_reserve());
  queue.cancel_reservation();
  batch.clear();
  EXPECT_EQ(queue.pop_batch(batch, 10), 1u);
  EXPECT_EQ(*batch[0], 4);
}

TEST(CommitQueueTest, StopRefusesReservationsAndEndsAnEmptyPop) {
  CommitQueue<int> queue(8);
  std::thread consumer([&] {
    std::vector<int*> batch;
    EXPECT_EQ(queue.pop_batch(batch, 8), 0u);  // Blocks until stop().
  });
  queue.stop();
  consumer.join();
  EXPECT_FALSE(queue.try_reserve());
}

TEST(CommitQueueTest, ItemsReservedBeforeStopAreStillDelivered) {
  CommitQueue<int> queue(8);
  int item = 7;
  ASSERT_TRUE(queue.try_reserve());
  queue.stop();
  queue.push(&item);
  std::vector<int*> batch;
  EXPECT_EQ(queue.pop_batch(batch, 8), 1u);
  EXPECT_EQ(batch[0], &item);
  EXPECT_EQ(queue.pop_batch(batch, 8), 0u);
}

TEST(CommitQueueTest, AfterStopTheConsumerWaitsForReservedItemsBeforeEnding) {
  CommitQueue<int> queue(8);
  int item = 3;
  ASSERT_TRUE(queue.try_reserve());  // Reserved before stop, pushed a little after.
  ASSERT_TRUE(queue.try_reserve());  // Reserved before stop, then cancelled.
  queue.stop();
  std::thread producer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.push(&item);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    queue.cancel_reservation();
  });
  std::vector<int*> batch;
  EXPECT_EQ(queue.pop_batch(batch, 8), 1u);  // Not 0: a reserved item was still coming.
  EXPECT_EQ(queue.pop_batch(batch, 8), 0u);  // Ends once the last reservation is cancelled.
  producer.join();
}

TEST(CommitQueueTest, ManyProducersOneConsumerLoseNothingAndKeepEachProducersOrder) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 50'000;
  CommitQueue<uint64_t> queue(64);  // Small: producers keep hitting the bound.
  std::vector<std::vector<uint64_t>> values(kProducers, std::vector<uint64_t>(kPerProducer));
  std::atomic<int> overloaded{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) {
        values[p][i] = (uint64_t(p) << 32) | uint64_t(i);
        while (!queue.try_reserve()) {
          overloaded.fetch_add(1, std::memory_order_relaxed);
          std::this_thread::yield();
        }
        queue.push(&values[p][i]);
      }
    });
  }
  std::vector<int64_t> last(kProducers, -1);
  int64_t received = 0;
  std::vector<uint64_t*> batch;
  while (received < int64_t{kProducers} * kPerProducer) {
    batch.clear();
    const size_t count = queue.pop_batch(batch, 256);
    ASSERT_LE(count, 256u);
    for (uint64_t* value : batch) {
      const int producer = static_cast<int>(*value >> 32);
      const int64_t index = static_cast<int64_t>(*value & 0xffffffffu);
      ASSERT_EQ(index, last[producer] + 1) << "lost or reordered item of producer " << producer;
      last[producer] = index;
      ++received;
    }
  }
  for (auto& producer : producers) producer.join();
  EXPECT_EQ(queue.reserved(), 0u);
}

}  // namespace
}  // namespace rsvpd
