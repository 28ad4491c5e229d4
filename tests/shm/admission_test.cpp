#include "shm/admission.h"

#include <gtest/gtest.h>

#include <memory>

namespace rsvpd::shm {
namespace {

// The protocol works on a slot wherever it lives; these unit tests use one on the heap.
class AdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override { slot_ = std::make_unique<ActivitySlot>(); }
  void init(const ActivitySettings& settings, uint32_t taken = 0, uint32_t waiting = 0) {
    initialize_slot(*slot_, settings, taken, waiting);
  }
  AdmissionWord word() const { return load_admission_word(*slot_); }
  static ActivitySettings capacity(uint32_t seats) {
    ActivitySettings settings;
    settings.capacity = seats;
    settings.max_guests = 10;
    return settings;
  }

  std::unique_ptr<ActivitySlot> slot_;
  static constexpr int64_t kNow = 1'000'000;
};

TEST_F(AdmissionTest, ConfirmsWhileTheWholePartyFitsThenWaitlists) {
  init(capacity(5));
  EXPECT_EQ(admit(*slot_, 2, kNow).outcome, AdmitOutcome::kConfirmed);  // 3 seats.
  EXPECT_EQ(admit(*slot_, 1, kNow).outcome, AdmitOutcome::kConfirmed);  // 5 seats.
  EXPECT_EQ(word().taken, 5u);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);
  EXPECT_EQ(word().waiting, 1u);
}

TEST_F(AdmissionTest, ANewcomerNeverOvertakesAWaitingParty) {
  init(capacity(5));
  ASSERT_EQ(admit(*slot_, 3, kNow).outcome, AdmitOutcome::kConfirmed);   // 4 of 5.
  ASSERT_EQ(admit(*slot_, 1, kNow).outcome, AdmitOutcome::kWaitlisted);  // 2 do not fit.
  // One seat is free and a party of one fits, but a party waits: it must wait too.
  const AdmitResult result = admit(*slot_, 0, kNow);
  EXPECT_EQ(result.outcome, AdmitOutcome::kWaitlisted);
  EXPECT_EQ(result.observed.waiting, 1u);
  EXPECT_EQ(word(), (AdmissionWord{4, 2, word().epoch}));
}

TEST_F(AdmissionTest, FullWhenWaitlistIsOffOrAtItsLimit) {
  ActivitySettings settings = capacity(1);
  settings.waitlist_enabled = false;
  init(settings);
  ASSERT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kConfirmed);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kFull);

  settings.waitlist_enabled = true;
  settings.waitlist_limit = 2;
  ASSERT_EQ(change_settings(*slot_, settings), SettingsChangeOutcome::kApplied);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kFull);
  EXPECT_EQ(word().waiting, 2u);
}

TEST_F(AdmissionTest, WaitlistJoinsStopAtTheFieldLimit) {
  init(capacity(1), 1, static_cast<uint32_t>(kWaitingMax));
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kFull);
  EXPECT_EQ(word().waiting, kWaitingMax);
}

TEST_F(AdmissionTest, ValidationOutcomesComeBeforeStateOutcomes) {
  ActivitySettings settings = capacity(3);
  settings.max_guests = 1;
  settings.status = ActivityStatus::kClosed;
  init(settings);
  EXPECT_EQ(admit(*slot_, 2, kNow).outcome, AdmitOutcome::kTooManyGuests);
  settings.max_guests = 5;
  ASSERT_EQ(change_settings(*slot_, settings), SettingsChangeOutcome::kApplied);
  EXPECT_EQ(admit(*slot_, 3, kNow).outcome, AdmitOutcome::kPartyTooLarge);  // 4 > 3 seats.
  EXPECT_EQ(admit(*slot_, 2, kNow).outcome, AdmitOutcome::kClosed);
  EXPECT_EQ(word().taken, 0u);
}

TEST_F(AdmissionTest, ClosedArchivedAndTheRsvpWindow) {
  ActivitySettings settings = capacity(3);
  settings.rsvp_opens_at_ms = kNow;
  settings.rsvp_closes_at_ms = kNow + 10;
  init(settings);
  EXPECT_EQ(admit(*slot_, 0, kNow - 1).outcome, AdmitOutcome::kClosed);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kConfirmed);
  EXPECT_EQ(admit(*slot_, 0, kNow + 9).outcome, AdmitOutcome::kConfirmed);
  EXPECT_EQ(admit(*slot_, 0, kNow + 10).outcome, AdmitOutcome::kClosed);
  settings.status = ActivityStatus::kArchived;
  ASSERT_EQ(change_settings(*slot_, settings), SettingsChangeOutcome::kApplied);
  EXPECT_EQ(admit(*slot_, 0, kNow + 5).outcome, AdmitOutcome::kArchived);
  EXPECT_EQ(word().taken, 2u);
}

