// The service's caller-side half: validation that needs stored state, claims, the commit-queue
// reservation, the admission CAS and the hand-over to the writer; plus the synchronous reads.
#include "daemon/service.h"

#include <sys/random.h>

#include <cassert>
#include <cstdio>
#include <utility>

#include "daemon/admission_error.h"
#include "daemon/claim_table.h"
#include "daemon/commit_queue.h"
#include "daemon/recovery.h"
#include "daemon/store.h"
#include "daemon/waitlist_registry.h"
#include "daemon/writer.h"
#include "shm/admission.h"
#include "shm/failpoint.h"
#include "shm/segment.h"
#include "shm/snapshot.h"

namespace rsvpd {

std::string_view service_error_name(ServiceError error) noexcept {
  switch (error) {
    case ServiceError::kNone: return "none";
    case ServiceError::kActivityNotFound: return "activity-not-found";
    case ServiceError::kRsvpNotFound: return "rsvp-not-found";
    case ServiceError::kForbidden: return "forbidden";
    case ServiceError::kInvalidField: return "invalid-field";
    case ServiceError::kActivityExists: return "activity-exists";
    case ServiceError::kAlreadyRsvped: return "already-rsvped";
    case ServiceError::kRsvpClosed: return "rsvp-closed";
    case ServiceError::kActivityArchived: return "activity-archived";
    case ServiceError::kActivityFull: return "activity-full";
    case ServiceError::kCapacityBelowConfirmed: return "capacity-below-confirmed";
    case ServiceError::kCapacityBelowWaitingParty: return "capacity-below-waiting-party";
    case ServiceError::kVersionMismatch: return "version-mismatch";
    case ServiceError::kIdempotencyKeyReused: return "idempotency-key-reused";
    case ServiceError::kIdempotencyKeyInFlight: return "idempotency-key-in-flight";
    case ServiceError::kOverloaded: return "overloaded";
    case ServiceError::kStorageFull: return "storage-full";
    case ServiceError::kActivityTableFull: return "activity-table-full";
    case ServiceError::kShutdown: return "shutdown";
    case ServiceError::kInternal: return "internal";
  }
  return "unknown";
}

namespace {

constexpr size_t kGeneratedIdRandomChars = 20;

template <typename T>
ServiceOutcome<T> failed(ServiceError error, std::string message, std::string field = {}) {
  return ServiceOutcome<T>::failure(error, std::move(message), std::move(field));
}

template <typename T>
ServiceOutcome<T> storage_failure(const Status& status) {
  return failed<T>(ServiceError::kInternal, "storage read failed: " + status.to_string());
}

template <typename T>
ServiceOutcome<T> success(T value) {
  ServiceOutcome<T> outcome;
  outcome.value = std::move(value);
  return outcome;
}

// "a_" + 20 base32 characters from the kernel's random pool: ids nobody can guess or collide.
std::string generate_activity_id() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  unsigned char random[kGeneratedIdRandomChars];
  size_t filled = 0;
  while (filled < sizeof random) {
    const ssize_t got = getrandom(random + filled, sizeof random - filled, 0);
    if (got > 0) filled += static_cast<size_t>(got);
  }
  std::string id = "a_";
  for (const unsigned char byte : random) id.push_back(kAlphabet[byte % 32]);
  return id;
}

bool may_manage(const Caller& caller, const ActivityRecord& activity) {
  return caller.admin || caller.sub == activity.host_id;
}

// Cursor of the participants listing: "c<confirm_order>" or "w<ticket>".
struct ParticipantsCursor {
  bool waiting_phase = false;
  uint64_t after = 0;
};

std::optional<ParticipantsCursor> parse_participants_cursor(std::string_view text) {
  if (text.empty()) return ParticipantsCursor{};
  if (text.size() < 2 || text.size() > 21 || (text[0] != 'c' && text[0] != 'w')) {
    return std::nullopt;
  }
  uint64_t value = 0;
  for (const char c : text.substr(1)) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return ParticipantsCursor{text[0] == 'w', value};
}

class ServiceImpl final : public Service {
 public:
  ServiceImpl(const ServiceOptions& options, const Clock& clock, CommitListener* listener)
      : options_(options), clock_(clock), listener_(listener),
        queue_(options.commit_queue_capacity) {}

