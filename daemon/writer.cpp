#include "daemon/writer.h"

#include "daemon/detail/batch_state.h"

#include <pthread.h>
#include <time.h>

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/failpoint.h"
#include "shm/snapshot.h"

namespace rsvpd {


using detail::ActivityWork;
using detail::BatchState;

namespace {

void fetch_max(std::atomic<uint64_t>& target, uint64_t value) {
  uint64_t seen = target.load(std::memory_order_relaxed);  // Relaxed: a metric.
  while (value > seen && !target.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

void log_line(const char* level, const std::string& message) {
  std::fprintf(stderr, "{\"level\":\"%s\",\"component\":\"writer\",\"msg\":\"%s\"}\n", level,
               message.c_str());
}

ServiceError error_for_commit(const Status& status) {
  switch (status.code()) {
    case StatusCode::kStorageFull:
    case StatusCode::kMapFull: return ServiceError::kStorageFull;
    default: return ServiceError::kInternal;
  }
}

template <typename T>
ServiceOutcome<T> failed(ServiceError error, std::string message, std::string field = {}) {
  return ServiceOutcome<T>::failure(error, std::move(message), std::move(field));
}

}  // namespace

int64_t monotonic_ms() noexcept {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1'000'000;
}

shm::ActivitySettings settings_of(const ActivityRecord& record) {
  shm::ActivitySettings settings;
  settings.capacity = record.capacity;
  settings.max_guests = record.max_guests;
  settings.status = static_cast<shm::ActivityStatus>(record.status);
  settings.waitlist_enabled = record.waitlist_enabled;
  settings.waitlist_limit = record.waitlist_limit;
  settings.rsvp_opens_at_ms = record.rsvp_opens_at_ms.value_or(shm::kNoWindowStart);
  settings.rsvp_closes_at_ms = record.rsvp_closes_at_ms.value_or(shm::kNoWindowEnd);
  return settings;
}

shm::ActivitySnapshot snapshot_of(const ActivityRecord& record, uint64_t last_audit_seq) {
  shm::ActivitySnapshot snapshot;
  snapshot.capacity = record.capacity;
  snapshot.confirmed_seats = record.confirmed_seats;
  snapshot.available_seats = record.capacity - record.confirmed_seats;
  snapshot.waitlist_length = record.waitlist_length;
  snapshot.waitlisted_seats = record.waitlisted_seats;
  snapshot.status = static_cast<shm::ActivityStatus>(record.status);
  snapshot.version = record.version;
  snapshot.last_audit_seq = last_audit_seq;
  return snapshot;
}

shm::ActivitySettings most_restrictive(const shm::ActivitySettings& a,
                                       const shm::ActivitySettings& b) {
  shm::ActivitySettings result;
  result.capacity = std::min(a.capacity, b.capacity);
  result.max_guests = std::min(a.max_guests, b.max_guests);
  result.status = std::max(a.status, b.status);  // open < closed < archived.
  result.waitlist_enabled = a.waitlist_enabled && b.waitlist_enabled;
  if (a.waitlist_limit == 0 || b.waitlist_limit == 0) {
    result.waitlist_limit = std::max(a.waitlist_limit, b.waitlist_limit);  // 0 = unlimited.
  } else {
    result.waitlist_limit = std::min(a.waitlist_limit, b.waitlist_limit);
  }
  result.rsvp_opens_at_ms = std::max(a.rsvp_opens_at_ms, b.rsvp_opens_at_ms);
  result.rsvp_closes_at_ms = std::min(a.rsvp_closes_at_ms, b.rsvp_closes_at_ms);
  return result;
}

std::string encode_rsvp_view(const RsvpView& view) {
  std::string bytes = encode(view.record);
  char position[8];
  std::memcpy(position, &view.waitlist_position, sizeof position);
  bytes.append(position, sizeof position);
  return bytes;
}

Result<RsvpView> decode_rsvp_view(std::string_view bytes) {
  if (bytes.size() < 8) return Status(StatusCode::kCorruption, "idempotent response too short");
  RsvpView view;
  std::memcpy(&view.waitlist_position, bytes.data() + bytes.size() - 8, 8);
  Result<RsvpRecord> record = decode_rsvp(bytes.substr(0, bytes.size() - 8));
  if (!record.is_ok()) return record.status();
  view.record = std::move(record).value();
  return view;
}

Writer::Writer(const WriterContext& context, uint64_t next_rsvp_id, uint64_t next_audit_seq)
    : context_(context), next_rsvp_id_(next_rsvp_id), next_audit_seq_(next_audit_seq) {
  last_progress_ms_.store(monotonic_ms(), std::memory_order_relaxed);
}

Writer::~Writer() {
  assert(!thread_.joinable() && "join() the writer before destroying it");
}

void Writer::start() {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "rsvpd-writer");  // For top -H, perf and gdb.
    run();
  });
}

