// Multi-threaded engine stress test, checked by replaying the audit trail through a small
// sequential reference model (DESIGN.md §1): many activities plus one hot one, random parties,
// cancels, capacity changes, concurrent duplicates and idempotent retries.
//
// Checked: no overbooking at any step of the replay; every promotion takes the head of the
// waitlist (strict FIFO); one live RSVP per (user, activity); audit seq gap-free; the replayed
// state equals what the API lists; the segment snapshot equals LMDB; no duplicate ever took a
// place (negative control: RSVPD_FAULT=skip_duplicate_claim) and nothing was detected as
// overbooking.
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <latch>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "shm/segment.h"
#include "shm/snapshot.h"
#include "tests/daemon/service_test_support.h"

namespace rsvpd {
namespace {

using testing::admin;
using testing::user;

constexpr int kActivities = 12;  // Plus the hot one.
constexpr int kUsers = 60;
constexpr int kRounds = 150;
constexpr int kThreads = 4;

struct ModelActivity {
  uint32_t capacity = 0;
  std::map<uint64_t, uint32_t> confirmed;        // rsvp id → party size.
  std::deque<std::pair<uint64_t, uint32_t>> waiting;  // In ticket order.
  std::set<std::string> live_users;
  uint32_t confirmed_seats() const {
    uint32_t seats = 0;
    for (const auto& [id, party] : confirmed) seats += party;
    return seats;
  }
};

class StressTest : public testing::ServiceFixture {
 protected:
  // Capacity by activity version, recorded from every successful create/patch.
  std::mutex versions_mutex_;
  std::map<std::pair<std::string, uint64_t>, uint32_t> capacity_by_version_;
  std::mutex rsvps_mutex_;
  std::vector<std::pair<uint64_t, std::string>> rsvps_;  // (id, user) of every 201.

  void record_version(const ActivityView& view) {
    std::lock_guard lock(versions_mutex_);
    capacity_by_version_[{view.record.id, view.record.version}] = view.record.capacity;
  }

  void run_round(std::mt19937& random, const std::vector<std::string>& activities) {
    const std::string& activity = activities[random() % activities.size()];
    const std::string sub = "user-" + std::to_string(random() % kUsers);
    const uint32_t guests = random() % 3;
    const int dice = static_cast<int>(random() % 100);
    std::vector<std::function<void(std::function<void()>)>> calls;
    if (dice < 60) {
      // The same RSVP fired three times at once: a duplicate storm.
      const bool with_key = random() % 2 == 0;
      const std::string key = "k-" + std::to_string(random());
      for (int copy = 0; copy < 3; ++copy) {
        calls.push_back([=, this](std::function<void()> finished) {
          NewRsvp input;
          input.activity_id = activity;
          input.guests = guests;
          if (with_key) input.idempotency_key = key;
          input.request_fingerprint = activity + "/" + std::to_string(guests);
          service_->create_rsvp(user(sub), input, [=, this](ServiceOutcome<RsvpCreated> outcome) {
            if (outcome.ok() && !outcome.value.replayed) {
              std::lock_guard lock(rsvps_mutex_);
              rsvps_.emplace_back(outcome.value.rsvp.record.id, sub);
            }
            finished();
          });
        });
      }
    } else if (dice < 90) {
      uint64_t target = 0;
      {
        std::lock_guard lock(rsvps_mutex_);
        if (!rsvps_.empty()) target = rsvps_[random() % rsvps_.size()].first;
      }
      if (target == 0) return;
      calls.push_back([=, this](std::function<void()> finished) {
        service_->cancel_rsvp(admin("root"), target,
                              [finished](ServiceOutcome<RsvpView>) { finished(); });
      });
    } else {
      ActivityPatch change;
      change.capacity = 1 + static_cast<uint32_t>(random() % 12);
      calls.push_back([=, this](std::function<void()> finished) {
        service_->update_activity(admin("root"), activity, change,
                                  [=, this](ServiceOutcome<ActivityView> outcome) {
                                    if (outcome.ok()) record_version(outcome.value);
                                    finished();
                                  });
      });
    }
    std::latch done(static_cast<std::ptrdiff_t>(calls.size()));
    for (auto& call : calls) call([&done] { done.count_down(); });
    done.wait();
  }

  // Replays one activity's audit trail; returns the model at the end.
  ModelActivity replay(const std::string& activity, uint64_t& expected_seq_count) {
    ModelActivity model;
    uint64_t version = 0;
    uint64_t after = 0;
    for (;;) {
      const auto page = service_->audit(admin("root"), activity, after, 500);
      EXPECT_TRUE(page.ok());
      for (const AuditRecord& entry : page.value.entries) {
        ++expected_seq_count;
        apply(model, entry, activity, version);
      }
      if (!page.value.next_after) break;
      after = *page.value.next_after;
    }
    return model;
  }

  std::set<uint64_t> seqs_;