  ~ServiceImpl() override { stop(); }

  Status start();
  void stop() override;

  void create_activity(const Caller& caller, NewActivity input,
                       std::function<void(ServiceOutcome<ActivityView>)> done) override;
  void update_activity(const Caller& caller, std::string activity_id, ActivityPatch patch,
                       std::function<void(ServiceOutcome<ActivityView>)> done) override;
  void create_rsvp(const Caller& caller, NewRsvp input,
                   std::function<void(ServiceOutcome<RsvpCreated>)> done) override;
  void cancel_rsvp(const Caller& caller, uint64_t rsvp_id,
                   std::function<void(ServiceOutcome<RsvpView>)> done) override;

  ServiceOutcome<ActivityView> get_activity(std::string_view activity_id) override;
  ServiceOutcome<RsvpView> get_rsvp(const Caller& caller, uint64_t rsvp_id) override;
  ServiceOutcome<RsvpPage> user_rsvps(const Caller& caller, std::string_view user_id,
                                      std::optional<RsvpStatus> status, size_t limit,
                                      std::string_view cursor) override;
  ServiceOutcome<ParticipantsPage> participants(const Caller& caller,
                                                std::string_view activity_id,
                                                ParticipantFilter filter, size_t limit,
                                                std::string_view cursor) override;
  ServiceOutcome<CapacityView> capacity(std::string_view activity_id,
                                        std::optional<uint32_t> guests) override;
  ServiceOutcome<AuditPage> audit(const Caller& caller, std::string_view activity_id,
                                  uint64_t after_seq, size_t limit) override;
  ServiceOutcome<AuditPage> user_audit(std::string_view user_id, uint64_t after_seq,
                                       size_t limit) override;

  bool ready() const override;
  const EngineMetrics& metrics() const override { return metrics_; }
  void tick() override;

 private:
  // Reads one activity in a short read transaction.
  Result<ActivityRecord> read_activity(std::string_view activity_id);
  RsvpView view_of(RsvpRecord record) const;
  void push(std::unique_ptr<CommitRequest> request);
  // The steps of an RSVP on the caller's thread; `claims_held` says which claims this attempt
  // already owns (a continuation re-enters with the ones it got).
  void rsvp_after_lookup(const Caller& caller, NewRsvp input,
                         std::function<void(ServiceOutcome<RsvpCreated>)> done,
                         shm::SlotRef slot);
  bool replay_idempotent(const Caller& caller, const NewRsvp& input,
                         std::function<void(ServiceOutcome<RsvpCreated>)>& done);