TEST_F(AdmissionTest, UndoGivesBackExactlyWhatWasTaken) {
  init(capacity(4));
  const AdmitResult confirmed = admit(*slot_, 2, kNow);
  ASSERT_EQ(confirmed.outcome, AdmitOutcome::kConfirmed);
  const AdmitResult waitlisted = admit(*slot_, 1, kNow);
  ASSERT_EQ(waitlisted.outcome, AdmitOutcome::kWaitlisted);
  const uint32_t epoch = word().epoch;
  undo_admission(*slot_, AdmitOutcome::kWaitlisted, 2);
  EXPECT_EQ(word(), (AdmissionWord{3, 0, epoch}));
  undo_admission(*slot_, AdmitOutcome::kConfirmed, 3);
  EXPECT_EQ(word(), (AdmissionWord{0, 0, epoch}));
  // With nobody waiting any more, a newcomer confirms again.
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kConfirmed);
}

TEST_F(AdmissionTest, PromotionTakesSeatsOnlyWhenTheyFitAndReleaseFollowsTheCommit) {
  init(capacity(5), 4, 1);  // One waiting party of 2 does not fit in the one free seat.
  EXPECT_FALSE(take_seats_for_promotion(*slot_, 2, 5));
  // A cancel of 3 seats commits: the writer hands 2 of them straight to the head and releases
  // the unused seat plus the promoted party's waiting place after the commit.
  release_committed(*slot_, 1, 1);
  EXPECT_EQ(word().taken, 3u);
  EXPECT_EQ(word().waiting, 0u);
  EXPECT_TRUE(take_seats_for_promotion(*slot_, 2, 5));
  EXPECT_EQ(word().taken, 5u);
  release_committed(*slot_, 0, 0);  // No-op.
  EXPECT_EQ(word().taken, 5u);
}

TEST_F(AdmissionTest, PromotionUnderARaiseNotYetInstalledUsesTheCommittingCapacity) {
  init(capacity(5), 5, 1);  // Full; the raise to 7 commits together with the promotion.
  EXPECT_FALSE(take_seats_for_promotion(*slot_, 2, 5));
  EXPECT_TRUE(take_seats_for_promotion(*slot_, 2, 7));
  EXPECT_EQ(word().taken, 7u);
  // Newcomers still decide under the installed capacity of 5: nothing fits, a party waits.
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);
}

TEST_F(AdmissionTest, CapacityCutBelowTakenIsRefusedAndChangesNothing) {
  init(capacity(10), 6, 0);
  const AdmissionWord before = word();
  ActivitySettings lower = capacity(5);
  EXPECT_EQ(change_settings(*slot_, lower), SettingsChangeOutcome::kCapacityBelowTaken);
  EXPECT_EQ(word(), before);
  ActivitySettings settings;
  uint32_t epoch = 0;
  ASSERT_TRUE(read_settings(*slot_, settings, epoch));
  EXPECT_EQ(settings.capacity, 10u);
  EXPECT_EQ(epoch, before.epoch);
}

TEST_F(AdmissionTest, SettingsChangeFlipsTheEpochInWordAndSettingsTogether) {
  init(capacity(10), 6, 0);
  const uint32_t before = word().epoch;
  ASSERT_EQ(change_settings(*slot_, capacity(6)), SettingsChangeOutcome::kApplied);
  ActivitySettings settings;
  uint32_t epoch = 0;
  ASSERT_TRUE(read_settings(*slot_, settings, epoch));
  EXPECT_EQ(epoch, next_epoch(before));
  EXPECT_EQ(word().epoch, epoch);
  EXPECT_EQ(settings.capacity, 6u);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);  // 6 of 6 taken.
}

TEST_F(AdmissionTest, AConfirmDecidedUnderOldSettingsFailsItsCas) {
  init(capacity(10));
  // Simulate the race of rule 7: an io thread read the old word, then the writer cut capacity.
  const uint64_t stale = slot_->admission_word.load();
  ASSERT_EQ(change_settings(*slot_, capacity(1)), SettingsChangeOutcome::kApplied);
  uint64_t expected = stale;
  AdmissionWord wanted = AdmissionWord::unpack(stale);
  wanted.taken += 5;
  EXPECT_FALSE(slot_->admission_word.compare_exchange_strong(expected, wanted.pack()));
  // Deciding afresh uses the new capacity.
  EXPECT_EQ(admit(*slot_, 4, kNow).outcome, AdmitOutcome::kPartyTooLarge);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kConfirmed);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);
}

TEST_F(AdmissionTest, ContendedWhenSettingsStayMidWrite) {
  init(capacity(10));
  // A writer that died mid-update leaves the sequence odd: admission gives up, takes nothing.
  slot_->settings.sequence.fetch_add(1);
  const AdmitResult result = admit(*slot_, 0, kNow);
  EXPECT_EQ(result.outcome, AdmitOutcome::kContended);
  EXPECT_EQ(result.attempts, kAdmitAttemptsMax);
  EXPECT_EQ(word().taken, 0u);
}

TEST_F(AdmissionTest, LargestCapacityAndPartyAtTheLimits) {
  ActivitySettings settings = capacity(kCapacityMax);
  settings.max_guests = 100;
  init(settings, kCapacityMax - 101, 0);
  EXPECT_EQ(admit(*slot_, 100, kNow).outcome, AdmitOutcome::kConfirmed);
  EXPECT_EQ(word().taken, kCapacityMax);
  EXPECT_EQ(admit(*slot_, 0, kNow).outcome, AdmitOutcome::kWaitlisted);
}

}  // namespace
}  // namespace rsvpd::shm