  void apply(ModelActivity& model, const AuditRecord& entry, const std::string& activity,
             uint64_t& version) {
    EXPECT_TRUE(seqs_.insert(entry.seq).second) << "seq " << entry.seq << " twice";
    switch (entry.op) {
      case AuditOp::kActivityCreated:
      case AuditOp::kActivityUpdated: {
        ++version;
        std::lock_guard lock(versions_mutex_);
        auto found = capacity_by_version_.find({activity, version});
        ASSERT_NE(found, capacity_by_version_.end()) << activity << " v" << version;
        model.capacity = found->second;
        break;
      }
      case AuditOp::kRsvpConfirmed:
        EXPECT_TRUE(model.live_users.insert(entry.user_id).second) << "two live RSVPs";
        model.confirmed[entry.rsvp_id] = entry.party_size;
        break;
      case AuditOp::kRsvpWaitlisted:
        EXPECT_TRUE(model.live_users.insert(entry.user_id).second) << "two live RSVPs";
        model.waiting.emplace_back(entry.rsvp_id, entry.party_size);
        break;
      case AuditOp::kRsvpPromoted:
        ASSERT_FALSE(model.waiting.empty());
        EXPECT_EQ(model.waiting.front().first, entry.rsvp_id) << "promotion out of FIFO order";
        model.confirmed[entry.rsvp_id] = entry.party_size;
        std::erase_if(model.waiting, [&](const auto& w) { return w.first == entry.rsvp_id; });
        break;
      case AuditOp::kRsvpCancelled:
        model.live_users.erase(entry.user_id);
        model.confirmed.erase(entry.rsvp_id);
        std::erase_if(model.waiting, [&](const auto& w) { return w.first == entry.rsvp_id; });
        break;
    }
    EXPECT_LE(model.confirmed_seats(), model.capacity) << "overbooked at seq " << entry.seq;
  }

  void check_against_listing(const std::string& activity, const ModelActivity& model) {
    std::vector<uint64_t> listed_confirmed, listed_waiting;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      const auto result =
          service_->participants(admin("root"), activity, ParticipantFilter::kAll, 500, cursor);
      ASSERT_TRUE(result.ok());
      for (const RsvpView& view : result.value.participants) {
        if (view.record.status == RsvpStatus::kConfirmed) {
          listed_confirmed.push_back(view.record.id);
        } else {
          listed_waiting.push_back(view.record.id);
          EXPECT_EQ(view.waitlist_position, listed_waiting.size());
        }
      }
      if (!result.value.next_cursor) break;
      cursor = *result.value.next_cursor;
    }
    std::set<uint64_t> model_confirmed;
    for (const auto& [id, party] : model.confirmed) model_confirmed.insert(id);
    EXPECT_EQ(std::set<uint64_t>(listed_confirmed.begin(), listed_confirmed.end()),
              model_confirmed);
    std::vector<uint64_t> model_waiting;
    for (const auto& [id, party] : model.waiting) model_waiting.push_back(id);
    EXPECT_EQ(listed_waiting, model_waiting);
    const auto stored = service_->get_activity(activity).value.record;
    EXPECT_EQ(stored.confirmed_seats, model.confirmed_seats());
    EXPECT_EQ(stored.capacity, model.capacity);
    // No free seat beside a fitting head once everything is committed.
    if (!model.waiting.empty()) {
      EXPECT_GT(model.confirmed_seats() + model.waiting.front().second, model.capacity);
    }
    shm::SegmentOpenError error;
    auto reader = shm::Segment::open_read_only(options_.shm_name, &error);
    ASSERT_NE(reader, nullptr);
    const auto slot = reader->find(activity);
    ASSERT_TRUE(slot.has_value());
    shm::ActivitySnapshot snapshot;
    ASSERT_EQ(shm::read_snapshot(reader->slot(*slot), snapshot), shm::SnapshotRead::kOk);
    EXPECT_EQ(snapshot.confirmed_seats, stored.confirmed_seats);
    EXPECT_EQ(snapshot.waitlist_length, stored.waitlist_length);
  }
};

TEST_F(StressTest, RandomConcurrentLoadMatchesTheReplayedAuditTrail) {
  std::vector<std::string> activities;
  for (int a = 0; a < kActivities; ++a) {
    const auto created = create("act-" + std::to_string(a), 1 + a % 6, 2);
    ASSERT_TRUE(created.ok());
    record_version(created.value);
    activities.push_back(created.value.record.id);
  }
  const auto hot = create("hot", 5, 2);
  ASSERT_TRUE(hot.ok());
  record_version(hot.value);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 random(1000 + t);
      std::vector<std::string> hot_only{"hot"};
      for (int round = 0; round < kRounds; ++round) {
        run_round(random, round % 2 == 0 ? hot_only : activities);
      }
    });
  }
  for (auto& thread : threads) thread.join();

  activities.push_back("hot");
  uint64_t entries = 0;
  for (const std::string& activity : activities) {
    const ModelActivity model = replay(activity, entries);
    check_against_listing(activity, model);
  }
  // Audit seq gap-free: the per-activity trails together cover 1..N exactly.
  EXPECT_GT(entries, 100u);
  EXPECT_EQ(seqs_.size(), entries);
  EXPECT_EQ(*seqs_.begin(), 1u);
  EXPECT_EQ(*seqs_.rbegin(), entries);
  EXPECT_EQ(service_->metrics().overbooking_detected_total.load(), 0u);
  EXPECT_EQ(service_->metrics().duplicate_admissions_total.load(), 0u)
      << "a duplicate took a place before the writer refused it (claim table bypassed?)";
}

}  // namespace
}  // namespace rsvpd
