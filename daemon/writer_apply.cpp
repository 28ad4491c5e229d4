// The writer's per-request work inside a batch's transaction, and the promotion pass.
// Every check here re-validates what the io thread decided, against the committed state plus
// the batch so far: the io thread's view may be a moment old.
#include <algorithm>
#include <cassert>
#include <cstdio>

#include "daemon/admission_error.h"
#include "daemon/detail/batch_state.h"
#include "daemon/writer.h"
#include "shm/admission.h"
#include "shm/failpoint.h"

namespace rsvpd {

using detail::ActivityWork;
using detail::BatchState;

namespace {

template <typename T>
ServiceOutcome<T> failed(ServiceError error, std::string message, std::string field = {}) {
  return ServiceOutcome<T>::failure(error, std::move(message), std::move(field));
}

bool is_not_found(const Status& status) { return status.code() == StatusCode::kNotFound; }

// The activity after `patch`; validation that needs the stored record happens here.
ServiceOutcome<ActivityRecord> patched(const ActivityRecord& before, const ActivityPatch& patch) {
  ActivityRecord after = before;
  if (patch.title) after.title = *patch.title;
  if (patch.capacity) after.capacity = *patch.capacity;
  if (patch.max_guests) after.max_guests = *patch.max_guests;
  if (patch.waitlist_enabled) after.waitlist_enabled = *patch.waitlist_enabled;
  if (patch.waitlist_limit) after.waitlist_limit = patch.waitlist_limit->value_or(0);
  if (patch.status) after.status = *patch.status;
  if (patch.rsvp_opens_at_ms) after.rsvp_opens_at_ms = *patch.rsvp_opens_at_ms;
  if (patch.rsvp_closes_at_ms) after.rsvp_closes_at_ms = *patch.rsvp_closes_at_ms;
  if (after.rsvp_opens_at_ms && after.rsvp_closes_at_ms &&
      *after.rsvp_opens_at_ms >= *after.rsvp_closes_at_ms) {
    return failed<ActivityRecord>(ServiceError::kInvalidField,
                                  "rsvp_closes_at must be after rsvp_opens_at", "rsvp_closes_at");
  }
  ServiceOutcome<ActivityRecord> outcome;
  outcome.value = std::move(after);
  return outcome;
}

bool settings_differ(const ActivityRecord& a, const ActivityRecord& b) {
  return !(settings_of(a) == settings_of(b));
}

}  // namespace

Status Writer::apply_create(CommitRequest& request, BatchState& state) {
  const NewActivity& input = request.new_activity;
  assert(input.id.has_value());
  const std::string& id = *input.id;
  Result<ActivityRecord> existing = txn_->get_activity(id);
  if (existing.is_ok() || state.activities.count(id) != 0) {
    request.rejected = true;
    request.activity_outcome =
        failed<ActivityView>(ServiceError::kActivityExists, "activity " + id + " exists");
    return Status::ok();
  }
  if (!is_not_found(existing.status())) return existing.status();
  if (!context_.segment->has_room_for(state.pending_inserts + 1)) {
    request.rejected = true;
    request.activity_outcome = failed<ActivityView>(
        ServiceError::kActivityTableFull,
        "the activity table is full: archive old activities or restart with a larger "
        "--max-activities");
    return Status::ok();
  }
  ActivityWork work;
  ActivityRecord& record = work.record;
  record.id = id;
  record.title = input.title;
  record.host_id = input.host_id.value_or(request.caller.sub);
  record.capacity = input.capacity;
  record.max_guests = input.max_guests;
  record.waitlist_enabled = input.waitlist_enabled;
  record.waitlist_limit = input.waitlist_limit;
  record.rsvp_opens_at_ms = input.rsvp_opens_at_ms;
  record.rsvp_closes_at_ms = input.rsvp_closes_at_ms;
  record.version = 1;
  record.created_at_ms = state.now_ms;
  record.updated_at_ms = state.now_ms;
  work.is_new = true;
  work.dirty = true;
  work.settings_before = settings_of(record);
  ++state.pending_inserts;
  ActivityWork& stored = state.activities.emplace(id, std::move(work)).first->second;
  AuditRecord entry;
  entry.op = AuditOp::kActivityCreated;
  entry.actor = request.caller.sub;
  entry.activity_id = id;
  entry.to_status = std::string(activity_status_name(record.status));
  entry.request_id = request.caller.request_id;
  Status status = append_audit(state, stored, std::move(entry));
  if (!status.is_ok()) return status;
  request.activity_outcome.value = ActivityView{stored.record};
  return Status::ok();
}

Status Writer::apply_update(CommitRequest& request, BatchState& state) {
  Result<ActivityWork*> loaded = load_activity(state, request.activity_id);
  if (!loaded.is_ok()) {
    if (!is_not_found(loaded.status())) return loaded.status();
    request.rejected = true;
    request.activity_outcome = failed<ActivityView>(ServiceError::kActivityNotFound,
                                                    "no activity " + request.activity_id);
    return Status::ok();
  }
  ActivityWork& work = *loaded.value();
  const ActivityRecord& before = work.record;
  auto reject = [&](ServiceError error, std::string message, std::string field = {}) {
    request.rejected = true;
    request.activity_outcome = failed<ActivityView>(error, std::move(message), std::move(field));
    return Status::ok();
  };
  if (before.status == ActivityStatus::kArchived) {
    return reject(ServiceError::kActivityArchived, "the activity is archived");
  }
  if (request.patch.if_match_version && *request.patch.if_match_version != before.version) {
    return reject(ServiceError::kVersionMismatch,
                  "If-Match version " + std::to_string(*request.patch.if_match_version) +
                      " but the activity is at version " + std::to_string(before.version));
  }
  ServiceOutcome<ActivityRecord> after = patched(before, request.patch);
  if (!after.ok()) return reject(after.error, after.message, after.field);
  if (after.value.capacity < before.confirmed_seats) {
    return reject(ServiceError::kCapacityBelowConfirmed,
                  std::to_string(before.confirmed_seats) + " seats are confirmed");
  }
  if (after.value.capacity < before.capacity) {
    uint64_t largest_waiting = 0;
    uint64_t cursor = 0;
    for (;;) {
      Result<Page<RsvpRecord>> page =
          txn_->waiting_of_activity(before.id, cursor, kPageItemsMax);
      if (!page.is_ok()) return page.status();
      for (const RsvpRecord& waiting : page->items) {
        largest_waiting = std::max(largest_waiting, waiting.party_size());
      }
      if (!page->next_cursor) break;
      cursor = *page->next_cursor;
    }
    if (after.value.capacity < largest_waiting) {
      return reject(ServiceError::kCapacityBelowWaitingParty,
                    "a waiting party has " + std::to_string(largest_waiting) + " seats");
    }
  }
  const bool changes_settings = settings_differ(before, after.value);
  if (changes_settings && work.in_segment) {
    // Rule 7 and rule 1: install the most restrictive of old and new before the commit (a cut
    // flips the epoch and is checked against the provisional total); the new settings follow
    // after the commit.
    shm::ActivitySlot& slot = context_.segment->slot(work.slot);
    const auto outcome =
        shm::change_settings(slot, most_restrictive(settings_of(before), settings_of(after.value)));
    if (outcome == shm::SettingsChangeOutcome::kCapacityBelowTaken) {
      return reject(ServiceError::kCapacityBelowConfirmed,
                    "seats are being confirmed right now beyond the new capacity");
    }
    if (outcome != shm::SettingsChangeOutcome::kApplied) {
      return reject(ServiceError::kOverloaded, "the activity is too contended to change now");
    }
    work.restrictive_settings_installed = true;
  }
  const ActivityStatus old_status = before.status;
  work.record = std::move(after.value);
  work.record.version += 1;
  work.record.updated_at_ms = state.now_ms;
  work.dirty = true;
  work.settings_changed = work.settings_changed || changes_settings;
  AuditRecord entry;
  entry.op = AuditOp::kActivityUpdated;
  entry.actor = request.caller.sub;
  entry.activity_id = work.record.id;
  entry.from_status = std::string(activity_status_name(old_status));
  entry.to_status = std::string(activity_status_name(work.record.status));
  entry.request_id = request.caller.request_id;
  Status status = append_audit(state, work, std::move(entry));
  if (!status.is_ok()) return status;
  request.activity_outcome.value = ActivityView{work.record};
  return Status::ok();
}

void Writer::reject_rsvp(CommitRequest& request, ActivityWork* work, ServiceError error,
                         std::string message, std::string field) {
  // Rule 5: every rejection after a CAS undoes its effect, and the promotion pass at the end
  // of this batch (the activity is in the batch) hands any freed seat to a fitting head.
  if (request.holds_place) {
    shm::undo_admission(context_.segment->slot(request.slot), request.admitted,
                        request.rsvp.guests + 1);
    request.holds_place = false;
  }
  (void)work;
  request.rejected = true;
  request.rsvp_outcome = failed<RsvpCreated>(error, std::move(message), std::move(field));
}

Status Writer::apply_rsvp(CommitRequest& request, BatchState& state) {
  Result<ActivityWork*> loaded = load_activity(state, request.rsvp.activity_id);
  if (!loaded.is_ok()) {
    if (!is_not_found(loaded.status())) return loaded.status();
    reject_rsvp(request, nullptr, ServiceError::kActivityNotFound, "no such activity");
    return Status::ok();
  }
  ActivityWork& work = *loaded.value();
  ActivityRecord& activity = work.record;
  if (activity.status == ActivityStatus::kArchived) {
    reject_rsvp(request, &work, ServiceError::kActivityArchived, "the activity is archived");
    return Status::ok();
  }
  // Rule 4 in depth: the claim table should have stopped a duplicate before it took a place.
  // One that got here took seats it should never have had: count it (tests assert zero).
  Result<uint64_t> live = txn_->get_live_rsvp(request.user_id, activity.id);
  if (live.is_ok()) {
    if (request.holds_place) {
      context_.metrics->duplicate_admissions_total.fetch_add(1, std::memory_order_relaxed);
    }
    reject_rsvp(request, &work, ServiceError::kAlreadyRsvped, "already RSVPed");
    request.rsvp_outcome.conflicting_rsvp_id = live.value();
    return Status::ok();
  }
  if (!is_not_found(live.status())) return live.status();
  if (request.admitted == shm::AdmitOutcome::kContended) {
    // The serialized fallback: the same CAS protocol, retried by the writer until it lands.
    context_.metrics->serialized_admissions_total.fetch_add(1, std::memory_order_relaxed);
    const shm::AdmitResult result =
        shm::admit(context_.segment->slot(request.slot), request.rsvp.guests, state.now_ms,
                   shm::kWriterCasAttemptsMax);
    if (!shm::admission_holds_place(result.outcome)) {
      AdmissionRefusal refusal = admission_refusal(result.outcome);
      reject_rsvp(request, &work, refusal.error, std::move(refusal.message),
                  std::move(refusal.field));
      return Status::ok();
    }
    request.admitted = result.outcome;
    request.holds_place = true;
  }
  assert(request.holds_place);
  const uint32_t party_size = request.rsvp.guests + 1;
  const bool confirmed = request.admitted == shm::AdmitOutcome::kConfirmed;
  // Invariant 1, re-checked against the committed state plus this batch.
  if (confirmed && uint64_t{activity.confirmed_seats} + party_size > activity.capacity) {
    context_.metrics->overbooking_detected_total.fetch_add(1, std::memory_order_relaxed);
    std::fprintf(stderr,
                 "{\"level\":\"error\",\"component\":\"writer\",\"msg\":\"OVERBOOKING "
                 "DETECTED and refused\",\"activity_id\":\"%s\",\"confirmed_seats\":%u,"
                 "\"party_size\":%u,\"capacity\":%u}\n",
                 activity.id.c_str(), activity.confirmed_seats, party_size, activity.capacity);
    reject_rsvp(request, &work, ServiceError::kInternal, "overbooking detected and refused");
    return Status::ok();
  }
  RsvpRecord rsvp;
  rsvp.id = state.next_rsvp_id++;
  rsvp.activity_id = activity.id;
  rsvp.user_id = request.user_id;
  rsvp.guests = request.rsvp.guests;
  rsvp.created_at_ms = state.now_ms;
  rsvp.updated_at_ms = state.now_ms;
  Status status = Status::ok();
  if (confirmed) {
    rsvp.status = RsvpStatus::kConfirmed;
    rsvp.confirm_order = activity.next_confirm_order++;
    rsvp.confirmed_at_ms = state.now_ms;
    activity.confirmed_seats += party_size;
    status = txn_->put_confirmed(activity.id, rsvp.confirm_order, rsvp.id);
  } else {
    rsvp.status = RsvpStatus::kWaitlisted;
    rsvp.ticket = activity.next_ticket++;  // Rule 3: tickets in commit order.
    activity.waitlist_length += 1;
    activity.waitlisted_seats += party_size;
    work.tickets_added.push_back(rsvp.ticket);
    status = txn_->put_waiting(activity.id, rsvp.ticket, rsvp.id);
  }
  if (status.is_ok()) status = txn_->put_rsvp(rsvp);
  if (status.is_ok()) status = txn_->put_user_rsvp(rsvp.user_id, rsvp.id);
  if (status.is_ok()) status = txn_->put_live_rsvp(rsvp.user_id, activity.id, rsvp.id);
  if (!status.is_ok()) return status;
  work.dirty = true;
  AuditRecord entry;
  entry.op = confirmed ? AuditOp::kRsvpConfirmed : AuditOp::kRsvpWaitlisted;
  entry.actor = request.caller.sub;
  entry.activity_id = activity.id;
  entry.rsvp_id = rsvp.id;
  entry.user_id = rsvp.user_id;
  entry.to_status = std::string(rsvp_status_name(rsvp.status));
  entry.party_size = party_size;
  entry.request_id = request.caller.request_id;
  status = append_audit(state, work, std::move(entry));
  if (!status.is_ok()) return status;
  request.rsvp_outcome.value.rsvp.record = std::move(rsvp);
  return Status::ok();
}

Status Writer::apply_cancel(CommitRequest& request, BatchState& state) {
  auto reject = [&](ServiceError error, std::string message) {
    request.rejected = true;
    request.cancel_outcome = failed<RsvpView>(error, std::move(message));
    return Status::ok();
  };
  Result<RsvpRecord> found = txn_->get_rsvp(request.rsvp_id);
  if (!found.is_ok()) {
    if (!is_not_found(found.status())) return found.status();
    return reject(ServiceError::kRsvpNotFound, "no such RSVP");
  }
  RsvpRecord rsvp = std::move(found).value();
  Result<ActivityWork*> loaded = load_activity(state, rsvp.activity_id);
  if (!loaded.is_ok()) return loaded.status();  // An RSVP without its activity: corruption.
  ActivityWork& work = *loaded.value();
  ActivityRecord& activity = work.record;
  if (activity.status == ActivityStatus::kArchived) {
    return reject(ServiceError::kActivityArchived, "the activity is archived");
  }
  if (rsvp.status == RsvpStatus::kCancelled) {
    request.cancel_outcome.value.record = std::move(rsvp);  // Unchanged, 200.
    return Status::ok();
  }
  const uint32_t party_size = static_cast<uint32_t>(rsvp.party_size());
  const RsvpStatus old_status = rsvp.status;
  Status status = Status::ok();
  if (old_status == RsvpStatus::kConfirmed) {
    status = txn_->delete_confirmed(activity.id, rsvp.confirm_order);
    activity.confirmed_seats -= party_size;
    work.freed_seats += party_size;  // Handed to promotions first, the rest after commit.
  } else {
    status = txn_->delete_waiting(activity.id, rsvp.ticket);
    activity.waitlist_length -= 1;
    activity.waitlisted_seats -= party_size;
    work.parties_left += 1;
    work.tickets_removed.push_back(rsvp.ticket);
  }
  if (status.is_ok()) status = txn_->delete_live_rsvp(rsvp.user_id, activity.id);
  rsvp.status = RsvpStatus::kCancelled;
  rsvp.cancelled_at_ms = state.now_ms;
  rsvp.updated_at_ms = state.now_ms;
  if (status.is_ok()) status = txn_->put_rsvp(rsvp);
  if (!status.is_ok()) return status;
  work.dirty = true;
  AuditRecord entry;
  entry.op = AuditOp::kRsvpCancelled;
  entry.actor = request.caller.sub;
  entry.activity_id = activity.id;
  entry.rsvp_id = rsvp.id;
  entry.user_id = rsvp.user_id;
  entry.from_status = std::string(rsvp_status_name(old_status));
  entry.to_status = std::string(rsvp_status_name(RsvpStatus::kCancelled));
  entry.party_size = party_size;
  entry.request_id = request.caller.request_id;
  status = append_audit(state, work, std::move(entry));
  if (!status.is_ok()) return status;
  request.cancel_outcome.value.record = std::move(rsvp);
  return Status::ok();
}

// Strict FIFO: the head is promoted when the whole party fits, in LMDB (committed + batch) and
// in the admission word (freed seats of this batch first, then seats CASed in); nobody behind a
// head that does not fit is promoted past it.
Status Writer::promote(ActivityWork& work, BatchState& state) {
  ActivityRecord& activity = work.record;
  if (activity.status == ActivityStatus::kArchived || !work.in_segment) return Status::ok();
  shm::ActivitySlot& slot = context_.segment->slot(work.slot);
  uint64_t after_ticket = 0;
  for (;;) {
    Result<Page<RsvpRecord>> page = txn_->waiting_of_activity(activity.id, after_ticket, 1);
    if (!page.is_ok()) return page.status();
    if (page->items.empty()) return Status::ok();
    RsvpRecord head = std::move(page->items.front());
    const uint32_t party_size = static_cast<uint32_t>(head.party_size());
    if (uint64_t{activity.confirmed_seats} + party_size > activity.capacity) {
      // The negative control "promote out of ticket order": skip the head that does not fit.
      if (failpoint_enabled("promote_out_of_order")) {
        after_ticket = head.ticket;
        continue;
      }
      return Status::ok();
    }
    const uint32_t from_freed = std::min(work.freed_seats, party_size);
    const uint32_t needed = party_size - from_freed;
    if (needed > 0 && !shm::take_seats_for_promotion(slot, needed, activity.capacity)) {
      return Status::ok();  // Seats in flight to earlier confirms; they are not ours to take.
    }
    work.freed_seats -= from_freed;
    work.promotion_seats_taken += needed;
    Status status = txn_->delete_waiting(activity.id, head.ticket);
    head.status = RsvpStatus::kConfirmed;
    head.confirm_order = activity.next_confirm_order++;
    head.confirmed_at_ms = state.now_ms;
    head.updated_at_ms = state.now_ms;
    if (status.is_ok()) status = txn_->put_confirmed(activity.id, head.confirm_order, head.id);
    if (status.is_ok()) status = txn_->put_rsvp(head);
    if (!status.is_ok()) return status;
    activity.waitlist_length -= 1;
    activity.waitlisted_seats -= party_size;
    activity.confirmed_seats += party_size;
    work.parties_left += 1;
    work.dirty = true;
    auto added = std::find(work.tickets_added.begin(), work.tickets_added.end(), head.ticket);
    if (added != work.tickets_added.end()) {
      work.tickets_added.erase(added);  // Joined and promoted in the same batch.
    } else {
      work.tickets_removed.push_back(head.ticket);
    }
    context_.metrics->promotions_total.fetch_add(1, std::memory_order_relaxed);
    AuditRecord entry;
    entry.op = AuditOp::kRsvpPromoted;
    entry.actor = "system";
    entry.activity_id = activity.id;
    entry.rsvp_id = head.id;
    entry.user_id = head.user_id;
    entry.from_status = std::string(rsvp_status_name(RsvpStatus::kWaitlisted));
    entry.to_status = std::string(rsvp_status_name(RsvpStatus::kConfirmed));
    entry.party_size = party_size;
    status = append_audit(state, work, std::move(entry));
    if (!status.is_ok()) return status;
  }
}

// After the promotion pass: the 201 of each RSVP shows it as committed (a party that joined
// and was promoted in the same commit is confirmed), with its waitlist position, and the
// idempotency record remembers exactly that answer.
Status Writer::finish_rsvp_outcomes(std::vector<CommitRequest*>& batch, BatchState& state) {
  for (CommitRequest* request : batch) {
    if (request->kind != CommitKind::kRsvp || request->rejected) continue;
    RsvpView& view = request->rsvp_outcome.value.rsvp;
    Result<RsvpRecord> current = txn_->get_rsvp(view.record.id);
    if (!current.is_ok()) return current.status();
    view.record = std::move(current).value();
    view.waitlist_position = 0;
    if (view.record.status == RsvpStatus::kWaitlisted) {
      const ActivityWork& work = state.activities.at(view.record.activity_id);
      // Tickets of this batch are the newest: everyone waiting with a larger ticket joined in
      // this batch and is still in tickets_added.
      const uint64_t behind = static_cast<uint64_t>(
          std::count_if(work.tickets_added.begin(), work.tickets_added.end(),
                        [&](uint64_t ticket) { return ticket > view.record.ticket; }));
      view.waitlist_position = work.record.waitlist_length - behind;
    }
    if (request->rsvp.idempotency_key) {
      IdempotencyRecord remembered;
      remembered.created_at_ms = state.now_ms;
      remembered.request_fingerprint = request->rsvp.request_fingerprint;
      remembered.rsvp_id = view.record.id;
      remembered.response_body = encode_rsvp_view(view);
      Status status = txn_->put_idempotency(request->caller.sub, *request->rsvp.idempotency_key,
                                            remembered);
      if (!status.is_ok()) return status;
    }
  }
  return Status::ok();
}

}  // namespace rsvpd