void Writer::join() {
  if (thread_.joinable()) thread_.join();
}

void Writer::run() {
  std::vector<CommitRequest*> batch;
  batch.reserve(context_.batch_requests_max);
  for (;;) {
    batch.clear();
    last_progress_ms_.store(monotonic_ms(), std::memory_order_relaxed);
    if (context_.queue->pop_batch(batch, context_.batch_requests_max) == 0) return;
    busy_.store(true, std::memory_order_relaxed);  // Relaxed: a watchdog figure.
    process_batch(batch);
    busy_.store(false, std::memory_order_relaxed);
  }
}

Status Writer::promote_at_start(const std::vector<std::string>& activity_ids) {
  std::vector<CommitRequest*> none;
  BatchState state;
  state.next_rsvp_id = next_rsvp_id_;
  state.next_audit_seq = next_audit_seq_;
  state.now_ms = context_.clock->now_ms();
  Result<WriteTxn> txn = context_.store->begin_write();
  if (!txn.is_ok()) return txn.status();
  txn_ = std::make_unique<WriteTxn>(std::move(txn).value());
  for (const std::string& id : activity_ids) {
    Result<ActivityWork*> work = load_activity(state, id);
    if (!work.is_ok()) return work.status();
  }
  Status status = Status::ok();
  for (auto& [id, work] : state.activities) {
    status = promote(work, state);
    if (!status.is_ok()) break;
  }
  if (status.is_ok()) status = flush_activities(state);
  if (status.is_ok()) status = txn_->commit();
  txn_.reset();
  if (!status.is_ok()) {
    roll_back_segment(state);
    return status;
  }
  next_rsvp_id_ = state.next_rsvp_id;
  next_audit_seq_ = state.next_audit_seq;
  apply_to_segment(state);
  if (context_.listener != nullptr && !state.audit.empty()) {
    context_.listener->on_commit(state.audit);
  }
  return Status::ok();
}

void Writer::process_batch(std::vector<CommitRequest*>& batch) {
  const int64_t started_ms = monotonic_ms();
  const uint64_t syncs_before = Store::fdatasync_calls();
  for (int attempt = 0; attempt < kMapGrowAttemptsMax; ++attempt) {
    BatchState state;
    state.next_rsvp_id = next_rsvp_id_;
    state.next_audit_seq = next_audit_seq_;
    state.now_ms = context_.clock->now_ms();
    Status status = apply_batch(batch, state);
    if (status.is_ok()) {
      // Negative controls: answer before the commit (breaks "acknowledged means durable");
      // give seats back before the commit (breaks rule 1 when the commit then fails).
      if (failpoint_enabled("ack_before_commit")) complete(batch);
      if (failpoint_enabled("release_before_commit")) release_early(state);
      status = txn_->commit();
    }
    txn_.reset();
    if (status.is_ok()) {
      next_rsvp_id_ = state.next_rsvp_id;
      next_audit_seq_ = state.next_audit_seq;
      apply_to_segment(state);
      EngineMetrics& metrics = *context_.metrics;
      const uint64_t latency_us = static_cast<uint64_t>(monotonic_ms() - started_ms) * 1000;
      metrics.commits_total.fetch_add(1, std::memory_order_relaxed);
      metrics.batch_requests_total.fetch_add(batch.size(), std::memory_order_relaxed);
      fetch_max(metrics.batch_size_max, batch.size());
      metrics.fdatasync_calls_total.fetch_add(Store::fdatasync_calls() - syncs_before,
                                              std::memory_order_relaxed);
      metrics.commit_latency_us_total.fetch_add(latency_us, std::memory_order_relaxed);
      fetch_max(metrics.commit_latency_us_max, latency_us);
      shm::SegmentStats& stats = context_.segment->header().stats;
      stats.commits_total.fetch_add(1, std::memory_order_relaxed);
      stats.changes_committed_total.fetch_add(state.audit.size(), std::memory_order_relaxed);
      stats.commit_latency_us_last.store(latency_us, std::memory_order_relaxed);
      fetch_max(stats.commit_latency_us_max, latency_us);
      stats.fdatasync_calls_total.store(Store::fdatasync_calls(), std::memory_order_relaxed);
      if (context_.listener != nullptr && !state.audit.empty()) {
        context_.listener->on_commit(state.audit);
      }
      if (!failpoint_enabled("ack_before_commit")) complete(batch);
      return;
    }
    roll_back_segment(state);
    context_.metrics->commit_failures_total.fetch_add(1, std::memory_order_relaxed);
    if (status.code() == StatusCode::kMapFull) {
      const Status grown = context_.store->grow_map(context_.store->map_size_bytes() * 2);
      if (grown.is_ok()) {
        context_.metrics->map_grows_total.fetch_add(1, std::memory_order_relaxed);
        log_line("warn", "LMDB map full: grew the map to " +
                             std::to_string(context_.store->map_size_bytes()) + " bytes");
        continue;  // Replay the batch; admissions are still held.
      }
      status = Status(StatusCode::kStorageFull, "map full and cannot grow: " + grown.to_string());
    }
    if (status.code() == StatusCode::kIoError) {
      // EIO from the commit means the fsync failed: the page cache can no longer be trusted.
      log_line("fatal", "commit failed with an I/O error, exiting: " + status.to_string());
      std::abort();
    }
    if (status.code() == StatusCode::kStorageFull) {
      context_.metrics->storage_full_total.fetch_add(1, std::memory_order_relaxed);
    }
    log_line("error", "commit failed: " + status.to_string());
    fail_batch(batch, error_for_commit(status), status.to_string());
    return;
  }
  fail_batch(batch, ServiceError::kStorageFull, "map kept filling up");
}

