#include "shm/snapshot.h"

#include <cassert>

#include "shm/detail/seqlock.h"

namespace rsvpd::shm {

void publish_snapshot(ActivitySlot& slot, const ActivitySnapshot& snapshot) noexcept {
  assert(snapshot.confirmed_seats <= snapshot.capacity);
  assert(snapshot.available_seats == snapshot.capacity - snapshot.confirmed_seats);
  SnapshotBlock& block = slot.snapshot;
  detail::seqlock_write_begin(block.sequence);
  // Relaxed: ordered by the seqlock.
  block.capacity.store(snapshot.capacity, std::memory_order_relaxed);
  block.confirmed_seats.store(snapshot.confirmed_seats, std::memory_order_relaxed);
  block.available_seats.store(snapshot.available_seats, std::memory_order_relaxed);
  block.waitlist_length.store(snapshot.waitlist_length, std::memory_order_relaxed);
  block.waitlisted_seats.store(snapshot.waitlisted_seats, std::memory_order_relaxed);
  block.status.store(static_cast<uint32_t>(snapshot.status), std::memory_order_relaxed);
  block.version.store(snapshot.version, std::memory_order_relaxed);
  block.last_audit_seq.store(snapshot.last_audit_seq, std::memory_order_relaxed);
  detail::seqlock_write_end(block.sequence);
}

SnapshotRead read_snapshot(const ActivitySlot& slot, ActivitySnapshot& out,
                           int attempts_max) noexcept {
  const SnapshotBlock& block = slot.snapshot;
  for (int attempt = 0; attempt < attempts_max; ++attempt) {
    const uint32_t begin = detail::seqlock_read_begin(block.sequence);
    if ((begin & 1u) != 0) continue;
    // Relaxed: validated by the seqlock below.
    out.capacity = block.capacity.load(std::memory_order_relaxed);
    out.confirmed_seats = block.confirmed_seats.load(std::memory_order_relaxed);
    out.available_seats = block.available_seats.load(std::memory_order_relaxed);
    out.waitlist_length = block.waitlist_length.load(std::memory_order_relaxed);
    out.waitlisted_seats = block.waitlisted_seats.load(std::memory_order_relaxed);
    out.status = static_cast<ActivityStatus>(block.status.load(std::memory_order_relaxed));
    out.version = block.version.load(std::memory_order_relaxed);
    out.last_audit_seq = block.last_audit_seq.load(std::memory_order_relaxed);
    if (detail::seqlock_read_valid(block.sequence, begin)) return SnapshotRead::kOk;
  }
  return SnapshotRead::kBusy;
}

}  // namespace rsvpd::shm
