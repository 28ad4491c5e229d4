// Recovery: rebuilds the shared-memory segment and the waitlist positions from LMDB at start
// (DESIGN.md §1.6: the segment is a cache of LMDB). The promotion pass that follows (a crash may
// have left free seats beside waiting parties) is the writer's: Writer::promote_at_start.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/service.h"
#include "daemon/store.h"
#include "daemon/waitlist_registry.h"
#include "shm/segment.h"

namespace rsvpd {

struct Recovered {
  std::unique_ptr<shm::Segment> segment;
  std::vector<std::string> live_activity_ids;  // Not archived: in the segment.
  uint64_t next_rsvp_id = 1;
  uint64_t next_audit_seq = 1;
};

// Creates the segment `options.shm_name`, sized for max(options.activities_max, 2 × the live
// activities stored), fills one slot per live activity from its stored record, and loads every
// waiting ticket into `waitlists`. Errors: the store's reads; kIoError when the segment cannot
// be created (message says why, e.g. permissions on /dev/shm).
Result<Recovered> recover(Store& store, const ServiceOptions& options, WaitlistRegistry& waitlists);

}  // namespace rsvpd
