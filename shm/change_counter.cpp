#include "shm/change_counter.h"

#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <climits>

namespace rsvpd::shm {

namespace {
// The futex syscall works on the 32-bit value inside the atomic; std::atomic<uint32_t> is
// standard-layout with the value at offset 0 on every ABI we build for.
static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));

long futex(const std::atomic<uint32_t>& word, int operation, uint32_t value,
           const timespec* timeout) noexcept {
  // const_cast: FUTEX_WAIT only reads the word; FUTEX_WAKE does not touch it at all.
  auto* address = const_cast<uint32_t*>(reinterpret_cast<const uint32_t*>(&word));
  return syscall(SYS_futex, address, operation, value, timeout, nullptr, 0);
}
}  // namespace

void announce_change(SegmentHeader& header) noexcept {
  // Release: snapshots published before this increment are visible to a waiter that sees it.
  header.change_counter.fetch_add(1, std::memory_order_release);
  futex(header.change_counter, FUTEX_WAKE, INT_MAX, nullptr);
}

uint32_t load_change_counter(const SegmentHeader& header) noexcept {
  // Acquire: pairs with announce_change's release.
  return header.change_counter.load(std::memory_order_acquire);
}

WaitOutcome wait_for_change(const SegmentHeader& header, uint32_t seen,
                            int64_t timeout_ms) noexcept {
  assert(timeout_ms >= 0);
  if (load_change_counter(header) != seen) return WaitOutcome::kChanged;
  const timespec timeout{static_cast<time_t>(timeout_ms / 1000),
                         static_cast<long>((timeout_ms % 1000) * 1'000'000)};
  // Relative timeout: FUTEX_WAIT measures it on CLOCK_MONOTONIC.
  const long result = futex(header.change_counter, FUTEX_WAIT, seen, &timeout);
  if (result == 0) {
    return load_change_counter(header) != seen ? WaitOutcome::kChanged : WaitOutcome::kInterrupted;
  }
  switch (errno) {
    case EAGAIN: return WaitOutcome::kChanged;  // The value was no longer `seen`.
    case ETIMEDOUT: return WaitOutcome::kTimedOut;
    case EINTR: return WaitOutcome::kInterrupted;
    default: break;
  }
  // EFAULT/EINVAL would mean a bad mapping: a programmer error.
  assert(false && "futex wait failed unexpectedly");
  return WaitOutcome::kTimedOut;
}

}  // namespace rsvpd::shm
