#include "cli/verify_checks.h"

#include <deque>
#include <set>
#include <tuple>

#include "shm/failpoint.h"

namespace rsvpd::cli {

namespace {

std::string rsvp_name(uint64_t id) { return id == 0 ? "rsvp 0" : format_rsvp_id(id); }

bool is_live(RsvpStatus status) {
  return status == RsvpStatus::kConfirmed || status == RsvpStatus::kWaitlisted;
}

struct IndexTotals {
  uint64_t confirmed_seats = 0;
  uint64_t waiting_parties = 0;
  uint64_t waiting_seats = 0;
};

std::map<std::string, IndexTotals> index_totals(const StoreDump& dump) {
  std::map<std::string, IndexTotals> totals;
  for (const IdU64Entry& e : dump.confirmed) {
    const auto rsvp = dump.rsvps.find(e.rsvp_id);
    if (rsvp != dump.rsvps.end()) totals[e.id].confirmed_seats += rsvp->second.party_size();
  }
  for (const IdU64Entry& e : dump.waiting) {
    const auto rsvp = dump.rsvps.find(e.rsvp_id);
    totals[e.id].waiting_parties += 1;
    if (rsvp != dump.rsvps.end()) totals[e.id].waiting_seats += rsvp->second.party_size();
  }
  return totals;
}

void check_index_entry(const StoreDump& dump, const IdU64Entry& e, RsvpStatus status,
                       const char* table, std::vector<Finding>& findings) {
  const auto found = dump.rsvps.find(e.rsvp_id);
  if (found == dump.rsvps.end()) {
    findings.push_back({"index", std::string(table) + " of " + e.id + " names missing " +
                                     rsvp_name(e.rsvp_id)});
    return;
  }
  const RsvpRecord& r = found->second;
  const uint64_t order = status == RsvpStatus::kConfirmed ? r.confirm_order : r.ticket;
  if (r.activity_id != e.id || r.status != status || order != e.number) {
    findings.push_back({"index", std::string(table) + " entry (" + e.id + ", " +
                                     std::to_string(e.number) + ") disagrees with " +
                                     rsvp_name(r.id) + " (activity " + r.activity_id +
                                     ", status " + std::string(rsvp_status_name(r.status)) + ")"});
  }
}

// Record → index direction for one RSVP.
void check_rsvp_indexed(const RsvpRecord& r, const std::set<std::tuple<std::string, uint64_t, uint64_t>>& confirmed,
                        const std::set<std::tuple<std::string, uint64_t, uint64_t>>& waiting,
                        const std::map<std::pair<std::string, std::string>, uint64_t>& live,
                        const std::set<std::pair<std::string, uint64_t>>& by_user,
                        std::vector<Finding>& findings) {
  const std::string name = rsvp_name(r.id);
  if (by_user.count({r.user_id, r.id}) == 0) {
    findings.push_back({"index", name + " is missing from rsvps_by_user"});
  }
  const bool in_confirmed = confirmed.count({r.activity_id, r.confirm_order, r.id}) != 0;
  const bool in_waiting = waiting.count({r.activity_id, r.ticket, r.id}) != 0;
  const auto live_entry = live.find({r.user_id, r.activity_id});
  const bool is_live_entry = live_entry != live.end() && live_entry->second == r.id;
  if ((r.status == RsvpStatus::kConfirmed) != in_confirmed) {
    findings.push_back({"index", name + " (" + std::string(rsvp_status_name(r.status)) +
                                     ") confirmed_by_activity entry " +
                                     (in_confirmed ? "present" : "missing")});
  }
  if ((r.status == RsvpStatus::kWaitlisted) != in_waiting) {
    findings.push_back({"index", name + " (" + std::string(rsvp_status_name(r.status)) +
                                     ") waiting_by_activity entry " +
                                     (in_waiting ? "present" : "missing")});
  }
  if (is_live(r.status) != is_live_entry) {
    findings.push_back({"index", name + " (" + std::string(rsvp_status_name(r.status)) +
                                     ") live_rsvp_by_user_activity entry " +
                                     (is_live_entry ? "present" : "missing")});
  }
}

}  // namespace

void check_seats(const StoreDump& dump, std::vector<Finding>& findings) {
  const auto totals = index_totals(dump);
  for (const auto& [id, a] : dump.activities) {
    if (a.confirmed_seats > a.capacity) {
      findings.push_back({"overbooking", id + ": " + std::to_string(a.confirmed_seats) +
                                             " confirmed seats > capacity " +
                                             std::to_string(a.capacity)});
    }
    const auto t = totals.find(id);
    const IndexTotals sums = t == totals.end() ? IndexTotals{} : t->second;
    if (sums.confirmed_seats != a.confirmed_seats || sums.waiting_parties != a.waitlist_length ||
        sums.waiting_seats != a.waitlisted_seats) {
      findings.push_back({"overbooking", id + ": record says " + std::to_string(a.confirmed_seats) +
                                             " confirmed / " + std::to_string(a.waitlist_length) +
                                             " waiting (" + std::to_string(a.waitlisted_seats) +
                                             " seats), indexes hold " +
                                             std::to_string(sums.confirmed_seats) + " / " +
                                             std::to_string(sums.waiting_parties) + " (" +
                                             std::to_string(sums.waiting_seats) + ")"});
    }
    if (sums.confirmed_seats > a.capacity && a.confirmed_seats <= a.capacity) {
      findings.push_back({"overbooking", id + ": confirmed parties hold " +
                                             std::to_string(sums.confirmed_seats) +
                                             " seats > capacity " + std::to_string(a.capacity)});
    }
  }
}

void check_indexes(const StoreDump& dump, std::vector<Finding>& findings) {
  std::set<std::tuple<std::string, uint64_t, uint64_t>> confirmed, waiting;
  for (const IdU64Entry& e : dump.confirmed) {
    confirmed.insert({e.id, e.number, e.rsvp_id});
    check_index_entry(dump, e, RsvpStatus::kConfirmed, "confirmed_by_activity", findings);
  }
  for (const IdU64Entry& e : dump.waiting) {
    waiting.insert({e.id, e.number, e.rsvp_id});
    check_index_entry(dump, e, RsvpStatus::kWaitlisted, "waiting_by_activity", findings);
  }
  std::map<std::pair<std::string, std::string>, uint64_t> live;
  for (const IdIdEntry& e : dump.live_by_user_activity) {
    live[{e.first, e.second}] = e.rsvp_id;
    const auto r = dump.rsvps.find(e.rsvp_id);
    if (r == dump.rsvps.end() || r->second.user_id != e.first ||
        r->second.activity_id != e.second || !is_live(r->second.status)) {
      findings.push_back({"index", "live_rsvp_by_user_activity (" + e.first + ", " + e.second +
                                       ") names " + rsvp_name(e.rsvp_id) +
                                       ", which is missing, not live or not theirs"});
    }
  }
  std::set<std::pair<std::string, uint64_t>> by_user;
  for (const IdU64Entry& e : dump.rsvps_by_user) {
    by_user.insert({e.id, e.number});
    const auto r = dump.rsvps.find(e.number);
    if (r == dump.rsvps.end() || r->second.user_id != e.id) {
      findings.push_back({"index", "rsvps_by_user (" + e.id + ", " + rsvp_name(e.number) +
                                       ") names a missing rsvp or another user's"});
    }
  }
  for (const auto& [id, r] : dump.rsvps) {
    if (dump.activities.count(r.activity_id) == 0) {
      findings.push_back({"index", rsvp_name(id) + " belongs to missing activity " + r.activity_id});
    }
    check_rsvp_indexed(r, confirmed, waiting, live, by_user, findings);
  }
}

void check_one_live(const StoreDump& dump, std::vector<Finding>& findings) {
  std::map<std::pair<std::string, std::string>, uint64_t> seen;
  for (const auto& [id, r] : dump.rsvps) {
    if (!is_live(r.status)) continue;
    const auto [it, inserted] = seen.emplace(std::make_pair(r.user_id, r.activity_id), id);
    if (!inserted) {
      findings.push_back({"one-live", "user " + r.user_id + " holds live " + rsvp_name(it->second) +
                                          " and " + rsvp_name(id) + " for " + r.activity_id});
    }
  }
}

void check_audit_sequence(const StoreDump& dump, std::vector<Finding>& findings) {
  uint64_t expected = 1;
  std::set<std::pair<std::string, uint64_t>> by_activity, by_user;
  for (const auto& [seq, record] : dump.audit) {
    if (seq != expected) {
      findings.push_back({"audit-seq", "gap: expected seq " + std::to_string(expected) +
                                           ", found " + std::to_string(seq)});
    }
    if (record.seq != seq) {
      findings.push_back({"audit-seq", "entry under key " + std::to_string(seq) + " says seq " +
                                           std::to_string(record.seq)});
    }
    expected = seq + 1;
    by_activity.insert({record.activity_id, seq});
    if (!record.user_id.empty()) by_user.insert({record.user_id, seq});
  }
  auto compare = [&](const std::vector<IdU64Entry>& index, std::set<std::pair<std::string, uint64_t>>& wanted,
                     const std::string& table) {
    for (const IdU64Entry& e : index) {
      if (wanted.erase({e.id, e.number}) == 0) {
        findings.push_back({"audit-seq", table + " (" + e.id + ", " + std::to_string(e.number) +
                                             ") names no such entry"});
      }
    }
    for (const auto& [id, seq] : wanted) {
      findings.push_back({"audit-seq", "entry " + std::to_string(seq) + " of " + id +
                                           " is missing from " + table});
    }
  };
  compare(dump.audit_by_activity, by_activity, "audit_by_activity");
  compare(dump.audit_by_user, by_user, "audit_by_user");
}

void check_waitlist(const StoreDump& dump, std::vector<Finding>& findings) {
  std::map<std::string, const IdU64Entry*> heads;
  for (const IdU64Entry& e : dump.waiting) {
    heads.emplace(e.id, &e);  // Key order: the first entry of an activity is its head.
    const auto a = dump.activities.find(e.id);
    if (a != dump.activities.end() && e.number >= a->second.next_ticket) {
      findings.push_back({"fifo", e.id + ": ticket " + std::to_string(e.number) +
                                      " >= next_ticket " + std::to_string(a->second.next_ticket)});
    }
  }
  for (const auto& [id, head] : heads) {
    const auto a = dump.activities.find(id);
    const auto r = dump.rsvps.find(head->rsvp_id);
    if (a == dump.activities.end() || r == dump.rsvps.end()) continue;  // Reported as index.
    const ActivityRecord& activity = a->second;
    if (activity.status == ActivityStatus::kArchived || activity.confirmed_seats > activity.capacity) {
      continue;
    }
    if (r->second.party_size() <= activity.capacity - activity.confirmed_seats) {
      findings.push_back({"fifo", id + ": head " + rsvp_name(r->first) + " (party " +
                                      std::to_string(r->second.party_size()) + ") fits the " +
                                      std::to_string(activity.capacity - activity.confirmed_seats) +
                                      " free seats but waits"});
    }
  }
}

void check_store(const StoreDump& dump, std::vector<Finding>& findings) {
  // Each failpoint switches one check off: the negative control of the test that proves the
  // check finds its kind of damage (tests/negative_controls.tsv).
  if (!failpoint_enabled("verify_skip_seats")) check_seats(dump, findings);
  if (!failpoint_enabled("verify_skip_indexes")) check_indexes(dump, findings);
  if (!failpoint_enabled("verify_skip_one_live")) check_one_live(dump, findings);
  if (!failpoint_enabled("verify_skip_audit_seq")) check_audit_sequence(dump, findings);
  if (!failpoint_enabled("verify_skip_waitlist")) check_waitlist(dump, findings);
  if (!failpoint_enabled("verify_skip_replay")) check_audit_replay(dump, findings);
}

}  // namespace rsvpd::cli
