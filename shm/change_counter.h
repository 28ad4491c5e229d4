// The segment-wide change counter: a 32-bit futex word other processes sleep on until the
// daemon publishes a change (DESIGN.md §3). Raw futex without FUTEX_PRIVATE_FLAG, because the
// waiters live in other processes; std::atomic::wait would not wake them.
#pragma once

#include <cstdint>

#include "shm/layout.h"

namespace rsvpd::shm {

// Writer only: +1 and wake every waiter. Call once per batch of published snapshots.
void announce_change(SegmentHeader& header) noexcept;

// The value to pass to wait_for_change: read it, then read the state you care about.
uint32_t load_change_counter(const SegmentHeader& header) noexcept;

enum class WaitOutcome {
  kChanged,   // The counter differs from `seen` (it may have changed before the call).
  kTimedOut,  // No change within timeout_ms.
  kInterrupted,  // A signal arrived (EINTR): the caller checks its own stop flag and decides.
};

// Any process, read-only mappings included. Sleeps in the kernel until the counter moves away
// from `seen` or timeout_ms passes. REQUIRES: timeout_ms >= 0.
WaitOutcome wait_for_change(const SegmentHeader& header, uint32_t seen, int64_t timeout_ms) noexcept;

}  // namespace rsvpd::shm
