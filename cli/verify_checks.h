// The invariant checks of `rsvpctl verify` (DESIGN.md §1) over a StoreDump. Pure functions: each
// appends one Finding per violation and never stops at the first. Tests drive them with dumps
// built by hand as well as through the binary.
#pragma once

#include <vector>

#include "cli/store_dump.h"

namespace rsvpd::cli {

// §1.1: confirmed seats <= capacity; the activity's counters equal its indexes' contents.
void check_seats(const StoreDump& dump, std::vector<Finding>& findings);
// Every RSVP is in exactly the indexes its status calls for, and every index entry names a
// record that agrees with it (both directions).
void check_indexes(const StoreDump& dump, std::vector<Finding>& findings);
// §1.4: at most one confirmed or waitlisted RSVP per (user, activity).
void check_one_live(const StoreDump& dump, std::vector<Finding>& findings);
// §1.5: audit keys are 1..N without gaps, each entry carries its key's seq, and the activity and
// user indexes hold exactly the entries that name them.
void check_audit_sequence(const StoreDump& dump, std::vector<Finding>& findings);
// §1.3 on the stored state: tickets below next_ticket, and no fitting waitlist head beside free
// seats (every batch ends with a promotion pass).
void check_waitlist(const StoreDump& dump, std::vector<Finding>& findings);
// §1.3 over time: replays the audit trail through a reference model (FIFO promotion, no newcomer
// confirmed while a party waits, one live RSVP per pair) and compares its end state with the
// stored RSVPs, seat counters and waitlist order.
void check_audit_replay(const StoreDump& dump, std::vector<Finding>& findings);

// All of the above, in that order.
void check_store(const StoreDump& dump, std::vector<Finding>& findings);

}  // namespace rsvpd::cli
