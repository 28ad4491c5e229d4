// StoreDump: every table of the LMDB store, read raw in ONE read-only transaction (a consistent
// snapshot while the daemon writes), for `rsvpctl verify`. Keys and values are decoded with the
// store's public codecs (daemon/records.h, daemon/store_keys.h); anything that fails to decode
// becomes a finding instead of aborting the load, so verify reports every problem it can see.
//
// Store's typed reads cannot serve here: they follow indexes to records (one direction) and
// stop at the first corruption. Opening LMDB raw and through Store in one process is forbidden
// (DESIGN.md §4), so verify reads raw only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "daemon/records.h"

namespace rsvpd::cli {

// Entries (over all tables) verify loads before it gives up: a bound on its memory.
inline constexpr size_t kDumpEntriesMax = size_t{50'000'000};

struct Finding {
  std::string check;   // "overbooking", "index", "one-live", "audit-seq", "fifo", "replay",
                       // "segment", "decode", "limit".
  std::string detail;  // One line, names the activity / rsvp / seq involved.
};

struct IdU64Entry {
  std::string id;
  uint64_t number = 0;   // Order key: confirm order, ticket, seq, rsvp id.
  uint64_t rsvp_id = 0;  // The value (0 for key-only indexes).
};

struct IdIdEntry {
  std::string first;
  std::string second;
  uint64_t rsvp_id = 0;
};

struct StoreDump {
  std::map<std::string, ActivityRecord> activities;
  std::map<uint64_t, RsvpRecord> rsvps;
  std::vector<IdU64Entry> rsvps_by_user;        // (user, rsvp id)
  std::vector<IdIdEntry> live_by_user_activity;  // (user, activity) → rsvp id
  std::vector<IdU64Entry> confirmed;            // (activity, confirm order) → rsvp id
  std::vector<IdU64Entry> waiting;              // (activity, ticket) → rsvp id, key order
  std::vector<std::pair<uint64_t, AuditRecord>> audit;  // (key seq, record), key order
  std::vector<IdU64Entry> audit_by_activity;    // (activity, seq)
  std::vector<IdU64Entry> audit_by_user;        // (user, seq)
};

// Loads the store in data_dir. Returns false (with *error) when LMDB cannot be opened or read;
// decode problems go to `findings` and the load continues.
bool load_store_dump(const std::string& data_dir, StoreDump& dump, std::vector<Finding>& findings,
                     std::string* error);

}  // namespace rsvpd::cli
