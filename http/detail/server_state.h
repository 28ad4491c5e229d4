// ServerState: what every io loop of one server shares — options, the handler and the counters.
#pragma once

#include "http/detail/connection_core.h"
#include "http/request_handler.h"
#include "http/server.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace rsvpd::http::detail {

// Milliseconds of the steady clock; what every deadline in the transports is measured in.
inline int64_t steady_now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Bounds on the per-loop sweep that enforces timeouts: fine enough for the shortest timeout,
// coarse enough that thousands of idle connections cost nothing.
inline constexpr int64_t kSweepIntervalMsMin = 5;
inline constexpr int64_t kSweepIntervalMsMax = 250;

// Thread safety: the counters are atomics; everything else is immutable after construction.
class ServerState {
 public:
  ServerState(const ServerOptions& options, RequestHandler& handler)
      : options_(options), handler_(handler) {
    limits_.header_bytes_max = options.header_bytes_max;
    limits_.body_bytes_max = options.body_bytes_max;
    limits_.read_timeout_ms = options.read_timeout_ms;
    limits_.idle_timeout_ms = options.idle_timeout_ms;
    limits_.write_timeout_ms = options.write_timeout_ms;
  }

  const ServerOptions& options() const noexcept { return options_; }
  const CoreLimits& limits() const noexcept { return limits_; }
  RequestHandler& handler() const noexcept { return handler_; }

  int64_t sweep_interval_ms() const noexcept {
    const int64_t shortest = std::min({options_.read_timeout_ms, options_.idle_timeout_ms,
                                       options_.write_timeout_ms});
    return std::clamp<int64_t>(shortest / 4, kSweepIntervalMsMin, kSweepIntervalMsMax);
  }

  // Counts an accepted connection; returns false (and counts an overload) when connections_max
  // connections are already open.
  bool admit_connection() noexcept {
    // Relaxed: plain counters; no other data is published through them.
    accepted_.fetch_add(1, std::memory_order_relaxed);
    // Relaxed: the limit is a soft bound checked by one atomic read-modify-write, which alone
    // guarantees no more than connections_max admissions are outstanding at once.
    const uint64_t before = open_.fetch_add(1, std::memory_order_relaxed);
    if (before < options_.connections_max) return true;
    open_.fetch_sub(1, std::memory_order_relaxed);  // Relaxed: undoes the counter above.
    rejected_overload_.fetch_add(1, std::memory_order_relaxed);  // Relaxed: a statistic.
    return false;
  }
  // REQUIRES: paired with an admit_connection() that returned true.
  void release_connection() noexcept {
    open_.fetch_sub(1, std::memory_order_relaxed);  // Relaxed: see admit_connection().
  }
  void count_timeout() noexcept {
    timed_out_.fetch_add(1, std::memory_order_relaxed);  // Relaxed: a statistic.
  }

  ServerCounters counters() const noexcept {
    ServerCounters c;
    // Relaxed: a snapshot of statistics; the four values need not be mutually consistent.
    c.connections_open = open_.load(std::memory_order_relaxed);
    c.connections_accepted = accepted_.load(std::memory_order_relaxed);
    c.rejected_overload = rejected_overload_.load(std::memory_order_relaxed);
    c.timed_out = timed_out_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  ServerOptions options_;
  CoreLimits limits_;
  RequestHandler& handler_;
  std::atomic<uint64_t> open_{0};
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> rejected_overload_{0};
  std::atomic<uint64_t> timed_out_{0};
};

// One io thread's event loop. run() is the thread's body; the request_* calls come from any
// thread and only set a flag and wake the loop.
class IoLoop {
 public:
  virtual ~IoLoop() = default;
  virtual void run() = 0;
  virtual void request_stop_accepting() = 0;
  // Begin graceful shutdown; connections still open at `deadline_ms` (steady) are dropped.
  virtual void request_stop(int64_t deadline_ms) = 0;
};

// Commands from other threads to a loop. Relaxed is enough throughout: the wake that follows
// each store (eventfd write or asio::post) synchronizes the loop with the caller.
class LoopCommands {
 public:
  void stop_accepting() noexcept { stop_accepting_.store(true, std::memory_order_relaxed); }
  void stop(int64_t deadline_ms) noexcept {
    stop_accepting();
    stop_deadline_ms_.store(deadline_ms, std::memory_order_relaxed);
  }
  bool stop_accepting_requested() const noexcept {
    return stop_accepting_.load(std::memory_order_relaxed);
  }
  // kNoDeadline while no stop was requested.
  int64_t stop_deadline_ms() const noexcept {
    return stop_deadline_ms_.load(std::memory_order_relaxed);
  }

 private:
  std::atomic<bool> stop_accepting_{false};
  std::atomic<int64_t> stop_deadline_ms_{kNoDeadline};
};

}  // namespace rsvpd::http::detail