  ServiceOptions options_;
  const Clock& clock_;
  CommitListener* listener_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<shm::Segment> segment_;
  WaitlistRegistry waitlists_;
  EngineMetrics metrics_;
  CommitQueue<CommitRequest> queue_;
  ClaimTable claims_;
  std::unique_ptr<Writer> writer_;
  std::atomic<bool> stopped_{false};
};

Status ServiceImpl::start() {
  StoreOptions store_options;
  store_options.data_dir = options_.data_dir;
  store_options.map_size_bytes = options_.map_size_bytes;
  Result<std::unique_ptr<Store>> store = Store::open(store_options);
  if (!store.is_ok()) return store.status();
  store_ = std::move(store).value();
  Result<int> cleared = store_->check_readers();
  if (!cleared.is_ok()) return cleared.status();
  Result<Recovered> recovered = recover(*store_, options_, waitlists_);
  if (!recovered.is_ok()) return recovered.status();
  segment_ = std::move(recovered->segment);
  WriterContext context;
  context.store = store_.get();
  context.segment = segment_.get();
  context.waitlists = &waitlists_;
  context.metrics = &metrics_;
  context.clock = &clock_;
  context.listener = listener_;
  context.queue = &queue_;
  context.batch_requests_max = options_.batch_requests_max;
  context.idempotency_ttl_ms = options_.idempotency_ttl_ms;
  writer_ = std::make_unique<Writer>(context, recovered->next_rsvp_id, recovered->next_audit_seq);
  if (listener_ != nullptr) listener_->on_recovered(recovered->next_audit_seq - 1);
  // DESIGN.md §1.6: a crash may have left free seats beside waiting parties.
  Status promoted = writer_->promote_at_start(recovered->live_activity_ids);
  if (!promoted.is_ok()) return promoted;
  writer_->start();
  return Status::ok();
}

void ServiceImpl::stop() {
  if (stopped_.exchange(true)) return;
  queue_.stop();
  if (writer_) writer_->join();
  if (segment_) segment_->mark_stopped();
}

void ServiceImpl::push(std::unique_ptr<CommitRequest> request) {
  queue_.push(request.release());  // The writer owns it from here.
}

Result<ActivityRecord> ServiceImpl::read_activity(std::string_view activity_id) {
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) return txn.status();
  return txn->get_activity(activity_id);
}

RsvpView ServiceImpl::view_of(RsvpRecord record) const {
  RsvpView view;
  if (record.status == RsvpStatus::kWaitlisted) {
    view.waitlist_position = waitlists_.position(record.activity_id, record.ticket);
  }
  view.record = std::move(record);
  return view;
}

void ServiceImpl::create_activity(const Caller& caller, NewActivity input,
                                  std::function<void(ServiceOutcome<ActivityView>)> done) {
  if (!caller.host && !caller.admin) {
    return done(failed<ActivityView>(ServiceError::kForbidden, "creating activities needs the "
                                                               "host or admin role"));
  }
  if (input.host_id && !caller.admin) {
    return done(failed<ActivityView>(ServiceError::kForbidden, "only admins may set host_id"));
  }
  if (input.rsvp_opens_at_ms && input.rsvp_closes_at_ms &&
      *input.rsvp_opens_at_ms >= *input.rsvp_closes_at_ms) {
    return done(failed<ActivityView>(ServiceError::kInvalidField,
                                     "rsvp_closes_at must be after rsvp_opens_at",
                                     "rsvp_closes_at"));
  }
  if (!queue_.try_reserve()) {
    metrics_.overloaded_total.fetch_add(1, std::memory_order_relaxed);
    return done(failed<ActivityView>(stopped_ ? ServiceError::kShutdown : ServiceError::kOverloaded,
                                     "the commit queue is full"));
  }
  auto request = std::make_unique<CommitRequest>();
  request->kind = CommitKind::kCreateActivity;
  request->caller = caller;
  if (!input.id) input.id = generate_activity_id();
  request->new_activity = std::move(input);
  request->done_activity = std::move(done);
  push(std::move(request));
}

void ServiceImpl::update_activity(const Caller& caller, std::string activity_id,
                                  ActivityPatch patch,
                                  std::function<void(ServiceOutcome<ActivityView>)> done) {
  Result<ActivityRecord> activity = read_activity(activity_id);
  if (!activity.is_ok()) {
    if (activity.status().code() == StatusCode::kNotFound) {
      return done(failed<ActivityView>(ServiceError::kActivityNotFound, "no such activity"));
    }
    return done(storage_failure<ActivityView>(activity.status()));
  }
  if (!may_manage(caller, activity.value())) {
    return done(failed<ActivityView>(ServiceError::kForbidden,
                                     "only the activity's host or an admin may change it"));
  }
  if (!queue_.try_reserve()) {
    metrics_.overloaded_total.fetch_add(1, std::memory_order_relaxed);
    return done(failed<ActivityView>(stopped_ ? ServiceError::kShutdown : ServiceError::kOverloaded,
                                     "the commit queue is full"));
  }
  auto request = std::make_unique<CommitRequest>();
  request->kind = CommitKind::kUpdateActivity;
  request->caller = caller;
  request->activity_id = std::move(activity_id);
  request->patch = std::move(patch);
  request->done_activity = std::move(done);
  push(std::move(request));
}