Status Writer::apply_batch(std::vector<CommitRequest*>& batch, BatchState& state) {
  Result<WriteTxn> txn = context_.store->begin_write();
  if (!txn.is_ok()) return txn.status();
  txn_ = std::make_unique<WriteTxn>(std::move(txn).value());
  for (CommitRequest* request : batch) {
    // A request rejected on its merits in an earlier attempt stays rejected (nothing of it was
    // written and its answer does not depend on the commit).
    if (request->rejected) continue;
    Status status = apply(*request, state);
    if (!status.is_ok()) return status;
  }
  for (auto& [id, work] : state.activities) {
    Status status = promote(work, state);
    if (!status.is_ok()) return status;
  }
  Status status = finish_rsvp_outcomes(batch, state);
  if (!status.is_ok()) return status;
  return flush_activities(state);
}

Status Writer::apply(CommitRequest& request, BatchState& state) {
  switch (request.kind) {
    case CommitKind::kCreateActivity: return apply_create(request, state);
    case CommitKind::kUpdateActivity: return apply_update(request, state);
    case CommitKind::kRsvp: return apply_rsvp(request, state);
    case CommitKind::kCancel: return apply_cancel(request, state);
  }
  return Status(StatusCode::kInvalidArgument, "unknown commit kind");
}

Result<ActivityWork*> Writer::load_activity(BatchState& state, const std::string& id) {
  auto found = state.activities.find(id);
  if (found != state.activities.end()) return &found->second;
  Result<ActivityRecord> record = txn_->get_activity(id);
  if (!record.is_ok()) return record.status();
  ActivityWork work;
  work.record = std::move(record).value();
  work.settings_before = settings_of(work.record);
  if (const auto slot = context_.segment->find(id)) {
    work.in_segment = true;
    work.slot = *slot;
  }
  return &state.activities.emplace(id, std::move(work)).first->second;
}

Status Writer::append_audit(BatchState& state, ActivityWork& work, AuditRecord entry) {
  entry.seq = state.next_audit_seq++;
  entry.at_ms = state.now_ms;
  Status status = txn_->append_audit(entry);
  if (!status.is_ok()) return status;
  work.last_audit_seq = entry.seq;
  state.audit.push_back(std::move(entry));
  return Status::ok();
}

Status Writer::flush_activities(BatchState& state) {
  for (auto& [id, work] : state.activities) {
    if (!work.dirty) continue;
    // Invariant 1 at the storage boundary: never commit an overbooked activity.
    if (work.record.confirmed_seats > work.record.capacity) {
      context_.metrics->overbooking_detected_total.fetch_add(1, std::memory_order_relaxed);
      return Status(StatusCode::kCorruption, "refusing to commit overbooked activity " + id);
    }
    Status status = txn_->put_activity(work.record);
    if (!status.is_ok()) return status;
  }
  return Status::ok();
}

