// Clock: the one source of wall time for the daemon, passed in so tests control time
// (DESIGN.md §5, "no hidden global state").
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace rsvpd {

// Thread-safe: implementations must allow concurrent calls from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch (UTC). What RSVP windows, JWT exp/nbf and audit `at` use.
  virtual int64_t now_ms() const noexcept = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const noexcept override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

// A clock that only moves when told to; for tests.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_ms) : now_ms_(start_ms) {}
  int64_t now_ms() const noexcept override {
    return now_ms_.load(std::memory_order_relaxed);  // Relaxed: a plain shared counter.
  }
  void set_ms(int64_t value_ms) noexcept { now_ms_.store(value_ms, std::memory_order_relaxed); }
  void advance_ms(int64_t delta_ms) noexcept {
    now_ms_.fetch_add(delta_ms, std::memory_order_relaxed);
  }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace rsvpd