void ServiceImpl::create_rsvp(const Caller& caller, NewRsvp input,
                              std::function<void(ServiceOutcome<RsvpCreated>)> done) {
  const auto slot = segment_->find(input.activity_id);
  if (!slot) {
    // Not live in the segment: unknown, archived, or committed a moment ago and not yet
    // inserted (the writer inserts right after the commit).
    Result<ActivityRecord> activity = read_activity(input.activity_id);
    if (!activity.is_ok()) {
      if (activity.status().code() == StatusCode::kNotFound) {
        return done(failed<RsvpCreated>(ServiceError::kActivityNotFound, "no such activity"));
      }
      return done(storage_failure<RsvpCreated>(activity.status()));
    }
    if (activity->status != ActivityStatus::kArchived) {
      return done(failed<RsvpCreated>(ServiceError::kOverloaded, "the activity is being created"));
    }
    if (input.user_id && !caller.admin) {
      return done(failed<RsvpCreated>(ServiceError::kForbidden, "only admins may RSVP for others"));
    }
    return done(failed<RsvpCreated>(ServiceError::kActivityArchived, "the activity is archived"));
  }
  // 422 for the party (it needs the activity) before 403, as the API orders checks.
  shm::ActivitySettings settings;
  uint32_t epoch = 0;
  if (shm::read_settings(segment_->slot(*slot), settings, epoch)) {
    if (input.guests > settings.max_guests) {
      return done(failed<RsvpCreated>(ServiceError::kInvalidField,
                                      "more guests than the activity's max_guests", "guests"));
    }
    if (uint64_t{input.guests} + 1 > settings.capacity) {
      return done(failed<RsvpCreated>(ServiceError::kInvalidField,
                                      "the party is larger than the activity's capacity",
                                      "guests"));
    }
  }
  if (input.user_id && !caller.admin) {
    return done(failed<RsvpCreated>(ServiceError::kForbidden, "only admins may RSVP for others"));
  }
  rsvp_after_lookup(caller, std::move(input), std::move(done), *slot);
}

bool ServiceImpl::replay_idempotent(const Caller& caller, const NewRsvp& input,
                                    std::function<void(ServiceOutcome<RsvpCreated>)>& done) {
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) {
    done(storage_failure<RsvpCreated>(txn.status()));
    return true;
  }
  Result<IdempotencyRecord> stored = txn->get_idempotency(caller.sub, *input.idempotency_key);
  if (!stored.is_ok()) {
    if (stored.status().code() == StatusCode::kNotFound) return false;
    done(storage_failure<RsvpCreated>(stored.status()));
    return true;
  }
  if (clock_.now_ms() - stored->created_at_ms >= options_.idempotency_ttl_ms) return false;
  if (stored->request_fingerprint != input.request_fingerprint) {
    done(failed<RsvpCreated>(ServiceError::kIdempotencyKeyReused,
                             "this Idempotency-Key was used with a different request",
                             "Idempotency-Key"));
    return true;
  }
  Result<RsvpView> view = decode_rsvp_view(stored->response_body);
  if (!view.is_ok()) {
    done(storage_failure<RsvpCreated>(view.status()));
    return true;
  }
  RsvpCreated created;
  created.rsvp = std::move(view).value();
  created.replayed = true;
  done(success(std::move(created)));
  return true;
}