void Writer::roll_back_segment(BatchState& state) {
  for (auto& [id, work] : state.activities) {
    if (!work.in_segment) continue;
    shm::ActivitySlot& slot = context_.segment->slot(work.slot);
    if (work.promotion_seats_taken > 0) {
      shm::release_committed(slot, work.promotion_seats_taken, 0);
      work.promotion_seats_taken = 0;
    }
    if (work.restrictive_settings_installed) {
      // Back to the settings from before the batch: no more restrictive than what is installed,
      // so the provisional total fits.
      [[maybe_unused]] const auto outcome = shm::change_settings(slot, work.settings_before);
      assert(outcome == shm::SettingsChangeOutcome::kApplied);
      work.restrictive_settings_installed = false;
    }
  }
}

void Writer::apply_to_segment(BatchState& state) {
  shm::Segment& segment = *context_.segment;
  for (auto& [id, work] : state.activities) {
    if (work.is_new) {
      const auto inserted = segment.insert(id, [&](shm::ActivitySlot& slot) {
        shm::initialize_slot(slot, settings_of(work.record), work.record.confirmed_seats,
                             work.record.waitlist_length);
        shm::publish_snapshot(slot, snapshot_of(work.record, work.last_audit_seq));
      });
      assert(inserted.outcome == shm::InsertOutcome::kInserted && "has_room_for said yes");
      (void)inserted;
      continue;
    }
    if (!work.in_segment) continue;
    shm::ActivitySlot& slot = segment.slot(work.slot);
    if (work.settings_changed) {
      [[maybe_unused]] const auto outcome = shm::change_settings(slot, settings_of(work.record));
      assert(outcome == shm::SettingsChangeOutcome::kApplied);
    }
    // Rule 1: give back only now that the commit holding the release succeeded.
    if (!failpoint_enabled("release_before_commit")) {
      shm::release_committed(slot, work.freed_seats, work.parties_left);
    }
    for (const uint64_t ticket : work.tickets_removed) context_.waitlists->remove(id, ticket);
    for (const uint64_t ticket : work.tickets_added) context_.waitlists->add(id, ticket);
    shm::publish_snapshot(slot, snapshot_of(work.record, work.last_audit_seq));
    if (work.record.status == ActivityStatus::kArchived) {
      segment.retire(work.slot);
      context_.waitlists->forget(id);
    }
  }
  shm::announce_change(segment.header());
}

void Writer::release_early(BatchState& state) {
  for (auto& [id, work] : state.activities) {
    if (!work.in_segment) continue;
    shm::release_committed(context_.segment->slot(work.slot), work.freed_seats, work.parties_left);
  }
}

void Writer::fail_batch(std::vector<CommitRequest*>& batch, ServiceError error,
                        const std::string& why) {
  for (CommitRequest* request : batch) {
    if (request == nullptr) continue;  // Already answered (the ack_before_commit failpoint).
    if (request->holds_place) {
      shm::ActivitySlot& slot = context_.segment->slot(request->slot);
      shm::undo_admission(slot, request->admitted, request->rsvp.guests + 1);
      request->holds_place = false;
    }
    // Answers decided on their merits (409, 422...) stand; the rest fail with the commit.
    if (request->rejected) continue;
    switch (request->kind) {
      case CommitKind::kCreateActivity:
      case CommitKind::kUpdateActivity:
        request->activity_outcome = failed<ActivityView>(error, why);
        break;
      case CommitKind::kRsvp: request->rsvp_outcome = failed<RsvpCreated>(error, why); break;
      case CommitKind::kCancel: request->cancel_outcome = failed<RsvpView>(error, why); break;
    }
  }
  complete(batch);
}

void Writer::complete(std::vector<CommitRequest*>& batch) {
  for (CommitRequest*& request : batch) {
    if (request == nullptr) continue;  // Completed early (the ack_before_commit failpoint).
    std::unique_ptr<CommitRequest> owned(request);
    request = nullptr;
    switch (owned->kind) {
      case CommitKind::kCreateActivity:
      case CommitKind::kUpdateActivity:
        owned->done_activity(std::move(owned->activity_outcome));
        break;
      case CommitKind::kRsvp: {
        const bool succeeded = owned->rsvp_outcome.ok();
        const uint64_t rsvp_id = succeeded ? owned->rsvp_outcome.value.rsvp.record.id : 0;
        if (owned->release_claims) owned->release_claims(succeeded, rsvp_id);
        owned->done_rsvp(std::move(owned->rsvp_outcome));
        break;
      }
      case CommitKind::kCancel: owned->done_cancel(std::move(owned->cancel_outcome)); break;
    }
  }
}

}  // namespace rsvpd
