#include "shm/admission_word.h"

#include <gtest/gtest.h>

namespace rsvpd::shm {
namespace {

TEST(AdmissionWordTest, PacksAndUnpacksEveryFieldAtItsLimits) {
  const AdmissionWord limits{static_cast<uint32_t>(kTakenMax), static_cast<uint32_t>(kWaitingMax),
                             static_cast<uint32_t>(kEpochMask)};
  EXPECT_EQ(AdmissionWord::unpack(limits.pack()), limits);
  EXPECT_EQ(limits.pack(), ~uint64_t{0});
  const AdmissionWord mixed{1'000'000, 3, 77};
  EXPECT_EQ(AdmissionWord::unpack(mixed.pack()), mixed);
  EXPECT_EQ(AdmissionWord::unpack(0), AdmissionWord{});
}

TEST(AdmissionWordTest, FieldsDoNotBleedIntoEachOther) {
  EXPECT_EQ(AdmissionWord::unpack(AdmissionWord{static_cast<uint32_t>(kTakenMax), 0, 0}.pack()).waiting, 0u);
  EXPECT_EQ(AdmissionWord::unpack(AdmissionWord{0, static_cast<uint32_t>(kWaitingMax), 0}.pack()).epoch, 0u);
  EXPECT_EQ(AdmissionWord::unpack(AdmissionWord{0, 0, static_cast<uint32_t>(kEpochMask)}.pack()).taken, 0u);
}

TEST(AdmissionWordTest, ReleaseDeltaSubtractsBothFieldsWithoutTouchingTheEpoch) {
  const AdmissionWord before{10, 4, 9};
  const AdmissionWord after = AdmissionWord::unpack(before.pack() - release_delta(3, 2));
  EXPECT_EQ(after, (AdmissionWord{7, 2, 9}));
  const AdmissionWord emptied =
      AdmissionWord::unpack(before.pack() - release_delta(10, 4));
  EXPECT_EQ(emptied, (AdmissionWord{0, 0, 9}));
}

TEST(AdmissionWordTest, EpochWrapsWithinItsBits) {
  EXPECT_EQ(next_epoch(static_cast<uint32_t>(kEpochMask)), 0u);
  EXPECT_EQ(next_epoch(5), 6u);
  // Flipping the epoch at its top value must not disturb the other fields.
  AdmissionWord word{123, 45, static_cast<uint32_t>(kEpochMask)};
  word.epoch = next_epoch(word.epoch);
  EXPECT_EQ(AdmissionWord::unpack(word.pack()), (AdmissionWord{123, 45, 0}));
}

TEST(AdmissionWordTest, CapacityLimitFitsInTaken) {
  EXPECT_GE(kTakenMax, kCapacityMax);
  EXPECT_EQ(kTakenMax, 1'048'575u);
  EXPECT_EQ(kWaitingMax, 1'048'575u);
}

}  // namespace
}  // namespace rsvpd::shm