void ServiceImpl::rsvp_after_lookup(const Caller& caller, NewRsvp input,
                                    std::function<void(ServiceOutcome<RsvpCreated>)> done,
                                    shm::SlotRef slot) {
  const std::string user_id = input.user_id.value_or(caller.sub);
  // Rule 4: one request per (sub, key) and per (user, activity) proceeds; the others continue
  // with its outcome, by evaluating afresh once it is durable (or failed).
  auto retry = [this, caller, input, done](const ClaimOutcome&) {
    create_rsvp(caller, input, done);
  };
  std::string key_claim;
  if (input.idempotency_key) {
    key_claim = ClaimTable::idempotency_key(caller.sub, *input.idempotency_key);
    const auto claimed = claims_.claim(key_claim, retry);
    if (claimed == ClaimTable::ClaimResult::kQueued) return;
    if (claimed == ClaimTable::ClaimResult::kFull) {
      return done(failed<RsvpCreated>(ServiceError::kOverloaded, "too many requests in flight"));
    }
    if (replay_idempotent(caller, input, done)) return claims_.release(key_claim, {});
  }
  auto release_key = [this, key_claim](bool succeeded, uint64_t rsvp_id) {
    if (!key_claim.empty()) claims_.release(key_claim, ClaimOutcome{succeeded, rsvp_id});
  };
  const bool guard_duplicates = !failpoint_enabled("skip_duplicate_claim");
  std::string user_claim;
  if (guard_duplicates) {
    user_claim = ClaimTable::user_activity_key(user_id, input.activity_id);
    const auto claimed = claims_.claim(user_claim, retry);
    if (claimed == ClaimTable::ClaimResult::kQueued) return release_key(false, 0);
    if (claimed == ClaimTable::ClaimResult::kFull) {
      release_key(false, 0);
      return done(failed<RsvpCreated>(ServiceError::kOverloaded, "too many requests in flight"));
    }
  }
  auto release_all = [this, release_key, user_claim](bool succeeded, uint64_t rsvp_id) {
    if (!user_claim.empty()) claims_.release(user_claim, ClaimOutcome{succeeded, rsvp_id});
    release_key(succeeded, rsvp_id);
  };
  if (guard_duplicates) {
    Result<ReadTxn> txn = store_->begin_read();
    Result<uint64_t> live = txn.is_ok() ? txn->get_live_rsvp(user_id, input.activity_id)
                                        : Result<uint64_t>(txn.status());
    if (live.is_ok()) {
      release_all(false, 0);
      auto outcome = failed<RsvpCreated>(ServiceError::kAlreadyRsvped,
                                         "this user already has a live RSVP for the activity");
      outcome.conflicting_rsvp_id = live.value();
      return done(std::move(outcome));
    }
    if (live.status().code() != StatusCode::kNotFound) {
      release_all(false, 0);
      return done(storage_failure<RsvpCreated>(live.status()));
    }
  }
  if (!queue_.try_reserve()) {
    release_all(false, 0);
    metrics_.overloaded_total.fetch_add(1, std::memory_order_relaxed);
    return done(failed<RsvpCreated>(stopped_ ? ServiceError::kShutdown : ServiceError::kOverloaded,
                                    "the commit queue is full"));
  }
  // Rule 1: the admission takes its place now, provisionally; the writer commits or undoes it.
  const shm::AdmitResult admitted =
      shm::admit(segment_->slot(slot), input.guests, clock_.now_ms());
  metrics_.cas_retries_total.fetch_add(static_cast<uint64_t>(admitted.attempts - 1),
                                       std::memory_order_relaxed);
  if (!shm::admission_holds_place(admitted.outcome) &&
      admitted.outcome != shm::AdmitOutcome::kContended) {
    queue_.cancel_reservation();
    release_all(false, 0);
    AdmissionRefusal refusal = admission_refusal(admitted.outcome);
    return done(failed<RsvpCreated>(refusal.error, std::move(refusal.message),
                                    std::move(refusal.field)));
  }
  auto request = std::make_unique<CommitRequest>();
  request->kind = CommitKind::kRsvp;
  request->caller = caller;
  request->user_id = user_id;
  request->slot = slot;
  request->admitted = admitted.outcome;
  request->holds_place = shm::admission_holds_place(admitted.outcome);
  request->rsvp = std::move(input);
  request->done_rsvp = std::move(done);
  request->release_claims = std::move(release_all);
  push(std::move(request));
}

