// FakeService: a small in-memory Service for the API handler's in-process tests (routing,
// validation, representations, the order of checks). It keeps just enough of the contract:
// activities with versions, RSVPs that confirm or wait, host/admin permissions, idempotency
// replay. It is not a model of the engine: the binary tests run the real one.
//
// `changes()` counts successful changes, so a test can show a rejected request changed nothing.
// `fail_next(error)` makes the next change fail with `error` (overloaded, storage-full, ...).
#pragma once

#include <map>
#include <mutex>

#include "daemon/service.h"

namespace rsvpd::http::testing {

class FakeService final : public Service {
 public:
  explicit FakeService(const Clock& clock) : clock_(clock) {}

  int changes() const { std::lock_guard lock(mutex_); return changes_; }
  int calls() const { std::lock_guard lock(mutex_); return calls_; }
  void fail_next(ServiceError error) { std::lock_guard lock(mutex_); fail_next_ = error; }
  void set_ready(bool ready) { ready_ = ready; }
  EngineMetrics& mutable_metrics() { return metrics_; }
  NewRsvp last_rsvp() const { std::lock_guard lock(mutex_); return last_rsvp_; }
  ActivityPatch last_patch() const { std::lock_guard lock(mutex_); return last_patch_; }

  void stop() override {}

  void create_activity(const Caller& caller, NewActivity input,
                       std::function<void(ServiceOutcome<ActivityView>)> done) override {
    std::unique_lock lock(mutex_);
    ++calls_;
    if (auto failure = take_failure<ActivityView>()) return unlock_then(lock, done, *failure);
    const std::string id = input.id.value_or("a_generated" + std::to_string(activities_.size()));
    if (activities_.count(id)) {
      return unlock_then(lock, done, fail<ActivityView>(ServiceError::kActivityExists));
    }
    ActivityRecord& r = activities_[id];
    r.id = id;
    r.title = input.title;
    r.host_id = input.host_id.value_or(caller.sub);
    r.capacity = input.capacity;
    r.max_guests = input.max_guests;
    r.waitlist_enabled = input.waitlist_enabled;
    r.waitlist_limit = input.waitlist_limit;
    r.rsvp_opens_at_ms = input.rsvp_opens_at_ms;
    r.rsvp_closes_at_ms = input.rsvp_closes_at_ms;
    r.version = 1;
    r.created_at_ms = r.updated_at_ms = clock_.now_ms();
    ++changes_;
    ServiceOutcome<ActivityView> outcome;
    outcome.value.record = r;
    unlock_then(lock, done, outcome);
  }

  void update_activity(const Caller& caller, std::string activity_id, ActivityPatch patch,
                       std::function<void(ServiceOutcome<ActivityView>)> done) override {
    std::unique_lock lock(mutex_);
    ++calls_;
    last_patch_ = patch;
    auto found = activities_.find(activity_id);
    if (found == activities_.end()) {
      return unlock_then(lock, done, fail<ActivityView>(ServiceError::kActivityNotFound));
    }
    ActivityRecord& r = found->second;
    if (!caller.admin && caller.sub != r.host_id) {
      return unlock_then(lock, done, fail<ActivityView>(ServiceError::kForbidden));
    }
    if (patch.if_match_version && *patch.if_match_version != r.version) {
      return unlock_then(lock, done, fail<ActivityView>(ServiceError::kVersionMismatch));
    }
    if (patch.capacity && *patch.capacity < r.confirmed_seats) {
      return unlock_then(lock, done, fail<ActivityView>(ServiceError::kCapacityBelowConfirmed));
    }
    if (patch.title) r.title = *patch.title;
    if (patch.capacity) r.capacity = *patch.capacity;
    if (patch.status) r.status = *patch.status;
    if (patch.waitlist_limit) r.waitlist_limit = patch.waitlist_limit->value_or(0);
    ++r.version;
    ++changes_;
    ServiceOutcome<ActivityView> outcome;
    outcome.value.record = r;
    unlock_then(lock, done, outcome);
  }

