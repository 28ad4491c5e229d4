// Service: every rule of the API contract that is not about HTTP (API.md), on top of the
// shared-memory admission protocol and the LMDB store. This is what the HTTP layer calls.
//
// Changes (create/update activity, RSVP, cancel) are asynchronous: the caller gets its answer
// through `done`, called exactly once, only after the LMDB commit that holds the change returned
// success (DESIGN.md §1.2) — or with a failure, in which case nothing was written. `done` runs on
// the calling thread (early failures: validation, 404, 403, overloaded) or on the writer thread
// (everything that reached the commit queue); it must not block.
//
// Reads are synchronous: short LMDB read transactions or the segment's committed snapshot.
// They see committed state only.
//
// Order of checks (API.md): the HTTP layer does authentication, body syntax and field syntax;
// the service then answers existence (404) → permission (403) → state (409/412), and the few
// field checks that need the activity (`guests > max_guests`, party larger than capacity: 422),
// which come before existence-independent state checks but after 404.
//
// Thread safety: every method may be called from any thread concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/clock.h"
#include "daemon/records.h"
#include "daemon/status.h"

namespace rsvpd {

// Who is asking, as the HTTP layer authenticated it.
struct Caller {
  std::string sub;  // The token's subject: a user id.
  bool host = false;
  bool admin = false;
  std::string request_id;  // Recorded in the audit trail.
};

enum class ServiceError {
  kNone = 0,
  kActivityNotFound,           // 404 activity-not-found
  kRsvpNotFound,               // 404 rsvp-not-found
  kForbidden,                  // 403 forbidden
  kInvalidField,               // 422 invalid-field (field + message)
  kActivityExists,             // 409 activity-exists
  kAlreadyRsvped,              // 409 already-rsvped (conflicting_rsvp_id)
  kRsvpClosed,                 // 409 rsvp-closed
  kActivityArchived,           // 409 activity-archived
  kActivityFull,               // 409 activity-full
  kCapacityBelowConfirmed,     // 409 capacity-below-confirmed
  kCapacityBelowWaitingParty,  // 409 capacity-below-waiting-party
  kVersionMismatch,            // 412 version-mismatch
  kIdempotencyKeyReused,       // 422 idempotency-key-reused
  kIdempotencyKeyInFlight,     // 409 idempotency-key-in-flight
  kOverloaded,                 // 503 overloaded (Retry-After)
  kStorageFull,                // 503 storage-full
  kActivityTableFull,          // 507 activity-table-full
  kShutdown,                   // 503: the daemon is stopping
  kInternal,                   // 500: a bug or an invariant violation; logged loudly
};

std::string_view service_error_name(ServiceError error) noexcept;

// A value or the reason there is none.
template <typename T>
struct ServiceOutcome {
  ServiceError error = ServiceError::kNone;
  std::string field;    // kInvalidField: the offending field.
  std::string message;  // Human detail for the problem document.
  uint64_t conflicting_rsvp_id = 0;  // kAlreadyRsvped: the existing live RSVP.
  T value{};

