// Writer: the one thread that writes LMDB and promotes (DESIGN.md §2).
//
// It blocks for the first queued request, drains what queued up meanwhile (at most
// batch_requests_max), applies them in queue order inside one write transaction — re-checking
// every invariant, assigning RSVP ids, tickets and audit seqs in commit order — runs a strict
// FIFO promotion pass over every activity the batch touched, commits once (one fdatasync), and
// only then gives back seats in the admission words, installs new settings, publishes the
// committed snapshots, wakes other processes and completes the requests.
//
// A failed commit fails its batch and undoes every admission in it; MDB_MAP_FULL grows the map
// and replays the batch; ENOSPC/EFBIG answer storage-full; EIO from the commit (a failed fsync)
// is fatal: the process logs and aborts, and systemd restarts it (never retry an fsync).
//
// Thread safety: start/stop from the owner; everything else runs on the writer thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "daemon/clock.h"
#include "daemon/commit_queue.h"
#include "daemon/commit_request.h"
#include "daemon/service.h"
#include "daemon/store.h"
#include "daemon/waitlist_registry.h"
#include "shm/admission.h"
#include "shm/segment.h"
#include "shm/snapshot.h"

namespace rsvpd {

namespace detail {
struct BatchState;
struct ActivityWork;
}  // namespace detail

struct WriterContext {
  Store* store = nullptr;
  shm::Segment* segment = nullptr;
  WaitlistRegistry* waitlists = nullptr;
  EngineMetrics* metrics = nullptr;
  const Clock* clock = nullptr;
  CommitListener* listener = nullptr;  // May be null.
  CommitQueue<CommitRequest>* queue = nullptr;
  size_t batch_requests_max = 4096;
  int64_t idempotency_ttl_ms = 0;
};

class Writer {
 public:
  static constexpr int kMapGrowAttemptsMax = 8;

  // `next_rsvp_id` and `next_audit_seq` continue after what LMDB holds.
  Writer(const WriterContext& context, uint64_t next_rsvp_id, uint64_t next_audit_seq);
  ~Writer();

  // Runs the recovery promotion pass over `activity_ids` in one transaction (before start()).
  Status promote_at_start(const std::vector<std::string>& activity_ids);

  void start();
  // REQUIRES: the queue was stopped (so pop_batch ends once it is empty). Joins the thread.
  void join();

  // CLOCK_MONOTONIC ms of the writer's last sign of life: idle wait entry or batch end.
  int64_t last_progress_ms() const noexcept {
    return last_progress_ms_.load(std::memory_order_relaxed);  // Relaxed: a watchdog figure.
  }
  bool busy() const noexcept { return busy_.load(std::memory_order_relaxed); }

 private:
  void run();
  void process_batch(std::vector<CommitRequest*>& batch);
  Status apply_batch(std::vector<CommitRequest*>& batch, detail::BatchState& state);
  Status apply(CommitRequest& request, detail::BatchState& state);
  Status apply_create(CommitRequest& request, detail::BatchState& state);
  Status apply_update(CommitRequest& request, detail::BatchState& state);
  Status apply_rsvp(CommitRequest& request, detail::BatchState& state);
  Status apply_cancel(CommitRequest& request, detail::BatchState& state);
  Status promote(detail::ActivityWork& work, detail::BatchState& state);
  Status finish_rsvp_outcomes(std::vector<CommitRequest*>& batch, detail::BatchState& state);
  Status flush_activities(detail::BatchState& state);
  Status append_audit(detail::BatchState& state, detail::ActivityWork& work, AuditRecord entry);
  Result<detail::ActivityWork*> load_activity(detail::BatchState& state, const std::string& id);
  void roll_back_segment(detail::BatchState& state);
  void release_early(detail::BatchState& state);  // Only under the release_before_commit fault.
  void apply_to_segment(detail::BatchState& state);
  void fail_batch(std::vector<CommitRequest*>& batch, ServiceError error, const std::string& why);
  void complete(std::vector<CommitRequest*>& batch);
  void reject_rsvp(CommitRequest& request, detail::ActivityWork* work, ServiceError error,
                   std::string message, std::string field = {});

  WriterContext context_;
  uint64_t next_rsvp_id_;
  uint64_t next_audit_seq_;
  std::thread thread_;
  std::atomic<int64_t> last_progress_ms_{0};
  std::atomic<bool> busy_{false};
  // The transaction of the batch being applied (null between batches).
  std::unique_ptr<WriteTxn> txn_;
};

// The settings an admission decides under, from a stored activity.
shm::ActivitySettings settings_of(const ActivityRecord& record);
// The committed snapshot other processes read, from a stored activity.
shm::ActivitySnapshot snapshot_of(const ActivityRecord& record, uint64_t last_audit_seq);
// The most restrictive combination of two settings: installed before a commit that changes
// settings, so neither the old nor the new settings are exceeded while it is in flight.
shm::ActivitySettings most_restrictive(const shm::ActivitySettings& a,
                                       const shm::ActivitySettings& b);

// Encodes an RSVP view for the idempotency record, and back.
std::string encode_rsvp_view(const RsvpView& view);
Result<RsvpView> decode_rsvp_view(std::string_view bytes);

int64_t monotonic_ms() noexcept;

}  // namespace rsvpd
