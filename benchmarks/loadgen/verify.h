// The post-run check through the API (BENCHMARKS.md: "After every load run, verify the
// invariants through the API"): for every activity the run created,
//   - no overbooking: confirmed_seats <= capacity, and the confirmed parties listed add up to
//     confirmed_seats;
//   - the waitlist is dense: waiting parties listed carry positions 1..n in order, n ==
//     waitlist_length, and their seats add up to waitlisted_seats;
//   - nothing lost: every RSVP answered 201 and not cancelled by the run is listed (confirmed or
//     waitlisted), and none the run cancelled (answered 200) is listed;
//   - FIFO as far as a client can see it: one connection's RSVPs are sequential (each sent after
//     the previous one's 201, so committed after it), hence among the confirmed parties (listed in
//     confirmation order) and among the waiting ones (in waitlist order) each connection's RSVPs
//     must appear in the order it made them, since a newcomer never overtakes the waitlist and
//     promotions go in ticket order;
// and, when the daemon exposes it, rsvpd_overbooking_detected_total is 0 in /metrics.
// RSVPs listed that the run never saw acknowledged are counted (a request whose answer was lost
// to a timeout may still have committed) and fail the check only when no request went unanswered.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "benchmarks/loadgen/api_client.h"

namespace rsvpd::loadgen {

inline constexpr int kParticipantPageLimit = 500;  // API.md's maximum `limit`.
inline constexpr int kParticipantPagesMax = 20'000;

// One RSVP the run saw acknowledged (201). `cancelled`: a DELETE for it returned 200.
// `uncertain`: a DELETE for it went unanswered, so it may or may not be listed.
struct RsvpRecord {
  uint32_t activity = 0;    // Index into the run's activity ids.
  uint32_t connection = 0;  // Which connection made it, and its request number there: the
  uint64_t sequence = 0;    // order the client knows (see FIFO above).
  bool cancelled = false;
  bool uncertain = false;
  std::string id;
};

struct VerifyReport {
  bool ok = true;
  uint64_t activities_checked = 0;
  uint64_t overbooked_activities = 0;
  uint64_t confirmed_seats = 0;
  uint64_t waitlisted_parties = 0;
  uint64_t waitlist_position_errors = 0;
  uint64_t fifo_violations = 0;
  uint64_t seat_sum_errors = 0;
  uint64_t acknowledged_expected = 0;   // 201s not cancelled by the run.
  uint64_t acknowledged_missing = 0;    // Of those, not listed: lost.
  uint64_t cancelled_but_listed = 0;
  uint64_t listed_unacknowledged = 0;   // Listed, never answered 201 to the run.
  int64_t overbooking_metric = -1;      // -1 when /metrics does not expose it.
  std::vector<std::string> problems;    // Human-readable, at most kProblemsKeptMax.
};

inline constexpr std::size_t kProblemsKeptMax = 20;

// REQUIRES: `client` carries an admin (or host) token. `unanswered_rsvps` is how many RSVP
// requests of the run got no answer (timeouts, transport errors). `shared_activities`: the
// activities existed before the run (rsvpd-load --activity-id) and others may book them too, so
// RSVPs listed that the run never made are expected and counted only; every other check holds.
VerifyReport verify_run(ApiClient& client, const std::vector<std::string>& activity_ids,
                        const std::vector<RsvpRecord>& records, uint64_t unanswered_rsvps,
                        bool shared_activities = false);

}  // namespace rsvpd::loadgen