  bool ok() const noexcept { return error == ServiceError::kNone; }
  static ServiceOutcome failure(ServiceError error, std::string message,
                                std::string field = {}) {
    ServiceOutcome outcome;
    outcome.error = error;
    outcome.message = std::move(message);
    outcome.field = std::move(field);
    return outcome;
  }
};

// An activity as the API shows it: the committed record (counts included).
struct ActivityView {
  ActivityRecord record;
  uint32_t available_seats() const noexcept { return record.capacity - record.confirmed_seats; }
};

// An RSVP as the API shows it.
struct RsvpView {
  RsvpRecord record;
  uint64_t waitlist_position = 0;  // 1-based while waitlisted, else 0 (the API's null).
};

// POST /activities. Field syntax and ranges are validated by the caller (422 there).
struct NewActivity {
  std::optional<std::string> id;  // Absent: the service assigns one.
  std::string title;
  uint32_t capacity = 1;
  uint32_t max_guests = 0;
  bool waitlist_enabled = true;
  uint32_t waitlist_limit = 0;  // 0 = unlimited (the API's absent or null).
  std::optional<int64_t> rsvp_opens_at_ms;
  std::optional<int64_t> rsvp_closes_at_ms;
  std::optional<std::string> host_id;  // Admin only (403 otherwise).
};

// PATCH /activities/{id}. An absent member leaves the setting; for the nullable ones an engaged
// outer optional holding nullopt clears it.
struct ActivityPatch {
  std::optional<std::string> title;
  std::optional<uint32_t> capacity;
  std::optional<uint32_t> max_guests;
  std::optional<bool> waitlist_enabled;
  std::optional<std::optional<uint32_t>> waitlist_limit;
  std::optional<ActivityStatus> status;
  std::optional<std::optional<int64_t>> rsvp_opens_at_ms;
  std::optional<std::optional<int64_t>> rsvp_closes_at_ms;
  std::optional<uint64_t> if_match_version;  // If-Match: "<version>".
};

// POST /rsvps.
struct NewRsvp {
  std::string activity_id;
  uint32_t guests = 0;
  std::optional<std::string> user_id;          // On behalf of (admin only; 403 otherwise).
  std::optional<std::string> idempotency_key;  // Scoped to the caller's sub.
  std::string request_fingerprint;  // Canonical form of the body, compared on key reuse.
};

struct RsvpCreated {
  RsvpView rsvp;          // As it was when first committed (also on a replay).
  bool replayed = false;  // Idempotent-Replayed: true.
};

enum class ParticipantFilter { kAll, kConfirmed, kWaitlisted };

struct RsvpPage {
  std::vector<RsvpView> rsvps;
  std::optional<std::string> next_cursor;
};

struct ParticipantsPage {
  ActivityView activity;
  std::vector<RsvpView> participants;
  std::optional<std::string> next_cursor;
};

struct CapacityView {
  std::string activity_id;
  uint32_t capacity = 0;
  uint32_t confirmed_seats = 0;
  uint32_t available_seats = 0;
  uint32_t waitlist_length = 0;
  uint32_t waitlisted_seats = 0;
  ActivityStatus status = ActivityStatus::kOpen;
  uint64_t version = 0;
  uint64_t last_audit_seq = 0;
  // Only for a check with a party size: what an RSVP of that size would get now.
  bool would_confirm = false;
  bool would_waitlist = false;
};

struct AuditPage {
  std::vector<AuditRecord> entries;
  std::optional<uint64_t> next_after;
};

// Called by the writer thread after every successful commit with the audit entries it holds,
// in seq order (the feed behind Server-Sent Events). Must not block.
class CommitListener {
 public:
  virtual ~CommitListener() = default;
  // Called once by start(), after recovery and before any commit: the last audit seq in LMDB
  // (0 for an empty store), so the listener knows where the feed stands before it moves.
  virtual void on_recovered(uint64_t last_audit_seq) = 0;
  virtual void on_commit(const std::vector<AuditRecord>& entries) = 0;
};

// Counters the HTTP layer exports on /metrics. Relaxed atomics: figures, not invariants.
struct EngineMetrics {
  std::atomic<uint64_t> commits_total{0};
  std::atomic<uint64_t> commit_failures_total{0};
  std::atomic<uint64_t> batch_requests_total{0};     // Sum of batch sizes.
  std::atomic<uint64_t> batch_size_max{0};
  std::atomic<uint64_t> fdatasync_calls_total{0};    // Made by commits.
  std::atomic<uint64_t> commit_latency_us_total{0};  // Sum over commits (begin → commit ok).
  std::atomic<uint64_t> commit_latency_us_max{0};
  std::atomic<uint64_t> cas_retries_total{0};
  std::atomic<uint64_t> serialized_admissions_total{0};  // Contended → writer.
  std::atomic<uint64_t> promotions_total{0};
  std::atomic<uint64_t> overbooking_detected_total{0};   // Must stay 0.
  // Duplicates of a live (user, activity) that took a place before the writer refused them;
  // the claim table exists so that this stays 0 (DESIGN.md §2 rule 4).
  std::atomic<uint64_t> duplicate_admissions_total{0};
  std::atomic<uint64_t> overloaded_total{0};
  std::atomic<uint64_t> storage_full_total{0};
  std::atomic<uint64_t> map_grows_total{0};
};

struct ServiceOptions {
  std::string data_dir = "./rsvpd-data";
  std::string shm_name = "rsvpd";
  uint32_t activities_max = 10'000;  // Raised at start to 2 × the stored live activities.
  size_t commit_queue_capacity = 65'536;  // A power of two; full → overloaded.
  size_t batch_requests_max = 4'096;      // One LMDB transaction at most.
  int64_t idempotency_ttl_ms = 24 * 3600 * 1000;
  int64_t writer_stall_ms_max = 5'000;    // ready() turns false beyond it.
  size_t map_size_bytes = size_t{64} << 30;
};

class Service {
 public:
  // Opens the store (exclusive lock on the data dir: kBusy if another daemon runs), rebuilds the
  // segment from LMDB, rebuilds waitlist positions, starts the writer thread and runs a promotion
  // pass over every activity before returning. Errors: the store's and the segment's.
  static Result<std::unique_ptr<Service>> open(const ServiceOptions& options, const Clock& clock,
                                               CommitListener* listener);
  virtual ~Service() = default;