void ServiceImpl::cancel_rsvp(const Caller& caller, uint64_t rsvp_id,
                              std::function<void(ServiceOutcome<RsvpView>)> done) {
  ServiceOutcome<RsvpView> current = get_rsvp(caller, rsvp_id);  // 404, then 403.
  if (!current.ok()) return done(std::move(current));
  if (!queue_.try_reserve()) {
    metrics_.overloaded_total.fetch_add(1, std::memory_order_relaxed);
    return done(failed<RsvpView>(stopped_ ? ServiceError::kShutdown : ServiceError::kOverloaded,
                                 "the commit queue is full"));
  }
  auto request = std::make_unique<CommitRequest>();
  request->kind = CommitKind::kCancel;
  request->caller = caller;
  request->rsvp_id = rsvp_id;
  request->done_cancel = std::move(done);
  push(std::move(request));
}

ServiceOutcome<ActivityView> ServiceImpl::get_activity(std::string_view activity_id) {
  Result<ActivityRecord> activity = read_activity(activity_id);
  if (activity.is_ok()) return success(ActivityView{std::move(activity).value()});
  if (activity.status().code() == StatusCode::kNotFound) {
    return failed<ActivityView>(ServiceError::kActivityNotFound, "no such activity");
  }
  return storage_failure<ActivityView>(activity.status());
}

ServiceOutcome<RsvpView> ServiceImpl::get_rsvp(const Caller& caller, uint64_t rsvp_id) {
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) return storage_failure<RsvpView>(txn.status());
  Result<RsvpRecord> rsvp = txn->get_rsvp(rsvp_id);
  if (!rsvp.is_ok()) {
    if (rsvp.status().code() == StatusCode::kNotFound) {
      return failed<RsvpView>(ServiceError::kRsvpNotFound, "no such RSVP");
    }
    return storage_failure<RsvpView>(rsvp.status());
  }
  if (!caller.admin && caller.sub != rsvp->user_id) {
    Result<ActivityRecord> activity = txn->get_activity(rsvp->activity_id);
    if (!activity.is_ok()) return storage_failure<RsvpView>(activity.status());
    if (caller.sub != activity->host_id) {
      return failed<RsvpView>(ServiceError::kForbidden,
                              "only the RSVP's user, the activity's host or an admin");
    }
  }
  return success(view_of(std::move(rsvp).value()));
}

ServiceOutcome<RsvpPage> ServiceImpl::user_rsvps(const Caller& caller, std::string_view user_id,
                                                 std::optional<RsvpStatus> status, size_t limit,
                                                 std::string_view cursor) {
  assert(limit >= 1 && limit <= kPageItemsMax);
  if (!caller.admin && caller.sub != user_id) {
    return failed<RsvpPage>(ServiceError::kForbidden, "only that user or an admin");
  }
  uint64_t before = 0;
  if (!cursor.empty()) {
    const auto parsed = parse_rsvp_id(cursor);
    if (!parsed) return failed<RsvpPage>(ServiceError::kInvalidField, "bad cursor", "cursor");
    before = *parsed;
  }
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) return storage_failure<RsvpPage>(txn.status());
  Result<Page<RsvpRecord>> page = txn->rsvps_of_user(user_id, before, status, limit);
  if (!page.is_ok()) return storage_failure<RsvpPage>(page.status());
  RsvpPage result;
  for (RsvpRecord& record : page->items) result.rsvps.push_back(view_of(std::move(record)));
  if (page->next_cursor) result.next_cursor = format_rsvp_id(*page->next_cursor);
  return success(std::move(result));
}

