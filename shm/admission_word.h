// AdmissionWord: the one 64-bit word that decides every admission of an activity
// (DESIGN.md §2 rule 2).
//
//   bits  0..19  taken    seats confirmed in LMDB plus seats provisionally taken in flight
//   bits 20..39  waiting  parties waiting in LMDB plus parties provisionally joining
//   bits 40..63  epoch    settings epoch; bumped by every settings change (rule 7)
//
// Limits that follow: capacity, and so `taken`, at most 1,048,575 seats (the API caps capacity at
// 1,000,000); at most 1,048,575 waiting parties per activity (a join beyond that is "full"); the
// epoch wraps after 16,777,216 settings changes, which is safe because a confirm compares the
// epoch of the word it read a moment ago, not one remembered across changes.
#pragma once

#include <cstdint>

namespace rsvpd::shm {

inline constexpr int kTakenBits = 20;
inline constexpr int kWaitingBits = 20;
inline constexpr int kEpochBits = 24;
static_assert(kTakenBits + kWaitingBits + kEpochBits == 64);

inline constexpr int kWaitingShift = kTakenBits;
inline constexpr int kEpochShift = kTakenBits + kWaitingBits;

inline constexpr uint64_t kTakenMax = (uint64_t{1} << kTakenBits) - 1;
inline constexpr uint64_t kWaitingMax = (uint64_t{1} << kWaitingBits) - 1;
inline constexpr uint64_t kEpochMask = (uint64_t{1} << kEpochBits) - 1;
inline constexpr uint32_t kCapacityMax = 1'000'000;  // API.md: capacity 1..1000000.
static_assert(kCapacityMax <= kTakenMax, "taken must hold a full activity");

struct AdmissionWord {
  uint32_t taken = 0;
  uint32_t waiting = 0;
  uint32_t epoch = 0;

  static constexpr AdmissionWord unpack(uint64_t word) noexcept {
    return AdmissionWord{static_cast<uint32_t>(word & kTakenMax),
                         static_cast<uint32_t>((word >> kWaitingShift) & kWaitingMax),
                         static_cast<uint32_t>((word >> kEpochShift) & kEpochMask)};
  }
  // REQUIRES: taken <= kTakenMax, waiting <= kWaitingMax, epoch <= kEpochMask.
  constexpr uint64_t pack() const noexcept {
    return uint64_t{taken} | (uint64_t{waiting} << kWaitingShift) |
           (uint64_t{epoch} << kEpochShift);
  }
  constexpr bool operator==(const AdmissionWord&) const = default;
};

// The amount to subtract from a packed word to give back `seats` and `parties` in one atomic
// fetch_sub. Correct only while the word holds at least that much in each field (no borrow).
constexpr uint64_t release_delta(uint32_t seats, uint32_t parties) noexcept {
  return uint64_t{seats} | (uint64_t{parties} << kWaitingShift);
}

constexpr uint32_t next_epoch(uint32_t epoch) noexcept {
  return static_cast<uint32_t>((uint64_t{epoch} + 1) & kEpochMask);
}

}  // namespace rsvpd::shm