  void create_rsvp(const Caller& caller, NewRsvp input,
                   std::function<void(ServiceOutcome<RsvpCreated>)> done) override {
    std::unique_lock lock(mutex_);
    ++calls_;
    last_rsvp_ = input;
    if (auto failure = take_failure<RsvpCreated>()) return unlock_then(lock, done, *failure);
    auto found = activities_.find(input.activity_id);
    if (found == activities_.end()) {
      return unlock_then(lock, done, fail<RsvpCreated>(ServiceError::kActivityNotFound));
    }
    if (input.user_id && !caller.admin && *input.user_id != caller.sub) {
      return unlock_then(lock, done, fail<RsvpCreated>(ServiceError::kForbidden));
    }
    ActivityRecord& a = found->second;
    if (input.guests > a.max_guests) {
      auto outcome = fail<RsvpCreated>(ServiceError::kInvalidField);
      outcome.field = "guests";
      outcome.message = "exceeds max_guests";
      return unlock_then(lock, done, outcome);
    }
    const std::string user = input.user_id.value_or(caller.sub);
    if (input.idempotency_key) {
      auto key = idempotency_.find(caller.sub + "\n" + *input.idempotency_key);
      if (key != idempotency_.end()) {
        if (key->second.first != input.request_fingerprint) {
          return unlock_then(lock, done, fail<RsvpCreated>(ServiceError::kIdempotencyKeyReused));
        }
        ServiceOutcome<RsvpCreated> outcome;
        outcome.value.rsvp.record = rsvps_[key->second.second];
        outcome.value.replayed = true;
        return unlock_then(lock, done, outcome);
      }
    }
    for (const auto& [id, rsvp] : rsvps_) {
      if (rsvp.activity_id == a.id && rsvp.user_id == user &&
          rsvp.status != RsvpStatus::kCancelled) {
        auto outcome = fail<RsvpCreated>(ServiceError::kAlreadyRsvped);
        outcome.conflicting_rsvp_id = id;
        return unlock_then(lock, done, outcome);
      }
    }
    RsvpRecord r;
    r.id = next_rsvp_id_++;
    r.activity_id = a.id;
    r.user_id = user;
    r.guests = input.guests;
    r.created_at_ms = r.updated_at_ms = clock_.now_ms();
    const uint32_t party = 1 + input.guests;
    ServiceOutcome<RsvpCreated> outcome;
    if (a.waitlist_length == 0 && a.confirmed_seats + party <= a.capacity) {
      r.status = RsvpStatus::kConfirmed;
      r.confirmed_at_ms = r.created_at_ms;
      a.confirmed_seats += party;
    } else if (a.waitlist_enabled) {
      r.status = RsvpStatus::kWaitlisted;
      a.waitlist_length += 1;
      a.waitlisted_seats += party;
      outcome.value.rsvp.waitlist_position = a.waitlist_length;
    } else {
      return unlock_then(lock, done, fail<RsvpCreated>(ServiceError::kActivityFull));
    }
    rsvps_[r.id] = r;
    if (input.idempotency_key) {
      idempotency_[caller.sub + "\n" + *input.idempotency_key] = {input.request_fingerprint, r.id};
    }
    ++changes_;
    outcome.value.rsvp.record = r;
    unlock_then(lock, done, outcome);
  }

  void cancel_rsvp(const Caller& caller, uint64_t rsvp_id,
                   std::function<void(ServiceOutcome<RsvpView>)> done) override {
    std::unique_lock lock(mutex_);
    ++calls_;
    auto found = rsvps_.find(rsvp_id);
    if (found == rsvps_.end()) {
      return unlock_then(lock, done, fail<RsvpView>(ServiceError::kRsvpNotFound));
    }
    RsvpRecord& r = found->second;
    if (!caller.admin && caller.sub != r.user_id && caller.sub != activities_[r.activity_id].host_id) {
      return unlock_then(lock, done, fail<RsvpView>(ServiceError::kForbidden));
    }
    if (r.status == RsvpStatus::kConfirmed) activities_[r.activity_id].confirmed_seats -= 1 + r.guests;
    if (r.status != RsvpStatus::kCancelled) {
      r.status = RsvpStatus::kCancelled;
      r.cancelled_at_ms = clock_.now_ms();
      ++changes_;
    }
    ServiceOutcome<RsvpView> outcome;
    outcome.value.record = r;
    unlock_then(lock, done, outcome);
  }

  ServiceOutcome<ActivityView> get_activity(std::string_view activity_id) override {
    std::lock_guard lock(mutex_);
    auto found = activities_.find(std::string(activity_id));
    if (found == activities_.end()) return fail<ActivityView>(ServiceError::kActivityNotFound);
    ServiceOutcome<ActivityView> outcome;
    outcome.value.record = found->second;
    return outcome;
  }

  ServiceOutcome<RsvpView> get_rsvp(const Caller& caller, uint64_t rsvp_id) override {
    std::lock_guard lock(mutex_);
    auto found = rsvps_.find(rsvp_id);
    if (found == rsvps_.end()) return fail<RsvpView>(ServiceError::kRsvpNotFound);
    if (!caller.admin && caller.sub != found->second.user_id &&
        caller.sub != activities_[found->second.activity_id].host_id) {
      return fail<RsvpView>(ServiceError::kForbidden);
    }
    ServiceOutcome<RsvpView> outcome;
    outcome.value.record = found->second;
    return outcome;
  }

