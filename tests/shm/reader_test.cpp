// The C reader API (shm/rsvpd_reader.h) against segments this test creates with the shm API, and
// the C example program run as a subprocess.
#include "shm/rsvpd_reader.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/segment.h"
#include "shm/snapshot.h"
#include "tests/shm/test_segment_name.h"

namespace rsvpd::shm {
namespace {

constexpr uint32_t kActivitiesMax = 16;

std::unique_ptr<Segment> create_segment(const std::string& name) {
  SegmentOpenError error;
  auto segment = Segment::create(name, kActivitiesMax, &error);
  EXPECT_NE(segment, nullptr) << error.message;
  return segment;
}

SlotRef add_activity(Segment& segment, const std::string& id, const ActivitySnapshot& snapshot) {
  ActivitySettings settings;
  settings.capacity = snapshot.capacity;
  const InsertResult result = segment.insert(id, [&](ActivitySlot& slot) {
    initialize_slot(slot, settings, snapshot.confirmed_seats, snapshot.waitlist_length);
    publish_snapshot(slot, snapshot);
  });
  EXPECT_EQ(result.outcome, InsertOutcome::kInserted);
  return result.slot;
}

class ReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    name_ = testing::unique_segment_name("reader");
    segment_ = create_segment(name_);
  }
  void TearDown() override {
    rsvpd_reader_close(reader_);
    Segment::remove(name_);
  }
  void open_reader() { ASSERT_EQ(rsvpd_reader_open(name_.c_str(), &reader_), RSVPD_OK); }

  std::string name_;
  std::unique_ptr<Segment> segment_;
  rsvpd_reader* reader_ = nullptr;
};

TEST_F(ReaderTest, ReadsTheCommittedSnapshot) {
  add_activity(*segment_, "yoga", {10, 7, 3, 2, 5, ActivityStatus::kClosed, 4, 99});
  open_reader();
  rsvpd_activity activity;
  ASSERT_EQ(rsvpd_reader_find(reader_, "yoga", &activity), RSVPD_OK);
  EXPECT_STREQ(activity.id, "yoga");
  rsvpd_snapshot snap;
  ASSERT_EQ(rsvpd_reader_read(reader_, &activity, &snap), RSVPD_OK);
  EXPECT_EQ(snap.capacity, 10u);
  EXPECT_EQ(snap.confirmed_seats, 7u);
  EXPECT_EQ(snap.available_seats, 3u);
  EXPECT_EQ(snap.waitlist_length, 2u);
  EXPECT_EQ(snap.waitlisted_seats, 5u);
  EXPECT_EQ(snap.status, uint32_t{RSVPD_STATUS_CLOSED});
  EXPECT_EQ(snap.version, 4u);
  EXPECT_EQ(snap.last_audit_seq, 99u);
}

TEST_F(ReaderTest, ReportsMissingSegmentActivityAndBadArguments) {
  rsvpd_reader* reader = nullptr;
  EXPECT_EQ(rsvpd_reader_open("rsvpd-test-no-such-segment", &reader), RSVPD_NO_SEGMENT);
  EXPECT_EQ(rsvpd_reader_open("", &reader), RSVPD_INVALID_ARGUMENT);
  EXPECT_EQ(rsvpd_reader_open(nullptr, &reader), RSVPD_INVALID_ARGUMENT);
  open_reader();
  rsvpd_activity activity;
  EXPECT_EQ(rsvpd_reader_find(reader_, "absent", &activity), RSVPD_NO_ACTIVITY);
  EXPECT_EQ(rsvpd_reader_find(reader_, "", &activity), RSVPD_INVALID_ARGUMENT);
  const std::string too_long(RSVPD_ACTIVITY_ID_BYTES_MAX + 1, 'a');
  EXPECT_EQ(rsvpd_reader_find(reader_, too_long.c_str(), &activity), RSVPD_INVALID_ARGUMENT);
  EXPECT_EQ(rsvpd_reader_wait(reader_, 0, -1), RSVPD_INVALID_ARGUMENT);
  EXPECT_STRNE(rsvpd_strerror(RSVPD_BUSY), rsvpd_strerror(12345));
}

TEST_F(ReaderTest, AnArchivedActivityIsNoLongerReadable) {
  const SlotRef slot = add_activity(*segment_, "gone", {5, 1, 4, 0, 0, ActivityStatus::kOpen, 1, 1});
  open_reader();
  rsvpd_activity activity;
  ASSERT_EQ(rsvpd_reader_find(reader_, "gone", &activity), RSVPD_OK);
  segment_->retire(slot);
  rsvpd_snapshot snap;
  EXPECT_EQ(rsvpd_reader_read(reader_, &activity, &snap), RSVPD_NO_ACTIVITY);
}

TEST_F(ReaderTest, APublisherThatDiedMidWriteGivesBusyNotAHang) {
  const SlotRef slot = add_activity(*segment_, "torn", {5, 1, 4, 0, 0, ActivityStatus::kOpen, 1, 1});
  open_reader();
  rsvpd_activity activity;
  ASSERT_EQ(rsvpd_reader_find(reader_, "torn", &activity), RSVPD_OK);
  segment_->slot(slot).snapshot.sequence.fetch_add(1, std::memory_order_release);  // Odd forever.
  rsvpd_snapshot snap;
  EXPECT_EQ(rsvpd_reader_read(reader_, &activity, &snap), RSVPD_BUSY);
}