ServiceOutcome<ParticipantsPage> ServiceImpl::participants(const Caller& caller,
                                                           std::string_view activity_id,
                                                           ParticipantFilter filter, size_t limit,
                                                           std::string_view cursor) {
  assert(limit >= 1 && limit <= kPageItemsMax);
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) return storage_failure<ParticipantsPage>(txn.status());
  Result<ActivityRecord> activity = txn->get_activity(activity_id);
  if (!activity.is_ok()) {
    if (activity.status().code() == StatusCode::kNotFound) {
      return failed<ParticipantsPage>(ServiceError::kActivityNotFound, "no such activity");
    }
    return storage_failure<ParticipantsPage>(activity.status());
  }
  if (!may_manage(caller, activity.value())) {
    return failed<ParticipantsPage>(ServiceError::kForbidden, "only the host or an admin");
  }
  auto position = parse_participants_cursor(cursor);
  // A confirmed-phase cursor means nothing to a waitlist-only listing, and the reverse.
  const bool cursor_fits_filter =
      position && !(filter == ParticipantFilter::kWaitlisted && !cursor.empty() &&
                    !position->waiting_phase) &&
      !(filter == ParticipantFilter::kConfirmed && position->waiting_phase);
  if (!cursor_fits_filter) {
    return failed<ParticipantsPage>(ServiceError::kInvalidField, "bad cursor", "cursor");
  }
  ParticipantsPage result;
  result.activity.record = activity.value();
  if (filter == ParticipantFilter::kWaitlisted) position->waiting_phase = true;
  if (!position->waiting_phase) {
    Result<Page<RsvpRecord>> page = txn->confirmed_of_activity(activity_id, position->after, limit);
    if (!page.is_ok()) return storage_failure<ParticipantsPage>(page.status());
    for (RsvpRecord& record : page->items) result.participants.push_back(view_of(std::move(record)));
    if (page->next_cursor) {
      result.next_cursor = "c" + std::to_string(*page->next_cursor);
      return success(std::move(result));
    }
    if (filter == ParticipantFilter::kConfirmed) return success(std::move(result));
    position = ParticipantsCursor{true, 0};
  }
  const size_t room = limit - result.participants.size();
  if (room == 0) {
    result.next_cursor = "w0";  // The waiting phase starts on the next page.
    return success(std::move(result));
  }
  Result<Page<RsvpRecord>> page = txn->waiting_of_activity(activity_id, position->after, room);
  if (!page.is_ok()) return storage_failure<ParticipantsPage>(page.status());
  for (RsvpRecord& record : page->items) result.participants.push_back(view_of(std::move(record)));
  if (page->next_cursor) result.next_cursor = "w" + std::to_string(*page->next_cursor);
  return success(std::move(result));
}

ServiceOutcome<CapacityView> ServiceImpl::capacity(std::string_view activity_id,
                                                   std::optional<uint32_t> guests) {
  CapacityView view;
  view.activity_id = std::string(activity_id);
  shm::ActivitySettings settings;
  const auto slot = segment_->find(activity_id);
  shm::ActivitySnapshot snapshot;
  uint32_t epoch = 0;
  if (slot && shm::read_snapshot(segment_->slot(*slot), snapshot) == shm::SnapshotRead::kOk &&
      shm::read_settings(segment_->slot(*slot), settings, epoch)) {
    view.capacity = snapshot.capacity;
    view.confirmed_seats = snapshot.confirmed_seats;
    view.available_seats = snapshot.available_seats;
    view.waitlist_length = snapshot.waitlist_length;
    view.waitlisted_seats = snapshot.waitlisted_seats;
    view.status = static_cast<ActivityStatus>(snapshot.status);
    view.version = snapshot.version;
    view.last_audit_seq = snapshot.last_audit_seq;
  } else {
    Result<ActivityRecord> activity = read_activity(activity_id);  // Archived (or busy).
    if (!activity.is_ok()) {
      if (activity.status().code() == StatusCode::kNotFound) {
        return failed<CapacityView>(ServiceError::kActivityNotFound, "no such activity");
      }
      return storage_failure<CapacityView>(activity.status());
    }
    const ActivityRecord& record = activity.value();
    view.capacity = record.capacity;
    view.confirmed_seats = record.confirmed_seats;
    view.available_seats = record.capacity - record.confirmed_seats;
    view.waitlist_length = record.waitlist_length;
    view.waitlisted_seats = record.waitlisted_seats;
    view.status = record.status;
    view.version = record.version;
    settings = settings_of(record);
  }
  if (guests) {
    const uint64_t party_size = uint64_t{*guests} + 1;
    const int64_t now_ms = clock_.now_ms();
    const bool accepting = view.status == ActivityStatus::kOpen &&
                           settings.status == shm::ActivityStatus::kOpen &&
                           now_ms >= settings.rsvp_opens_at_ms &&
                           now_ms < settings.rsvp_closes_at_ms && *guests <= settings.max_guests &&
                           party_size <= view.capacity;
    view.would_confirm = accepting && view.waitlist_length == 0 &&
                         party_size <= view.available_seats;
    view.would_waitlist =
        accepting && !view.would_confirm && settings.waitlist_enabled &&
        (settings.waitlist_limit == 0 || view.waitlist_length < settings.waitlist_limit);
  }
  return success(std::move(view));
}

