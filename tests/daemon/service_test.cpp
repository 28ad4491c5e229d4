// Contract rules of API.md that live in the engine, one test each, against the real Service
// (real LMDB, real segment, real writer thread).
#include "daemon/service.h"

#include <gtest/gtest.h>

#include "shm/admission.h"
#include "shm/snapshot.h"
#include "tests/daemon/service_test_support.h"

namespace rsvpd {
namespace {

using testing::admin;
using testing::host;
using testing::ServiceFixture;
using testing::user;
using testing::wait_for;

using ServiceTest = ServiceFixture;

TEST_F(ServiceTest, CreateActivityByAHostAndRejectEveryoneElse) {
  const auto created = create("gig", 10);
  ASSERT_TRUE(created.ok()) << created.message;
  EXPECT_EQ(created.value.record.host_id, "host-1");
  EXPECT_EQ(created.value.record.version, 1u);
  EXPECT_EQ(created.value.available_seats(), 10u);
  EXPECT_EQ(create("gig", 5).error, ServiceError::kActivityExists);

  NewActivity input;
  input.title = "x";
  input.capacity = 3;
  const auto by_user = wait_for<ActivityView>(
      [&](auto done) { service_->create_activity(user("u"), input, done); });
  EXPECT_EQ(by_user.error, ServiceError::kForbidden);
  input.host_id = "someone";
  const auto host_sets_host = wait_for<ActivityView>(
      [&](auto done) { service_->create_activity(host("h"), input, done); });
  EXPECT_EQ(host_sets_host.error, ServiceError::kForbidden);
  const auto by_admin = wait_for<ActivityView>(
      [&](auto done) { service_->create_activity(admin("root"), input, done); });
  ASSERT_TRUE(by_admin.ok());
  EXPECT_EQ(by_admin.value.record.host_id, "someone");
  EXPECT_EQ(by_admin.value.record.id.rfind("a_", 0), 0u);  // Assigned by the server.
}

TEST_F(ServiceTest, ConfirmsWhileThePartyFitsThenWaitlistsInOrder) {
  ASSERT_TRUE(create("gig", 4).ok());
  const auto a = rsvp("gig", "alice", 1);  // A party of 2.
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.value.rsvp.record.status, RsvpStatus::kConfirmed);
  EXPECT_EQ(a.value.rsvp.waitlist_position, 0u);
  const auto b = rsvp("gig", "bob", 1);  // 2 more seats: still fits exactly.
  EXPECT_EQ(b.value.rsvp.record.status, RsvpStatus::kConfirmed);
  const auto c = rsvp("gig", "carol", 1);
  EXPECT_EQ(c.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  EXPECT_EQ(c.value.rsvp.waitlist_position, 1u);
  const auto d = rsvp("gig", "dave", 0);
  EXPECT_EQ(d.value.rsvp.waitlist_position, 2u);
  const auto activity = service_->get_activity("gig");
  EXPECT_EQ(activity.value.record.confirmed_seats, 4u);
  EXPECT_EQ(activity.value.record.waitlist_length, 2u);
  EXPECT_EQ(activity.value.record.waitlisted_seats, 3u);
}

TEST_F(ServiceTest, ANewcomerJoinsTheWaitlistEvenWhenItWouldFit) {
  ASSERT_TRUE(create("gig", 5).ok());
  ASSERT_EQ(rsvp("gig", "a", 3).value.rsvp.record.status, RsvpStatus::kConfirmed);  // 4 seats.
  ASSERT_EQ(rsvp("gig", "b", 1).value.rsvp.record.status, RsvpStatus::kWaitlisted);  // 2 > 1.
  // One seat is free and a party of one fits, but a party is waiting.
  EXPECT_EQ(rsvp("gig", "c", 0).value.rsvp.record.status, RsvpStatus::kWaitlisted);
}

TEST_F(ServiceTest, FullWhenTheWaitlistIsOffOrAtItsLimit) {
  ASSERT_TRUE(create("off", 1, 5, false).ok());
  ASSERT_TRUE(rsvp("off", "a").ok());
  EXPECT_EQ(rsvp("off", "b").error, ServiceError::kActivityFull);
  ASSERT_TRUE(create("limited", 1, 5, true, 1).ok());
  ASSERT_TRUE(rsvp("limited", "a").ok());
  EXPECT_EQ(rsvp("limited", "b").value.rsvp.record.status, RsvpStatus::kWaitlisted);
  EXPECT_EQ(rsvp("limited", "c").error, ServiceError::kActivityFull);
}

TEST_F(ServiceTest, GuestsAndPartySizeAreFieldErrors) {
  ASSERT_TRUE(create("gig", 3, 2).ok());
  const auto too_many = rsvp("gig", "a", 3);
  EXPECT_EQ(too_many.error, ServiceError::kInvalidField);
  EXPECT_EQ(too_many.field, "guests");
  ActivityPatch more_guests;
  more_guests.max_guests = 10;
  ASSERT_TRUE(patch("gig", more_guests).ok());
  EXPECT_EQ(rsvp("gig", "a", 3).error, ServiceError::kInvalidField);  // 4 seats > capacity 3.
  EXPECT_EQ(service_->get_activity("gig").value.record.confirmed_seats, 0u);
}

TEST_F(ServiceTest, UnknownActivityAndOnBehalfRules) {
  EXPECT_EQ(rsvp("nope", "a").error, ServiceError::kActivityNotFound);
  ASSERT_TRUE(create("gig", 3).ok());
  NewRsvp on_behalf;
  on_behalf.activity_id = "gig";
  on_behalf.user_id = "victim";
  const auto by_user = wait_for<RsvpCreated>(
      [&](auto done) { service_->create_rsvp(user("mallory"), on_behalf, done); });
  EXPECT_EQ(by_user.error, ServiceError::kForbidden);
  const auto by_admin = wait_for<RsvpCreated>(
      [&](auto done) { service_->create_rsvp(admin("root"), on_behalf, done); });
  ASSERT_TRUE(by_admin.ok());
  EXPECT_EQ(by_admin.value.rsvp.record.user_id, "victim");
}

TEST_F(ServiceTest, ClosedStatusAndTheRsvpWindowStopNewRsvpsButNotCancels) {
  ASSERT_TRUE(create("gig", 1).ok());
  const auto first = rsvp("gig", "a");
  const auto second = rsvp("gig", "b");
  ASSERT_EQ(second.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  ActivityPatch close;
  close.status = ActivityStatus::kClosed;
  ASSERT_TRUE(patch("gig", close).ok());
  EXPECT_EQ(rsvp("gig", "c").error, ServiceError::kRsvpClosed);
  // A cancellation still works and still promotes.
  ASSERT_TRUE(cancel(first.value.rsvp.record.id, user("a")).ok());
  EXPECT_EQ(get(second.value.rsvp.record.id).value.record.status, RsvpStatus::kConfirmed);

  ActivityPatch window;
  window.status = ActivityStatus::kOpen;
  window.rsvp_opens_at_ms = std::optional<int64_t>(clock_.now_ms() + 1000);
  window.rsvp_closes_at_ms = std::optional<int64_t>(clock_.now_ms() + 2000);
  ASSERT_TRUE(patch("gig", window).ok());
  EXPECT_EQ(rsvp("gig", "d").error, ServiceError::kRsvpClosed);
  clock_.advance_ms(1500);
  EXPECT_TRUE(rsvp("gig", "d").ok());
  clock_.advance_ms(1000);
  EXPECT_EQ(rsvp("gig", "e").error, ServiceError::kRsvpClosed);
}

TEST_F(ServiceTest, OneLiveRsvpPerUserAndANewOneAfterCancelGoesToTheBack) {
  ASSERT_TRUE(create("gig", 1).ok());
  const auto first = rsvp("gig", "a");
  ASSERT_TRUE(first.ok());
  const auto again = rsvp("gig", "a");
  EXPECT_EQ(again.error, ServiceError::kAlreadyRsvped);
  EXPECT_EQ(again.conflicting_rsvp_id, first.value.rsvp.record.id);
  ASSERT_TRUE(rsvp("gig", "b").ok());  // Waits.
  ASSERT_TRUE(cancel(first.value.rsvp.record.id, user("a")).ok());
  const auto back = rsvp("gig", "a");
  ASSERT_TRUE(back.ok());
  EXPECT_NE(back.value.rsvp.record.id, first.value.rsvp.record.id);
  // b was promoted into a's seat; a is now behind, at the back.
  EXPECT_EQ(back.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  EXPECT_EQ(back.value.rsvp.waitlist_position, 1u);
}

TEST_F(ServiceTest, CancelPromotesTheHeadOnlyAndNobodyPassesAHeadThatDoesNotFit) {
  ASSERT_TRUE(create("gig", 4).ok());
  const auto a = rsvp("gig", "a", 1);  // 2 seats.
  const auto b = rsvp("gig", "b", 1);  // 2 seats: full.
  const auto big = rsvp("gig", "big", 2);   // Waits: 3 seats.
  const auto small = rsvp("gig", "small");  // Waits behind it: 1 seat.
  ASSERT_EQ(small.value.rsvp.waitlist_position, 2u);
  ASSERT_TRUE(cancel(a.value.rsvp.record.id, user("a")).ok());
  // 2 free seats: the head needs 3, and the small party behind it must not pass.
  EXPECT_EQ(get(big.value.rsvp.record.id).value.record.status, RsvpStatus::kWaitlisted);
  EXPECT_EQ(get(small.value.rsvp.record.id).value.record.status, RsvpStatus::kWaitlisted);
  ASSERT_TRUE(cancel(b.value.rsvp.record.id, host("host-1")).ok());
  // 4 free: the head (3) then the next (1), in order.
  EXPECT_EQ(get(big.value.rsvp.record.id).value.record.status, RsvpStatus::kConfirmed);
  EXPECT_EQ(get(small.value.rsvp.record.id).value.record.status, RsvpStatus::kConfirmed);
  const auto audit = service_->audit(admin("root"), "gig", 0, 100);
  ASSERT_TRUE(audit.ok());
  std::vector<uint64_t> promoted;
  for (const auto& entry : audit.value.entries) {
    if (entry.op == AuditOp::kRsvpPromoted) promoted.push_back(entry.rsvp_id);
  }
  EXPECT_EQ(promoted, (std::vector<uint64_t>{big.value.rsvp.record.id, small.value.rsvp.record.id}));
}

TEST_F(ServiceTest, CancellingAWaitingHeadLetsTheNextOneInWhenItFits) {
  ASSERT_TRUE(create("gig", 3).ok());
  ASSERT_TRUE(rsvp("gig", "a", 1).ok());      // 2 of 3.
  const auto head = rsvp("gig", "head", 1);   // 2 seats: waits.
  const auto next = rsvp("gig", "next");      // 1 seat: fits, but waits behind the head.
  ASSERT_EQ(next.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  ASSERT_TRUE(cancel(head.value.rsvp.record.id, user("head")).ok());
  EXPECT_EQ(get(next.value.rsvp.record.id).value.record.status, RsvpStatus::kConfirmed);
}

TEST_F(ServiceTest, CancelTwiceAnswersTheCancelledRsvpUnchanged) {
  ASSERT_TRUE(create("gig", 3).ok());
  const auto a = rsvp("gig", "a");
  const auto first = cancel(a.value.rsvp.record.id, user("a"));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first.value.record.status, RsvpStatus::kCancelled);
  clock_.advance_ms(5000);
  const auto second = cancel(a.value.rsvp.record.id, user("a"));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second.value.record, first.value.record);
  EXPECT_EQ(cancel(a.value.rsvp.record.id, user("stranger")).error, ServiceError::kForbidden);
  EXPECT_EQ(cancel(999, user("a")).error, ServiceError::kRsvpNotFound);
}

TEST_F(ServiceTest, CapacityChangeRules) {
  ASSERT_TRUE(create("gig", 4, 5).ok());
  ASSERT_TRUE(rsvp("gig", "a", 2).ok());   // 3 confirmed.
  const auto waiting = rsvp("gig", "w", 2);  // 3 seats: waits.
  ASSERT_EQ(waiting.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  ActivityPatch cut;
  cut.capacity = 2;
  EXPECT_EQ(patch("gig", cut).error, ServiceError::kCapacityBelowConfirmed);
  ActivityPatch raise;
  raise.capacity = 6;
  const auto raised = patch("gig", raise);
  ASSERT_TRUE(raised.ok());
  EXPECT_EQ(raised.value.record.version, 2u);
  // Raising promotes in the same commit.
  EXPECT_EQ(get(waiting.value.rsvp.record.id).value.record.status, RsvpStatus::kConfirmed);
  const auto next = rsvp("gig", "x", 2);  // 3 seats, 0 free: waits.
  ASSERT_EQ(next.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  ActivityPatch below_party;
  below_party.capacity = 2;
  // 6 confirmed makes this capacity-below-confirmed first; cancel to test the party rule.
  ASSERT_TRUE(cancel(waiting.value.rsvp.record.id, user("w")).ok());
  // x was promoted into w's seats, so cancel x and make a new waiting party of 3.
  ASSERT_TRUE(cancel(next.value.rsvp.record.id, user("x")).ok());
  ASSERT_TRUE(rsvp("gig", "y", 2).ok());  // 3 confirmed + 3 = 6 of 6.
  const auto big_waiter = rsvp("gig", "z", 2);
  ASSERT_EQ(big_waiter.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  const auto snapshot_before = service_->capacity("gig", std::nullopt).value;
  ActivityPatch stale;
  stale.title = "new";
  stale.if_match_version = 1;
  EXPECT_EQ(patch("gig", stale).error, ServiceError::kVersionMismatch);
  ActivityPatch cut_party;
  cut_party.capacity = 6;  // No change in capacity: fine.
  EXPECT_TRUE(patch("gig", cut_party).ok());
  EXPECT_EQ(service_->capacity("gig", std::nullopt).value.confirmed_seats,
            snapshot_before.confirmed_seats);
}

TEST_F(ServiceTest, CapacityBelowAWaitingPartyIsRefused) {
  ASSERT_TRUE(create("gig", 5, 5).ok());
  const auto a = rsvp("gig", "a");        // 1 confirmed.
  ASSERT_TRUE(rsvp("gig", "b", 3).ok());  // 5 confirmed.
  ASSERT_TRUE(rsvp("gig", "c", 4).ok());  // 5 seats: waits.
  ASSERT_TRUE(cancel(a.value.rsvp.record.id, user("a")).ok());  // 4 confirmed.
  ActivityPatch cut;
  cut.capacity = 4;  // >= confirmed 4, but the waiting party has 5 seats.
  const auto refused = patch("gig", cut);
  EXPECT_EQ(refused.error, ServiceError::kCapacityBelowWaitingParty);
  EXPECT_EQ(service_->get_activity("gig").value.record.capacity, 5u);
  EXPECT_EQ(service_->get_activity("gig").value.record.version, 1u);
}

TEST_F(ServiceTest, WaitlistOffKeepsWaitingPartiesAndStillPromotesThem) {
  ASSERT_TRUE(create("gig", 1).ok());
  const auto a = rsvp("gig", "a");
  const auto b = rsvp("gig", "b");
  ActivityPatch off;
  off.waitlist_enabled = false;
  ASSERT_TRUE(patch("gig", off).ok());
  EXPECT_EQ(rsvp("gig", "c").error, ServiceError::kActivityFull);
  ASSERT_TRUE(cancel(a.value.rsvp.record.id, user("a")).ok());
  EXPECT_EQ(get(b.value.rsvp.record.id).value.record.status, RsvpStatus::kConfirmed);
}

TEST_F(ServiceTest, ArchivedActivitiesAreReadOnlyAndLeaveTheSegment) {
  ASSERT_TRUE(create("gig", 2).ok());
  const auto a = rsvp("gig", "a");
  ActivityPatch archive;
  archive.status = ActivityStatus::kArchived;
  ASSERT_TRUE(patch("gig", archive).ok());
  EXPECT_EQ(rsvp("gig", "b").error, ServiceError::kActivityArchived);
  EXPECT_EQ(cancel(a.value.rsvp.record.id, user("a")).error, ServiceError::kActivityArchived);
  ActivityPatch reopen;
  reopen.status = ActivityStatus::kOpen;
  EXPECT_EQ(patch("gig", reopen).error, ServiceError::kActivityArchived);
  // Reads keep working, from LMDB now.
  const auto capacity = service_->capacity("gig", 0);
  ASSERT_TRUE(capacity.ok());
  EXPECT_EQ(capacity.value.status, ActivityStatus::kArchived);
  EXPECT_EQ(capacity.value.confirmed_seats, 1u);
  EXPECT_FALSE(capacity.value.would_confirm);
  EXPECT_TRUE(get(a.value.rsvp.record.id).ok());
}

TEST_F(ServiceTest, IdempotentRetriesReplayAndAReusedKeyIsRefused) {
  ASSERT_TRUE(create("gig", 1).ok());
  const auto first = rsvp("gig", "a", 0, "key-1", R"({"activity_id":"gig"})");
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first.value.replayed);
  const auto replay = rsvp("gig", "a", 0, "key-1", R"({"activity_id":"gig"})");
  ASSERT_TRUE(replay.ok());
  EXPECT_TRUE(replay.value.replayed);
  EXPECT_EQ(replay.value.rsvp.record, first.value.rsvp.record);
  const auto reused = rsvp("gig", "a", 0, "key-1", R"({"activity_id":"gig","guests":0})");
  EXPECT_EQ(reused.error, ServiceError::kIdempotencyKeyReused);
  // Errors are not remembered: a key whose request failed is evaluated afresh.
  const auto full = rsvp("gig", "b", 3, "key-2", "{}");
  EXPECT_EQ(full.error, ServiceError::kInvalidField);
  // After 24 h the key is forgotten: the same key now meets the live RSVP.
  clock_.advance_ms(24 * 3600 * 1000);
  EXPECT_EQ(rsvp("gig", "a", 0, "key-1", R"({"activity_id":"gig"})").error,
            ServiceError::kAlreadyRsvped);
}

TEST_F(ServiceTest, ParticipantsListConfirmedThenWaitingAcrossPages) {
  ASSERT_TRUE(create("gig", 2).ok());
  std::vector<uint64_t> ids;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    ids.push_back(rsvp("gig", name).value.rsvp.record.id);
  }
  std::vector<uint64_t> listed;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    const auto result =
        service_->participants(host("host-1"), "gig", ParticipantFilter::kAll, 2, cursor);
    ASSERT_TRUE(result.ok()) << result.message;
    for (const auto& view : result.value.participants) listed.push_back(view.record.id);
    if (!result.value.next_cursor) break;
    cursor = *result.value.next_cursor;
  }
  EXPECT_EQ(listed, ids);
  EXPECT_EQ(service_->participants(user("a"), "gig", ParticipantFilter::kAll, 2, "").error,
            ServiceError::kForbidden);
  EXPECT_EQ(service_->participants(host("host-1"), "gig", ParticipantFilter::kAll, 2, "zz").error,
            ServiceError::kInvalidField);
  const auto waiting =
      service_->participants(host("host-1"), "gig", ParticipantFilter::kWaitlisted, 10, "");
  ASSERT_EQ(waiting.value.participants.size(), 3u);
  EXPECT_EQ(waiting.value.participants[2].waitlist_position, 3u);
}

TEST_F(ServiceTest, UserHistoryNewestFirstWithCursorAndFilter) {
  ASSERT_TRUE(create("g1", 1).ok());
  ASSERT_TRUE(create("g2", 1).ok());
  ASSERT_TRUE(create("g3", 1).ok());
  const auto r1 = rsvp("g1", "u");
  const auto r2 = rsvp("g2", "u");
  const auto r3 = rsvp("g3", "u");
  ASSERT_TRUE(cancel(r2.value.rsvp.record.id, user("u")).ok());
  const auto page1 = service_->user_rsvps(user("u"), "u", std::nullopt, 2, "");
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1.value.rsvps.size(), 2u);
  EXPECT_EQ(page1.value.rsvps[0].record.id, r3.value.rsvp.record.id);
  ASSERT_TRUE(page1.value.next_cursor.has_value());
  const auto page2 = service_->user_rsvps(user("u"), "u", std::nullopt, 2,
                                          *page1.value.next_cursor);
  ASSERT_EQ(page2.value.rsvps.size(), 1u);
  EXPECT_EQ(page2.value.rsvps[0].record.id, r1.value.rsvp.record.id);
  const auto cancelled = service_->user_rsvps(user("u"), "u", RsvpStatus::kCancelled, 10, "");
  ASSERT_EQ(cancelled.value.rsvps.size(), 1u);
  EXPECT_EQ(service_->user_rsvps(user("v"), "u", std::nullopt, 10, "").error,
            ServiceError::kForbidden);
  EXPECT_EQ(service_->user_rsvps(user("u"), "u", std::nullopt, 10, "bogus").error,
            ServiceError::kInvalidField);
}

TEST_F(ServiceTest, CapacityReadsTheCommittedSnapshotAndPredicts) {
  ASSERT_TRUE(create("gig", 3, 5).ok());
  ASSERT_TRUE(rsvp("gig", "a", 1).ok());
  auto view = service_->capacity("gig", 0);
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view.value.confirmed_seats, 2u);
  EXPECT_EQ(view.value.available_seats, 1u);
  EXPECT_TRUE(view.value.would_confirm);
  view = service_->capacity("gig", 1);
  EXPECT_FALSE(view.value.would_confirm);
  EXPECT_TRUE(view.value.would_waitlist);
  view = service_->capacity("gig", 3);  // Party of 4 > capacity 3: neither.
  EXPECT_FALSE(view.value.would_confirm);
  EXPECT_FALSE(view.value.would_waitlist);
  EXPECT_EQ(service_->capacity("nope", std::nullopt).error, ServiceError::kActivityNotFound);
}

TEST_F(ServiceTest, AuditIsGapFreeAndRecordsEveryChange) {
  ASSERT_TRUE(create("gig", 1).ok());
  const auto a = rsvp("gig", "a");
  ASSERT_TRUE(rsvp("gig", "b").ok());
  ASSERT_TRUE(cancel(a.value.rsvp.record.id, user("a")).ok());
  ActivityPatch title;
  title.title = "renamed";
  ASSERT_TRUE(patch("gig", title).ok());
  const auto audit = service_->audit(host("host-1"), "gig", 0, 100);
  ASSERT_TRUE(audit.ok());
  std::vector<AuditOp> ops;
  uint64_t expected_seq = 1;
  for (const auto& entry : audit.value.entries) {
    EXPECT_EQ(entry.seq, expected_seq++);
    ops.push_back(entry.op);
  }
  EXPECT_EQ(ops, (std::vector<AuditOp>{AuditOp::kActivityCreated, AuditOp::kRsvpConfirmed,
                                       AuditOp::kRsvpWaitlisted, AuditOp::kRsvpCancelled,
                                       AuditOp::kRsvpPromoted, AuditOp::kActivityUpdated}));
  EXPECT_EQ(audit.value.entries[1].request_id, "req-a");
  EXPECT_EQ(service_->audit(user("a"), "gig", 0, 100).error, ServiceError::kForbidden);
  const auto mine = service_->user_audit("b", 0, 100);
  ASSERT_EQ(mine.value.entries.size(), 2u);  // Waitlisted, promoted.
}

TEST_F(ServiceTest, RecoveryRebuildsSegmentPositionsAndCounters) {
  ASSERT_TRUE(create("gig", 1).ok());
  ASSERT_TRUE(rsvp("gig", "a").ok());
  const auto b = rsvp("gig", "b");
  const auto c = rsvp("gig", "c");
  reopen();
  const auto capacity = service_->capacity("gig", std::nullopt);
  ASSERT_TRUE(capacity.ok());
  EXPECT_EQ(capacity.value.confirmed_seats, 1u);
  EXPECT_EQ(capacity.value.waitlist_length, 2u);
  EXPECT_EQ(get(c.value.rsvp.record.id).value.waitlist_position, 2u);
  // Admission state came back too: a newcomer waits, ids and seqs continue.
  const auto d = rsvp("gig", "d");
  EXPECT_EQ(d.value.rsvp.record.status, RsvpStatus::kWaitlisted);
  EXPECT_GT(d.value.rsvp.record.id, c.value.rsvp.record.id);
  ASSERT_TRUE(cancel(b.value.rsvp.record.id, user("b")).ok());
  EXPECT_EQ(get(c.value.rsvp.record.id).value.waitlist_position, 1u);
  const auto audit = service_->audit(admin("root"), "gig", 0, 100);
  for (size_t i = 0; i < audit.value.entries.size(); ++i) {
    EXPECT_EQ(audit.value.entries[i].seq, i + 1);
  }
}

TEST_F(ServiceTest, ASecondServiceOnTheSameDataDirRefusesToStart) {
  ServiceOptions other = options_;
  other.shm_name = testing::unique_shm_name();
  Result<std::unique_ptr<Service>> second = Service::open(other, clock_, nullptr);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  shm::Segment::remove(other.shm_name);
}

TEST_F(ServiceTest, TheSegmentSnapshotMatchesLmdbAfterChanges) {
  ASSERT_TRUE(create("gig", 3).ok());
  ASSERT_TRUE(rsvp("gig", "a", 2).ok());
  ASSERT_TRUE(rsvp("gig", "b", 1).ok());
  shm::SegmentOpenError error;
  auto reader = shm::Segment::open_read_only(options_.shm_name, &error);
  ASSERT_NE(reader, nullptr) << error.message;
  const auto slot = reader->find("gig");
  ASSERT_TRUE(slot.has_value());
  shm::ActivitySnapshot snapshot;
  ASSERT_EQ(shm::read_snapshot(reader->slot(*slot), snapshot), shm::SnapshotRead::kOk);
  const auto stored = service_->get_activity("gig").value.record;
  EXPECT_EQ(snapshot.confirmed_seats, stored.confirmed_seats);
  EXPECT_EQ(snapshot.waitlist_length, stored.waitlist_length);
  EXPECT_EQ(snapshot.waitlisted_seats, stored.waitlisted_seats);
  EXPECT_EQ(snapshot.capacity, stored.capacity);
  const shm::AdmissionWord word = shm::load_admission_word(reader->slot(*slot));
  EXPECT_EQ(word.taken, stored.confirmed_seats);  // Nothing in flight: the word is exact.
  EXPECT_EQ(word.waiting, stored.waitlist_length);
}

}  // namespace
}  // namespace rsvpd
