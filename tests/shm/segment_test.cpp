#include "shm/segment.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "shm/admission.h"
#include "tests/shm/test_segment_name.h"

namespace rsvpd::shm {
namespace {

using testing::unique_segment_name;

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override { name_ = unique_segment_name("segment"); }
  void TearDown() override { Segment::remove(name_); }

  std::unique_ptr<Segment> create(uint32_t activities_max) {
    SegmentOpenError error;
    auto segment = Segment::create(name_, activities_max, &error);
    EXPECT_NE(segment, nullptr) << error.message;
    return segment;
  }
  static InsertResult insert(Segment& segment, std::string_view id) {
    return segment.insert(id, [](ActivitySlot& slot) {
      initialize_slot(slot, ActivitySettings{}, 0, 0);
    });
  }

  std::string name_;
};

TEST_F(SegmentTest, CreateWritesAVersionedHeaderWithMagic) {
  auto segment = create(10);
  const SegmentHeader& header = segment->header();
  EXPECT_EQ(header.magic.load(), kSegmentMagic);
  EXPECT_EQ(header.layout_version.load(), kLayoutVersion);
  EXPECT_EQ(header.slot_count.load(), 32u);  // Next power of two >= 2 * 10.
  EXPECT_EQ(header.daemon_pid.load(), getpid());
  EXPECT_GT(header.start_time_ns.load(), 0);
  EXPECT_EQ(segment->slot_count(), 32u);
  EXPECT_LT(segment->heartbeat_age_ms(), 10'000);
}

TEST_F(SegmentTest, RejectsBadNamesAndSizes) {
  SegmentOpenError error;
  EXPECT_EQ(Segment::create("bad/name", 10, &error), nullptr);
  EXPECT_EQ(error.code, SegmentError::kInvalidArgument);
  EXPECT_EQ(Segment::create(name_, 0, &error), nullptr);
  EXPECT_EQ(error.code, SegmentError::kInvalidArgument);
  EXPECT_EQ(Segment::create("", 10, &error), nullptr);
  EXPECT_EQ(error.code, SegmentError::kInvalidArgument);
}

TEST_F(SegmentTest, OpenReadOnlyOfAMissingSegmentSaysNotFound) {
  SegmentOpenError error;
  EXPECT_EQ(Segment::open_read_only(name_, &error), nullptr);
  EXPECT_EQ(error.code, SegmentError::kNotFound) << error.message;
}

TEST_F(SegmentTest, InsertThenFindFromAReadOnlyMapping) {
  auto segment = create(100);
  for (int i = 0; i < 100; ++i) {
    const auto result = insert(*segment, "activity-" + std::to_string(i));
    ASSERT_EQ(result.outcome, InsertOutcome::kInserted) << i;
  }
  SegmentOpenError error;
  auto reader = Segment::open_read_only(name_, &error);
  ASSERT_NE(reader, nullptr) << error.message;
  EXPECT_TRUE(reader->read_only());
  for (int i = 0; i < 100; ++i) {
    const std::string id = "activity-" + std::to_string(i);
    const auto found = reader->find(id);
    ASSERT_TRUE(found.has_value()) << id;
    EXPECT_EQ(found, segment->find(id));
    char buffer[kActivityIdBytesMax];
    EXPECT_EQ(std::string(buffer, reader->read_id(*found, buffer)), id);
  }
  EXPECT_FALSE(reader->find("activity-100").has_value());
  EXPECT_FALSE(reader->find("").has_value());
  EXPECT_FALSE(reader->find(std::string(65, 'x')).has_value());
}

TEST_F(SegmentTest, InsertOfALiveIdReturnsTheExistingSlot) {
  auto segment = create(4);
  const auto first = insert(*segment, "a");
  const auto second = insert(*segment, "a");
  EXPECT_EQ(second.outcome, InsertOutcome::kExists);
  EXPECT_EQ(second.slot, first.slot);
}

TEST_F(SegmentTest, MaximumLengthIdsRoundTrip) {
  auto segment = create(4);
  const std::string longest(kActivityIdBytesMax, 'z');
  ASSERT_EQ(insert(*segment, longest).outcome, InsertOutcome::kInserted);
  EXPECT_TRUE(segment->find(longest).has_value());
  EXPECT_FALSE(segment->find(longest.substr(1)).has_value());
}

TEST_F(SegmentTest, TableFullAtActivitiesMaxAndRetiredSlotsStayUsed) {
  auto segment = create(3);
  for (const char* id : {"a", "b", "c"}) {
    ASSERT_EQ(insert(*segment, id).outcome, InsertOutcome::kInserted);
  }
  EXPECT_EQ(insert(*segment, "d").outcome, InsertOutcome::kTableFull);
  EXPECT_FALSE(segment->has_room_for(1));
  // Archiving frees a live place, so one more activity fits...
  segment->retire(*segment->find("a"));
  EXPECT_FALSE(segment->find("a").has_value());
  EXPECT_TRUE(segment->find("b").has_value());
  EXPECT_EQ(segment->header().live_activities.load(), 2u);
  EXPECT_TRUE(segment->has_room_for(1));
  EXPECT_FALSE(segment->has_room_for(2));
  EXPECT_EQ(insert(*segment, "d").outcome, InsertOutcome::kInserted);
  // ...but tombstones are not reused during a run, so the load limit still binds (8 slots, 75%).
  EXPECT_EQ(segment->header().used_slots.load(), 4u);
  segment->retire(*segment->find("b"));
  EXPECT_EQ(insert(*segment, "e").outcome, InsertOutcome::kInserted);
  segment->retire(*segment->find("c"));
  EXPECT_EQ(insert(*segment, "f").outcome, InsertOutcome::kInserted);
  segment->retire(*segment->find("d"));
  EXPECT_EQ(insert(*segment, "g").outcome, InsertOutcome::kTableFull);  // 6 of 8 used.
}

TEST_F(SegmentTest, LookupsProbePastTombstones) {
  auto segment = create(64);
  // Enough ids that some share probe chains; retire every other one, all others stay findable.
  for (int i = 0; i < 64; ++i) insert(*segment, "x" + std::to_string(i));
  for (int i = 0; i < 64; i += 2) segment->retire(*segment->find("x" + std::to_string(i)));
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(segment->find("x" + std::to_string(i)).has_value(), i % 2 == 1) << i;
  }
}

TEST_F(SegmentTest, RecreationIsDetectedByOldReaders) {
  auto first = create(4);
  SegmentOpenError error;
  auto reader = Segment::open_read_only(name_, &error);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(reader->is_current_instance());
  // A restarted daemon recreates the segment under the same name; the old mapping stays valid
  // but is no longer the current instance.
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    SegmentOpenError child_error;
    auto second = Segment::create(name_, 4, &child_error);
    _exit(second == nullptr ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_FALSE(reader->is_current_instance());
  auto reattached = Segment::open_read_only(name_, &error);
  ASSERT_NE(reattached, nullptr);
  EXPECT_TRUE(reattached->is_current_instance());
  EXPECT_EQ(reattached->header().daemon_pid.load(), child);
}

TEST_F(SegmentTest, RemovedSegmentIsNotCurrent) {
  auto segment = create(4);
  SegmentOpenError error;
  auto reader = Segment::open_read_only(name_, &error);
  ASSERT_NE(reader, nullptr);
  EXPECT_TRUE(Segment::remove(name_));
  EXPECT_FALSE(reader->is_current_instance());
  EXPECT_FALSE(Segment::remove(name_));
}

TEST_F(SegmentTest, MarkStoppedIsVisibleToReaders) {
  auto segment = create(4);
  SegmentOpenError error;
  auto reader = Segment::open_read_only(name_, &error);
  EXPECT_EQ(reader->header().stopped.load(), 0u);
  segment->mark_stopped();
  EXPECT_EQ(reader->header().stopped.load(), 1u);
}

}  // namespace
}  // namespace rsvpd::shm
