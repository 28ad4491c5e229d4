// Seqlock helpers over a 32-bit sequence, following Boehm, "Can seqlocks get along with
// programming language memory models?" (2012): fields are relaxed atomics; the writer publishes
// with a release fence after making the sequence odd, readers validate with an acquire fence.
// There is exactly one writer per block (the daemon's writer thread).
#pragma once

#include <atomic>
#include <cstdint>

namespace rsvpd::shm::detail {

inline constexpr int kSeqlockReadAttemptsMax = 64;

// REQUIRES: single writer. Leaves the sequence odd until seqlock_write_end.
inline void seqlock_write_begin(std::atomic<uint32_t>& sequence) noexcept {
  const uint32_t current = sequence.load(std::memory_order_relaxed);  // Only we write it.
  sequence.store(current + 1, std::memory_order_relaxed);
  // Release fence: the odd sequence becomes visible before any field store that follows.
  std::atomic_thread_fence(std::memory_order_release);
}

inline void seqlock_write_end(std::atomic<uint32_t>& sequence) noexcept {
  const uint32_t current = sequence.load(std::memory_order_relaxed);  // Only we write it.
  // Release: every field store above happens-before a reader that sees the even value.
  sequence.store(current + 1, std::memory_order_release);
}

// Returns the even sequence to validate against, or an odd value if a write is in progress.
inline uint32_t seqlock_read_begin(const std::atomic<uint32_t>& sequence) noexcept {
  // Acquire: field loads below cannot move above this load.
  return sequence.load(std::memory_order_acquire);
}

// True when no write overlapped the reads since `begin` (which must have been even).
inline bool seqlock_read_valid(const std::atomic<uint32_t>& sequence, uint32_t begin) noexcept {
  // Acquire fence: the relaxed field loads above are ordered before the re-check below.
  std::atomic_thread_fence(std::memory_order_acquire);
  return (begin & 1u) == 0 && sequence.load(std::memory_order_relaxed) == begin;
}

}  // namespace rsvpd::shm::detail
