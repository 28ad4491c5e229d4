// The committed snapshot of an activity: what other processes, /capacity, SSE and rsvpctl read
// (DESIGN.md §2 rule 6). Published only by the daemon's writer thread after an LMDB commit, under
// a per-slot seqlock; read lock-free with a bounded number of retries (a writer that died
// mid-publish leaves the sequence odd forever, and readers must not spin forever on it).
#pragma once

#include <cstdint>

#include "shm/layout.h"

namespace rsvpd::shm {

struct ActivitySnapshot {
  uint32_t capacity = 0;
  uint32_t confirmed_seats = 0;
  uint32_t available_seats = 0;  // capacity - confirmed_seats, as published.
  uint32_t waitlist_length = 0;  // Parties.
  uint32_t waitlisted_seats = 0;
  ActivityStatus status = ActivityStatus::kOpen;
  uint64_t version = 0;         // Settings version (API.md `version`).
  uint64_t last_audit_seq = 0;  // Audit seq of the last change published (SSE `id`).
  bool operator==(const ActivitySnapshot&) const = default;
};

inline constexpr int kSnapshotReadAttemptsMax = 64;

// Writer only. REQUIRES: confirmed_seats <= capacity and
// available_seats == capacity - confirmed_seats (asserted: publishing an overbooked state is a
// bug in the caller, never something to show the world).
void publish_snapshot(ActivitySlot& slot, const ActivitySnapshot& snapshot) noexcept;

enum class SnapshotRead {
  kOk,
  kBusy,  // Every attempt overlapped a publish (or the publisher died mid-write): retry later.
};

// Any thread, any process, read-only mappings included. No syscalls, no allocation.
[[nodiscard]] SnapshotRead read_snapshot(const ActivitySlot& slot, ActivitySnapshot& out,
                                         int attempts_max = kSnapshotReadAttemptsMax) noexcept;

}  // namespace rsvpd::shm
