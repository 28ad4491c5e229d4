// EventHub: the Server-Sent Events fan-out behind GET /activities/{id}/events and
// GET /users/me/events (API.md, "Real-time updates").
//
// The writer thread hands it every commit's audit entries (CommitListener::on_commit): a short
// lock and a copy, never I/O, so publishing never slows the commit path. One hub thread does the
// rest: it registers new subscribers, renders each event once, and writes it to every subscriber
// through their StreamWriters, so the cost is O(changes + subscribers) per round.
//
// - Capacity streams start with the current committed state, then get one `capacity` event per
//   round in which their activity changed, read from the committed snapshot (never an
//   uncommitted state). A client whose unwritten output is above coalesce_bytes_max is skipped
//   and marked stale; it gets the latest state once it has drained (coalescing: a slow client
//   ends on the final state, not on a backlog). Event ids (the activity's last audit seq) only
//   increase on a stream.
// - User streams replay the caller's audit entries after Last-Event-ID (a new stream: after the
//   seq committed when it was opened) from LMDB, then go live:
//   the subscriber is registered before the replay is read and live entries at or below the last
//   replayed seq are skipped, so there is no gap and no duplicate at the seam. Transitions cannot
//   be coalesced: a client whose unwritten output exceeds stream_bytes_max is dropped (it
//   reconnects with Last-Event-ID and replays what it missed).
// - Every stream gets a `: ping` comment when it was quiet for heartbeat_ms.
//
// Thread safety: every public member may be called from any thread.
// Lifetime: start() once with a Service that outlives stop(); stop() before the Service stops.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "daemon/service.h"
#include "http/json_log.h"
#include "http/stream_writer.h"

namespace rsvpd::http {

inline constexpr uint32_t kSseClientsMaxDefault = 10'000;
inline constexpr uint32_t kSseClientsMaxLimit = 1u << 20;
inline constexpr uint32_t kSseHeartbeatMsDefault = 15'000;  // API.md: at least every 15 s.
// Audit entries waiting for the hub thread. Beyond it, user streams are dropped (they replay on
// reconnect) and capacity streams still get the latest state: nothing is lost, only resent.
inline constexpr size_t kSsePendingEntriesMax = 1u << 18;
// A reconnecting user stream replays at most this many entries; then it is closed so that the
// client reconnects with the newer Last-Event-ID (bounded work per subscription).
inline constexpr size_t kSseReplayEntriesMax = 10'000;
inline constexpr size_t kSseReplayPageEntries = 500;

struct EventHubOptions {
  uint32_t clients_max = kSseClientsMaxDefault;  // Open streams; beyond it → 503.
  uint32_t heartbeat_ms = kSseHeartbeatMsDefault;
  int64_t coalesce_bytes_max = 16 * 1024;  // Capacity events wait above this much unwritten.
  int64_t stream_bytes_max = 256 * 1024;   // User streams are dropped above it.
  uint32_t stale_retry_ms = 50;            // How soon a coalesced client is looked at again.
};

// Relaxed atomics: figures for /metrics, not invariants.
struct EventHubMetrics {
  std::atomic<uint64_t> clients{0};            // Open streams (gauge).
  std::atomic<uint64_t> events_sent_total{0};  // Events written (initial state, replay, live).
  std::atomic<uint64_t> events_coalesced_total{0};  // Capacity events skipped for a slow client.
  std::atomic<uint64_t> clients_dropped_total{0};   // Streams closed because a client lagged.
  std::atomic<uint64_t> clients_rejected_total{0};  // 503 at clients_max.
};

class EventHub final : public CommitListener {
 public:
  EventHub(EventHubOptions options, JsonLog& log);
  ~EventHub() override;  // stop().
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Starts the hub thread. REQUIRES: called once; `service` outlives stop().
  void start(Service& service);
  // Closes every stream (each connection closes once its queued events are written) and joins
  // the hub thread. Idempotent. Later subscriptions are closed at once.
  void stop();

  // Counts one more stream against clients_max. Returns false (counted as rejected) when full:
  // the caller answers 503 overloaded. A true must be followed by subscribe_*() or release().
  [[nodiscard]] bool reserve_client();
  void release_client();

  // Hands a stream over to the hub (the response head is already queued on it). The first event
  // follows from the hub thread. REQUIRES: a reserve_client() that returned true.
  void subscribe_activity(std::string activity_id, StreamWriter stream);
  // The stream gets the user's entries after `after_seq` from LMDB at admission, then live ones.
  // `after_seq`: the client's Last-Event-ID, or for a new stream committed_seq() read before its
  // head was queued, so that nothing committed between the client's `open` and the admission is
  // missed.
  void subscribe_user(std::string user_id, uint64_t after_seq, StreamWriter stream);
  // The last audit seq committed (from on_recovered, then every on_commit).
  uint64_t committed_seq() const noexcept {
    return committed_seq_.load(std::memory_order_acquire);  // Pairs with the writer's release.
  }

  // CommitListener: called by the writer thread. Never blocks on I/O.
  void on_recovered(uint64_t last_audit_seq) override;
  void on_commit(const std::vector<AuditRecord>& entries) override;

  const EventHubMetrics& metrics() const noexcept { return metrics_; }

  struct State;  // The hub's internals (event_hub.cpp).

 private:
  void run();

  EventHubOptions options_;
  JsonLog& log_;
  EventHubMetrics metrics_;
  std::atomic<uint64_t> committed_seq_{0};
  Service* service_ = nullptr;
  std::unique_ptr<State> state_;
  std::thread thread_;
};

}  // namespace rsvpd::http