TEST_F(ReaderTest, WaitReturnsOnChangeAndTimesOutOtherwise) {
  open_reader();
  const uint32_t seen = rsvpd_reader_change_counter(reader_);
  EXPECT_EQ(rsvpd_reader_wait(reader_, seen, 10), RSVPD_TIMEOUT);
  announce_change(segment_->header());
  EXPECT_EQ(rsvpd_reader_wait(reader_, seen, 1000), RSVPD_OK);
  EXPECT_EQ(rsvpd_reader_change_counter(reader_), seen + 1);
}

TEST_F(ReaderTest, ALiveDaemonChecksOkAndAStaleOneStalled) {
  open_reader();
  rsvpd_daemon_info info;
  EXPECT_EQ(rsvpd_reader_check_daemon(reader_, 0, &info), RSVPD_OK);
  EXPECT_EQ(info.pid, getpid());
  segment_->header().heartbeat_ms.store(0, std::memory_order_relaxed);  // Stopped beating.
  EXPECT_EQ(rsvpd_reader_check_daemon(reader_, 0, &info), RSVPD_DAEMON_STALLED);
  segment_->mark_stopped();
  EXPECT_EQ(rsvpd_reader_check_daemon(reader_, 0, &info), RSVPD_DAEMON_STOPPED);
}

TEST_F(ReaderTest, ARestartedDaemonIsDetectedAndReattachRefindsByIdentity) {
  add_activity(*segment_, "a", {5, 1, 4, 0, 0, ActivityStatus::kOpen, 1, 1});
  open_reader();
  rsvpd_activity activity;
  ASSERT_EQ(rsvpd_reader_find(reader_, "a", &activity), RSVPD_OK);
  // The new instance holds other activities first, so "a" may land in another slot.
  auto restarted = create_segment(name_);
  for (int i = 0; i < 5; ++i) {
    add_activity(*restarted, "other-" + std::to_string(i), {3, 0, 3, 0, 0, ActivityStatus::kOpen, 1, 1});
  }
  add_activity(*restarted, "a", {6, 2, 4, 0, 0, ActivityStatus::kOpen, 2, 8});
  EXPECT_EQ(rsvpd_reader_check_daemon(reader_, 0, nullptr), RSVPD_DAEMON_RESTARTED);
  ASSERT_EQ(rsvpd_reader_reattach(reader_), RSVPD_OK);
  EXPECT_EQ(rsvpd_reader_check_daemon(reader_, 0, nullptr), RSVPD_OK);
  rsvpd_snapshot snap;
  ASSERT_EQ(rsvpd_reader_read(reader_, &activity, &snap), RSVPD_OK);
  EXPECT_EQ(snap.capacity, 6u);
  EXPECT_EQ(snap.last_audit_seq, 8u);
  segment_ = std::move(restarted);
}

TEST(ReaderDeadDaemonTest, ADaemonWhoseProcessIsGoneIsDead) {
  const std::string name = testing::unique_segment_name("reader-dead");
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SegmentOpenError error;
    auto segment = Segment::create(name, kActivitiesMax, &error);
    _exit(segment != nullptr ? 0 : 1);  // Dies without removing the segment, like kill -9.
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_EQ(WEXITSTATUS(status), 0);
  rsvpd_reader* reader = nullptr;
  ASSERT_EQ(rsvpd_reader_open(name.c_str(), &reader), RSVPD_OK);
  EXPECT_EQ(rsvpd_reader_check_daemon(reader, 0, nullptr), RSVPD_DAEMON_DEAD);
  rsvpd_reader_close(reader);
  Segment::remove(name);
}

// RSVPD_BIN_DIR (set by ctest), else this test's own directory: both live in <build>/bin.
std::string example_path() {
  const char* dir = std::getenv("RSVPD_BIN_DIR");
  if (dir != nullptr && dir[0] != '\0') return std::string(dir) + "/capacity_watch";
  return std::filesystem::canonical("/proc/self/exe").parent_path().string() + "/capacity_watch";
}

TEST_F(ReaderTest, TheCExamplePrintsEachPublishedChange) {
  const SlotRef slot = add_activity(*segment_, "yoga", {10, 1, 9, 0, 0, ActivityStatus::kOpen, 1, 1});
  const std::string command = example_path() + " -n " + name_ + " -c 2 -t 200 yoga";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[512];
  ASSERT_NE(fgets(line, sizeof line, pipe), nullptr);
  EXPECT_STREQ(line, "yoga capacity=10 confirmed=1 available=9 waitlist=0 waitlisted_seats=0 "
                     "status=open version=1 seq=1\n");
  publish_snapshot(segment_->slot(slot), {10, 3, 7, 1, 2, ActivityStatus::kOpen, 1, 3});
  announce_change(segment_->header());
  ASSERT_NE(fgets(line, sizeof line, pipe), nullptr);
  EXPECT_STREQ(line, "yoga capacity=10 confirmed=3 available=7 waitlist=1 waitlisted_seats=2 "
                     "status=open version=1 seq=3\n");
  const int status = pclose(pipe);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ReaderTest, TheCExampleExitsThreeForAnUnknownActivity) {
  const std::string command = example_path() + " -n " + name_ + " nope 2>/dev/null";
  const int status = std::system(command.c_str());
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

}  // namespace
}  // namespace rsvpd::shm
