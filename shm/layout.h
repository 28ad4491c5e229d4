// The shared-memory segment's fixed, versioned layout (DESIGN.md §3).
//
//   [SegmentHeader, 256 bytes][ActivitySlot × slot_count, 512 bytes each]
//
// Every field is a 4- or 8-byte lock-free atomic so that other processes may read it while the
// daemon writes it; nothing in the segment is a pointer, a mutex or allocator state. Bump
// kLayoutVersion on any change to these structs: readers refuse a layout they do not know.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace rsvpd::shm {

inline constexpr uint64_t kSegmentMagic = 0x3147455344505352;  // "RSPDSEG1", little-endian.
inline constexpr uint32_t kLayoutVersion = 1;
inline constexpr size_t kActivityIdBytesMax = 64;  // API.md: ids are 1..64 characters.
inline constexpr size_t kIdWords = kActivityIdBytesMax / sizeof(uint64_t);
inline constexpr uint32_t kSlotCountMax = uint32_t{1} << 24;  // 8 GiB of slots: far beyond need.

static_assert(std::atomic<uint64_t>::is_always_lock_free);
static_assert(std::atomic<uint32_t>::is_always_lock_free);
static_assert(std::atomic<int64_t>::is_always_lock_free);

enum class SlotState : uint32_t {
  kEmpty = 0,      // Never used in this daemon's run: a probe stops here.
  kOccupied = 1,   // Holds a live (open or closed) activity.
  kTombstone = 2,  // Holds an archived activity; a probe continues past it. Not reused while
                   // the daemon runs (a late undo for the old occupant must never land on a
                   // new one); the next start compacts the table.
};

enum class ActivityStatus : uint32_t { kOpen = 0, kClosed = 1, kArchived = 2 };

// An activity id, stored as words so it can live in atomics.
struct IdWords {
  std::atomic<uint64_t> word[kIdWords];
  std::atomic<uint32_t> length;
};

// The settings an admission decides under, written only by the daemon's writer thread, under
// its own seqlock, stamped with the admission word's epoch (DESIGN.md §2 rule 2).
struct SettingsBlock {
  std::atomic<uint32_t> sequence;  // Odd while the writer is changing the block.
  std::atomic<uint32_t> epoch;
  std::atomic<uint32_t> capacity;
  std::atomic<uint32_t> max_guests;
  std::atomic<uint32_t> status;  // ActivityStatus.
  std::atomic<uint32_t> waitlist_enabled;
  std::atomic<uint32_t> waitlist_limit;  // Parties; 0 = unlimited.
  std::atomic<int64_t> rsvp_opens_at_ms;   // INT64_MIN when unset.
  std::atomic<int64_t> rsvp_closes_at_ms;  // INT64_MAX when unset.
};

// The committed state other processes read, published by the writer after each commit.
struct SnapshotBlock {
  std::atomic<uint32_t> sequence;  // Odd while the writer is publishing.
  std::atomic<uint32_t> capacity;
  std::atomic<uint32_t> confirmed_seats;
  std::atomic<uint32_t> available_seats;  // Stored, not derived, so torn reads are detectable.
  std::atomic<uint32_t> waitlist_length;
  std::atomic<uint32_t> waitlisted_seats;
  std::atomic<uint32_t> status;  // ActivityStatus.
  std::atomic<uint64_t> version;
  std::atomic<uint64_t> last_audit_seq;
};

// One activity. The admission word sits alone on its cache line: io threads CAS it, and
// sharing the line with read-mostly settings would make every CAS evict them.
struct alignas(64) ActivitySlot {
  alignas(64) std::atomic<uint64_t> admission_word;  // See admission_word.h.
  // The key is written before `state` becomes kOccupied (release) and never changes after.
  alignas(64) std::atomic<uint32_t> state;  // SlotState.
  std::atomic<uint32_t> key_hash_low;       // Low bits of the id hash: most probes stop here.
  IdWords key;
  alignas(64) SettingsBlock settings;
  alignas(64) SnapshotBlock snapshot;
};
static_assert(sizeof(ActivitySlot) <= 512, "keep slots small; change kLayoutVersion if resized");

// Segment-wide figures the daemon maintains for rsvpctl; relaxed counters, no invariants.
struct SegmentStats {
  std::atomic<uint64_t> commits_total;
  std::atomic<uint64_t> changes_committed_total;
  std::atomic<uint64_t> commit_latency_us_last;
  std::atomic<uint64_t> commit_latency_us_max;
  std::atomic<uint64_t> fdatasync_calls_total;
  std::atomic<uint64_t> overbooking_detected_total;
};

struct alignas(64) SegmentHeader {
  std::atomic<uint64_t> magic;  // Written last at creation (release): readers wait for it.
  std::atomic<uint32_t> layout_version;
  std::atomic<uint32_t> slot_count;  // A power of two.
  std::atomic<int64_t> daemon_pid;
  std::atomic<int64_t> start_time_ns;  // CLOCK_REALTIME at creation: tells restarts apart.
  std::atomic<int64_t> heartbeat_ms;   // CLOCK_MONOTONIC, refreshed by the daemon.
  std::atomic<uint32_t> stopped;       // 1 after a clean shutdown.
  std::atomic<uint32_t> live_activities;
  std::atomic<uint32_t> used_slots;  // Occupied plus tombstones.
  alignas(64) std::atomic<uint32_t> change_counter;  // Futex word: +1 per published change.
  std::atomic<uint32_t> change_waiters;              // Processes inside a futex wait.
  alignas(64) SegmentStats stats;
};
static_assert(sizeof(SegmentHeader) <= 256);

inline constexpr size_t kHeaderBytes = 256;
inline constexpr size_t kSlotBytes = sizeof(ActivitySlot);

constexpr size_t segment_bytes(uint32_t slot_count) noexcept {
  return kHeaderBytes + size_t{slot_count} * kSlotBytes;
}

}  // namespace rsvpd::shm