  // Stops accepting changes (kShutdown), lets the writer commit everything queued, joins it and
  // marks the segment stopped. Idempotent. Called by the destructor too.
  virtual void stop() = 0;

  // --- changes (asynchronous) -------------------------------------------------------------
  virtual void create_activity(const Caller& caller, NewActivity input,
                               std::function<void(ServiceOutcome<ActivityView>)> done) = 0;
  virtual void update_activity(const Caller& caller, std::string activity_id, ActivityPatch patch,
                               std::function<void(ServiceOutcome<ActivityView>)> done) = 0;
  virtual void create_rsvp(const Caller& caller, NewRsvp input,
                           std::function<void(ServiceOutcome<RsvpCreated>)> done) = 0;
  // Cancelling an already cancelled RSVP answers it unchanged.
  virtual void cancel_rsvp(const Caller& caller, uint64_t rsvp_id,
                           std::function<void(ServiceOutcome<RsvpView>)> done) = 0;

  // --- reads (synchronous) ----------------------------------------------------------------
  virtual ServiceOutcome<ActivityView> get_activity(std::string_view activity_id) = 0;
  virtual ServiceOutcome<RsvpView> get_rsvp(const Caller& caller, uint64_t rsvp_id) = 0;
  // `cursor` as returned in next_cursor (empty = first page); a bad cursor → kInvalidField
  // "cursor". REQUIRES: 1 <= limit <= 500.
  virtual ServiceOutcome<RsvpPage> user_rsvps(const Caller& caller, std::string_view user_id,
                                              std::optional<RsvpStatus> status, size_t limit,
                                              std::string_view cursor) = 0;
  virtual ServiceOutcome<ParticipantsPage> participants(const Caller& caller,
                                                        std::string_view activity_id,
                                                        ParticipantFilter filter, size_t limit,
                                                        std::string_view cursor) = 0;
  // Committed state from the segment (LMDB for archived activities). With `guests`, fills
  // would_confirm / would_waitlist for a party of 1 + guests.
  virtual ServiceOutcome<CapacityView> capacity(std::string_view activity_id,
                                                std::optional<uint32_t> guests) = 0;
  virtual ServiceOutcome<AuditPage> audit(const Caller& caller, std::string_view activity_id,
                                          uint64_t after_seq, size_t limit) = 0;
  // A user's audit entries after `after_seq` (SSE replay of /users/me/events).
  virtual ServiceOutcome<AuditPage> user_audit(std::string_view user_id, uint64_t after_seq,
                                               size_t limit) = 0;

  // --- operations -------------------------------------------------------------------------
  // Store open, segment attached, writer alive and not stalled beyond writer_stall_ms_max.
  virtual bool ready() const = 0;
  virtual const EngineMetrics& metrics() const = 0;
  // Refreshes the segment heartbeat and runs mdb_reader_check; call about once a second.
  virtual void tick() = 0;
};

}  // namespace rsvpd