  ServiceOutcome<RsvpPage> user_rsvps(const Caller& caller, std::string_view user_id,
                                      std::optional<RsvpStatus> status, size_t limit,
                                      std::string_view cursor) override {
    std::lock_guard lock(mutex_);
    if (!caller.admin && caller.sub != user_id) return fail<RsvpPage>(ServiceError::kForbidden);
    if (!cursor.empty()) {
      auto outcome = fail<RsvpPage>(ServiceError::kInvalidField);
      outcome.field = "cursor";
      outcome.message = "is not a cursor of this list";
      return outcome;
    }
    ServiceOutcome<RsvpPage> outcome;
    for (auto it = rsvps_.rbegin(); it != rsvps_.rend(); ++it) {
      if (it->second.user_id != user_id || (status && it->second.status != *status)) continue;
      if (outcome.value.rsvps.size() == limit) {
        outcome.value.next_cursor = "more";
        break;
      }
      outcome.value.rsvps.push_back(RsvpView{it->second, 0});
    }
    return outcome;
  }

  ServiceOutcome<ParticipantsPage> participants(const Caller& caller, std::string_view activity_id,
                                                ParticipantFilter, size_t,
                                                std::string_view) override {
    std::lock_guard lock(mutex_);
    auto found = activities_.find(std::string(activity_id));
    if (found == activities_.end()) return fail<ParticipantsPage>(ServiceError::kActivityNotFound);
    if (!caller.admin && caller.sub != found->second.host_id) {
      return fail<ParticipantsPage>(ServiceError::kForbidden);
    }
    ServiceOutcome<ParticipantsPage> outcome;
    outcome.value.activity.record = found->second;
    for (const auto& [id, rsvp] : rsvps_) {
      if (rsvp.activity_id == activity_id && rsvp.status != RsvpStatus::kCancelled) {
        outcome.value.participants.push_back(RsvpView{rsvp, 0});
      }
    }
    return outcome;
  }

  ServiceOutcome<CapacityView> capacity(std::string_view activity_id,
                                        std::optional<uint32_t> guests) override {
    std::lock_guard lock(mutex_);
    auto found = activities_.find(std::string(activity_id));
    if (found == activities_.end()) return fail<CapacityView>(ServiceError::kActivityNotFound);
    const ActivityRecord& a = found->second;
    ServiceOutcome<CapacityView> outcome;
    CapacityView& c = outcome.value;
    c.activity_id = a.id;
    c.capacity = a.capacity;
    c.confirmed_seats = a.confirmed_seats;
    c.available_seats = a.capacity - a.confirmed_seats;
    c.waitlist_length = a.waitlist_length;
    c.waitlisted_seats = a.waitlisted_seats;
    c.status = a.status;
    c.version = a.version;
    if (guests) {
      c.would_confirm = a.waitlist_length == 0 && a.confirmed_seats + 1 + *guests <= a.capacity;
      c.would_waitlist = !c.would_confirm && a.waitlist_enabled;
    }
    return outcome;
  }

  ServiceOutcome<AuditPage> audit(const Caller& caller, std::string_view activity_id, uint64_t,
                                  size_t) override {
    std::lock_guard lock(mutex_);
    auto found = activities_.find(std::string(activity_id));
    if (found == activities_.end()) return fail<AuditPage>(ServiceError::kActivityNotFound);
    if (!caller.admin && caller.sub != found->second.host_id) {
      return fail<AuditPage>(ServiceError::kForbidden);
    }
    ServiceOutcome<AuditPage> outcome;
    AuditRecord entry;
    entry.seq = 1;
    entry.at_ms = found->second.created_at_ms;
    entry.actor = found->second.host_id;
    entry.activity_id = found->second.id;
    entry.request_id = "req-1";
    outcome.value.entries.push_back(entry);
    return outcome;
  }

  ServiceOutcome<AuditPage> user_audit(std::string_view, uint64_t, size_t) override {
    return {};
  }

  bool ready() const override { return ready_; }
  const EngineMetrics& metrics() const override { return metrics_; }
  void tick() override {}

 private:
  template <typename T>
  static ServiceOutcome<T> fail(ServiceError error) {
    return ServiceOutcome<T>::failure(error, "fake failure");
  }
  template <typename T>
  std::optional<ServiceOutcome<T>> take_failure() {
    if (fail_next_ == ServiceError::kNone) return std::nullopt;
    const ServiceError error = fail_next_;
    fail_next_ = ServiceError::kNone;
    return fail<T>(error);
  }
  template <typename T>
  static void unlock_then(std::unique_lock<std::mutex>& lock,
                          const std::function<void(ServiceOutcome<T>)>& done,
                          ServiceOutcome<T> outcome) {
    lock.unlock();
    done(std::move(outcome));
  }

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::map<std::string, ActivityRecord> activities_;
  std::map<uint64_t, RsvpRecord> rsvps_;
  std::map<std::string, std::pair<std::string, uint64_t>> idempotency_;
  uint64_t next_rsvp_id_ = 1;
  int changes_ = 0;
  int calls_ = 0;
  ServiceError fail_next_ = ServiceError::kNone;
  NewRsvp last_rsvp_;
  ActivityPatch last_patch_;
  std::atomic<bool> ready_{true};
  EngineMetrics metrics_;
};

}  // namespace rsvpd::http::testing