ServiceOutcome<AuditPage> ServiceImpl::audit(const Caller& caller, std::string_view activity_id,
                                             uint64_t after_seq, size_t limit) {
  assert(limit >= 1 && limit <= kPageItemsMax);
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) return storage_failure<AuditPage>(txn.status());
  Result<ActivityRecord> activity = txn->get_activity(activity_id);
  if (!activity.is_ok()) {
    if (activity.status().code() == StatusCode::kNotFound) {
      return failed<AuditPage>(ServiceError::kActivityNotFound, "no such activity");
    }
    return storage_failure<AuditPage>(activity.status());
  }
  if (!may_manage(caller, activity.value())) {
    return failed<AuditPage>(ServiceError::kForbidden, "only the host or an admin");
  }
  Result<Page<AuditRecord>> page = txn->audit_of_activity(activity_id, after_seq, limit);
  if (!page.is_ok()) return storage_failure<AuditPage>(page.status());
  return success(AuditPage{std::move(page->items), page->next_cursor});
}

ServiceOutcome<AuditPage> ServiceImpl::user_audit(std::string_view user_id, uint64_t after_seq,
                                                  size_t limit) {
  assert(limit >= 1 && limit <= kPageItemsMax);
  Result<ReadTxn> txn = store_->begin_read();
  if (!txn.is_ok()) return storage_failure<AuditPage>(txn.status());
  Result<Page<AuditRecord>> page = txn->audit_of_user(user_id, after_seq, limit);
  if (!page.is_ok()) return storage_failure<AuditPage>(page.status());
  return success(AuditPage{std::move(page->items), page->next_cursor});
}

bool ServiceImpl::ready() const {
  if (stopped_.load(std::memory_order_relaxed) || !writer_) return false;
  const int64_t quiet_ms = monotonic_ms() - writer_->last_progress_ms();
  return !(writer_->busy() && quiet_ms > options_.writer_stall_ms_max);
}

void ServiceImpl::tick() {
  if (stopped_.load(std::memory_order_relaxed)) return;
  segment_->beat_heartbeat();
  Result<int> cleared = store_->check_readers();
  if (cleared.is_ok() && cleared.value() > 0) {
    std::fprintf(stderr,
                 "{\"level\":\"warn\",\"component\":\"service\",\"msg\":\"cleared %d stale LMDB "
                 "reader slots\"}\n",
                 cleared.value());
  }
}

}  // namespace

Result<std::unique_ptr<Service>> Service::open(const ServiceOptions& options, const Clock& clock,
                                               CommitListener* listener) {
  auto service = std::make_unique<ServiceImpl>(options, clock, listener);
  Status started = service->start();
  if (!started.is_ok()) {
    service->stop();
    return started;
  }
  return std::unique_ptr<Service>(std::move(service));
}

}  // namespace rsvpd
