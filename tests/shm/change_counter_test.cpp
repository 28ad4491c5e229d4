#include "shm/change_counter.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm/segment.h"
#include "tests/shm/test_segment_name.h"

namespace rsvpd::shm {
namespace {

TEST(ChangeCounterTest, WaitTimesOutWithoutAChange) {
  SegmentHeader header{};
  const uint32_t seen = load_change_counter(header);
  EXPECT_EQ(wait_for_change(header, seen, 20), WaitOutcome::kTimedOut);
}

TEST(ChangeCounterTest, WaitReturnsAtOnceWhenTheCounterAlreadyMoved) {
  SegmentHeader header{};
  const uint32_t seen = load_change_counter(header);
  announce_change(header);
  EXPECT_EQ(wait_for_change(header, seen, 10'000), WaitOutcome::kChanged);
}

TEST(ChangeCounterTest, AnnounceWakesAWaiterInAnotherProcessOnAReadOnlyMapping) {
  const std::string name = testing::unique_segment_name("futex");
  SegmentOpenError error;
  auto segment = Segment::create(name, 4, &error);
  ASSERT_NE(segment, nullptr) << error.message;
  int ready[2];
  ASSERT_EQ(pipe(ready), 0);
  const uint32_t seen = load_change_counter(segment->header());
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto reader = Segment::open_read_only(name, &error);
    if (reader == nullptr) _exit(10);
    const char byte = 1;
    if (write(ready[1], &byte, 1) != 1) _exit(11);
    // Long timeout: only a cross-process wake ends this wait in time for a 0 exit.
    const WaitOutcome outcome = wait_for_change(reader->header(), seen, 30'000);
    _exit(outcome == WaitOutcome::kChanged ? 0 : 12);
  }
  char byte = 0;
  ASSERT_EQ(read(ready[0], &byte, 1), 1);
  usleep(50'000);  // Let the child reach the futex (an earlier announce is also a pass).
  announce_change(segment->header());
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  close(ready[0]);
  close(ready[1]);
  Segment::remove(name);
}

}  // namespace
}  // namespace rsvpd::shm
