// The writer's per-batch state (internal to daemon/writer*.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/records.h"
#include "shm/admission.h"
#include "shm/segment.h"

namespace rsvpd {

namespace detail {

// One activity's state inside a batch: the record as the transaction will commit it, and what
// the segment must be told after (or undone before) the commit.
struct ActivityWork {
  ActivityRecord record;
  shm::ActivitySettings settings_before;  // As installed before the batch.
  bool is_new = false;                    // Created in this batch: inserted after the commit.
  bool in_segment = false;
  shm::SlotRef slot;
  bool dirty = false;
  bool settings_changed = false;
  bool restrictive_settings_installed = false;  // most_restrictive() installed before commit.
  uint32_t freed_seats = 0;            // Cancelled confirmed seats not handed to promotions.
  uint32_t parties_left = 0;           // Waiting parties that left (cancelled or promoted).
  uint32_t promotion_seats_taken = 0;  // Seats CASed into the word before the commit.
  std::vector<uint64_t> tickets_added;
  std::vector<uint64_t> tickets_removed;
  uint64_t last_audit_seq = 0;
};

struct BatchState {
  std::map<std::string, ActivityWork> activities;
  std::vector<AuditRecord> audit;
  uint64_t next_rsvp_id = 0;
  uint64_t next_audit_seq = 0;
  uint32_t pending_inserts = 0;
  int64_t now_ms = 0;
};

}  // namespace detail

}  // namespace rsvpd
