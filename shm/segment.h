// Segment: the daemon's shared-memory table of activities (DESIGN.md §3).
//
// The daemon creates it at every start (LMDB is the truth; the segment is a cache rebuilt from
// it) with Boost.Interprocess `shared_memory_object` + `mapped_region`, never a managed segment
// or an interprocess mutex. Other processes (rsvpctl, co-located readers) open it read-only.
//
// Thread safety: `find` and every read are safe from any thread of any process. `insert`,
// `retire`, `beat_heartbeat` and `mark_stopped` belong to the daemon's single writer thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "shm/layout.h"

namespace rsvpd::shm {

enum class SegmentError {
  kNone = 0,
  kNotFound,      // No segment of that name: the daemon is not running (or never started).
  kPermission,    // The process may not open the segment: run as the daemon's user or group.
  kNotReady,      // The segment exists but its magic is not written yet: retry shortly.
  kBadLayout,     // Magic or layout version unknown: a reader built for another rsvpd version.
  kInvalidArgument,  // Bad name or size.
  kSystem,        // Any other operating-system error; the message says which.
};

struct SegmentOpenError {
  SegmentError code = SegmentError::kNone;
  std::string message;
};

// Which slot an activity occupies. Stable for the life of the segment.
struct SlotRef {
  uint32_t index = 0;
  constexpr bool operator==(const SlotRef&) const = default;
};

enum class InsertOutcome { kInserted, kExists, kTableFull };
struct InsertResult {
  InsertOutcome outcome;
  SlotRef slot;  // Valid for kInserted and kExists.
};

class Segment {
 public:
  // Probes at most this many slots; the load limit below keeps real probes far shorter.
  static constexpr uint32_t kProbeLengthMax = 4096;
  // Used slots (live + tombstones) never exceed this fraction of the table, so probes stay short
  // and every lookup for a missing id ends at an empty slot.
  static constexpr uint32_t kLoadPercentMax = 75;

  // Daemon only. Removes any segment of this name and creates a fresh one with
  // slot_count = next power of two >= 2 * activities_max. Header magic is written last.
  // Errors: kInvalidArgument (empty name, activities_max 0 or too large), kPermission, kSystem.
  static std::unique_ptr<Segment> create(std::string_view name, uint32_t activities_max,
                                         SegmentOpenError* error);
  // Opens an existing segment read-only. Errors: kNotFound, kPermission, kNotReady, kBadLayout,
  // kSystem.
  static std::unique_ptr<Segment> open_read_only(std::string_view name, SegmentOpenError* error);
  // Removes the name (existing mappings stay valid). Returns false if there was none.
  static bool remove(std::string_view name);

  ~Segment();
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;

  SegmentHeader& header() const noexcept { return *header_; }
  ActivitySlot& slot(SlotRef ref) const noexcept;
  uint32_t slot_count() const noexcept { return slot_count_; }
  // Live activities this table admits before insert reports kTableFull.
  uint32_t activities_max() const noexcept { return activities_max_; }
  bool read_only() const noexcept { return read_only_; }
  const std::string& name() const noexcept { return name_; }

  // Finds a live (occupied) activity. Lock-free, no syscalls. Archived ones are not found.
  std::optional<SlotRef> find(std::string_view id) const noexcept;

  // Writer only. Claims a slot for `id`, which must not be live already (then kExists with its
  // slot). The slot's blocks are zero: the caller initializes settings, word and snapshot
  // (admission.h) before anyone can find it... which is why the caller passes `publish`, run
  // after the key is written and before the slot becomes visible.
  // REQUIRES: !read_only(), 1 <= id.size() <= kActivityIdBytesMax.
  template <typename Initialize>
  InsertResult insert(std::string_view id, Initialize&& initialize);

  // Writer only: true when `more` further inserts would succeed now (the writer checks before a
  // commit and inserts after it; it is the only inserter, so the answer cannot go stale).
  bool has_room_for(uint32_t more) const noexcept;

  // Writer only. Turns a live slot into a tombstone (archived): `find` no longer returns it.
  void retire(SlotRef ref) noexcept;

  // Daemon only: refresh the heartbeat (CLOCK_MONOTONIC ms) and the clean-shutdown flag.
  void beat_heartbeat() noexcept;
  void mark_stopped() noexcept;

  // Readers: milliseconds since the daemon's last heartbeat (CLOCK_MONOTONIC, system-wide).
  int64_t heartbeat_age_ms() const noexcept;
  // Readers: false when the segment of this name is now another instance (the daemon restarted)
  // or gone. Costs syscalls (shm_open, mmap of the header): call it when the heartbeat is stale,
  // not on every read.
  bool is_current_instance() const noexcept;

  // Reads the id of an occupied slot (for listing). Returns the length copied into `out`.
  size_t read_id(SlotRef ref, char (&out)[kActivityIdBytesMax]) const noexcept;

 private:
  Segment() = default;
  InsertResult claim_slot(std::string_view id, uint64_t hash) noexcept;
  void make_visible(SlotRef ref) noexcept;

  struct Mapping;
  std::unique_ptr<Mapping> mapping_;
  SegmentHeader* header_ = nullptr;
  ActivitySlot* slots_ = nullptr;
  uint32_t slot_count_ = 0;
  uint32_t activities_max_ = 0;
  bool read_only_ = true;
  std::string name_;
};

uint64_t activity_id_hash(std::string_view id) noexcept;

template <typename Initialize>
InsertResult Segment::insert(std::string_view id, Initialize&& initialize) {
  InsertResult result = claim_slot(id, activity_id_hash(id));
  if (result.outcome == InsertOutcome::kInserted) {
    initialize(slot(result.slot));
    make_visible(result.slot);
  }
  return result;
}

}  // namespace rsvpd::shm
