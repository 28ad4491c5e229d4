#include "shm/snapshot.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/mman.h>

#include <atomic>
#include <random>
#include <vector>

#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/segment.h"
#include "tests/shm/test_segment_name.h"

namespace rsvpd::shm {
namespace {

TEST(SnapshotTest, PublishedSnapshotReadsBack) {
  auto slot = std::make_unique<ActivitySlot>();
  const ActivitySnapshot snapshot{10, 7, 3, 2, 5, ActivityStatus::kClosed, 4, 99};
  publish_snapshot(*slot, snapshot);
  ActivitySnapshot read;
  ASSERT_EQ(read_snapshot(*slot, read), SnapshotRead::kOk);
  EXPECT_EQ(read, snapshot);
}

TEST(SnapshotTest, AReadOverlappingAPublishForeverReportsBusy) {
  auto slot = std::make_unique<ActivitySlot>();
  slot->snapshot.sequence.store(1);  // A publisher that died mid-write.
  ActivitySnapshot read;
  EXPECT_EQ(read_snapshot(*slot, read), SnapshotRead::kBusy);
}

TEST(SnapshotDeathTest, PublishingAnOverbookedStateAborts) {
#ifdef NDEBUG
  GTEST_SKIP() << "assertions are compiled out in this build";
#else
  auto slot = std::make_unique<ActivitySlot>();
  EXPECT_DEATH(publish_snapshot(*slot, ActivitySnapshot{5, 6, 0, 0, 0, {}, 1, 1}), "");
#endif
}

// Reader processes read snapshots from a read-only mapping while the writer publishes; every
// snapshot must be internally consistent and monotonic. Then the writer "restarts" (recreates
// the segment) and each reader must notice. Exit codes carry the verdict.
int reader_process(const std::string& name, uint32_t activities, std::atomic<long>& reads_done) {
  SegmentOpenError error;
  auto segment = Segment::open_read_only(name, &error);
  if (segment == nullptr) return 10;
  std::vector<uint64_t> last_version(activities, 0), last_seq(activities, 0);
  constexpr long kReadsMax = 50'000'000;  // Bound: the test must end even if no restart comes.
  for (long reads = 0; reads < kReadsMax; ++reads) {
    const uint32_t a = static_cast<uint32_t>(reads % activities);
    const auto slot = segment->find("activity-" + std::to_string(a));
    if (!slot) return 11;
    ActivitySnapshot snapshot;
    if (read_snapshot(segment->slot(*slot), snapshot) != SnapshotRead::kOk) continue;
    if (snapshot.confirmed_seats + snapshot.available_seats != snapshot.capacity) return 12;
    if (snapshot.confirmed_seats > snapshot.capacity) return 13;
    if (snapshot.version < last_version[a] || snapshot.last_audit_seq < last_seq[a]) return 14;
    if (snapshot.waitlisted_seats < snapshot.waitlist_length) return 15;
    last_version[a] = snapshot.version;
    last_seq[a] = snapshot.last_audit_seq;
    reads_done.fetch_add(1, std::memory_order_relaxed);  // Progress for the writer; no ordering.
    if (reads % 20'000 == 0 && !segment->is_current_instance()) return 0;  // Noticed.
  }
  return 16;  // Never noticed the restart.
}

TEST(SnapshotMultiProcessTest, ReadersSeeOnlyConsistentSnapshotsAndNoticeARestart) {
  const std::string name = testing::unique_segment_name("snapshot");
  constexpr uint32_t kActivities = 8;
  SegmentOpenError error;
  auto segment = Segment::create(name, kActivities, &error);
  ASSERT_NE(segment, nullptr) << error.message;
  std::vector<SlotRef> slots;
  for (uint32_t a = 0; a < kActivities; ++a) {
    const auto inserted = segment->insert("activity-" + std::to_string(a), [](ActivitySlot& s) {
      initialize_slot(s, ActivitySettings{}, 0, 0);
      publish_snapshot(s, ActivitySnapshot{1, 0, 1, 0, 0, ActivityStatus::kOpen, 1, 0});
    });
    ASSERT_EQ(inserted.outcome, InsertOutcome::kInserted);
    slots.push_back(inserted.slot);
  }
  // Shared progress counter, so the writer keeps publishing until readers really overlapped it.
  void* shared = mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(shared, MAP_FAILED);
  auto* reads_done = new (shared) std::atomic<long>(0);
  std::vector<pid_t> readers;
  for (int r = 0; r < 2; ++r) {
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) _exit(reader_process(name, kActivities, *reads_done));
    readers.push_back(child);
  }
  std::mt19937 random(7);
  uint64_t seq = 0;
  constexpr long kReadsWanted = 2'000'000;
  constexpr int kRoundsMax = 200'000'000;  // Bound in case readers died early.
  for (int round = 0; round < kRoundsMax && reads_done->load() < kReadsWanted; ++round) {
    const uint32_t a = random() % kActivities;
    const uint32_t capacity = 1 + random() % 1000;
    const uint32_t confirmed = random() % (capacity + 1);
    const uint32_t waiting = random() % 50;
    publish_snapshot(segment->slot(slots[a]),
                     ActivitySnapshot{capacity, confirmed, capacity - confirmed, waiting,
                                      waiting * 2, ActivityStatus::kOpen, 1 + seq / 100, ++seq});
    if (round % 1000 == 0) announce_change(segment->header());
  }
  // Restart: a new instance under the same name.
  auto restarted = Segment::create(name, kActivities, &error);
  ASSERT_NE(restarted, nullptr);
  for (uint32_t a = 0; a < kActivities; ++a) {
    restarted->insert("activity-" + std::to_string(a), [](ActivitySlot& s) {
      initialize_slot(s, ActivitySettings{}, 0, 0);
      publish_snapshot(s, ActivitySnapshot{1, 0, 1, 0, 0, ActivityStatus::kOpen, 1, 0});
    });
  }
  for (const pid_t reader : readers) {
    int status = 0;
    ASSERT_EQ(waitpid(reader, &status, 0), reader);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "reader verdict (see reader_process)";
  }
  EXPECT_GE(reads_done->load(), kReadsWanted);
  munmap(shared, sizeof(std::atomic<long>));
  Segment::remove(name);
}

}  // namespace
}  // namespace rsvpd::shm
