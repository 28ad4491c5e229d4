// check_audit_replay: the audit trail replayed through a small reference model of DESIGN.md §1.
#include <deque>
#include <set>

#include "cli/verify_checks.h"

namespace rsvpd::cli {

namespace {

// A confirm CAS may precede a join CAS yet reach the writer's queue after it (a thread is
// delayed between its CAS and its enqueue), so the audit trail can legitimately show a confirm
// right after a join. A confirm counts as overtaking the waitlist only past parties whose join
// was committed at least this long before it: far beyond any CAS-to-enqueue delay.
constexpr int64_t kQueueReorderGraceMs = 1000;

struct ModelRsvp {
  std::string activity_id;
  std::string user_id;
  uint32_t party_size = 0;
  RsvpStatus status = RsvpStatus::kConfirmed;
  uint64_t last_seq = 0;
  int64_t joined_at_ms = 0;
};

struct ModelActivity {
  uint64_t confirmed_seats = 0;
  std::deque<uint64_t> waiting;  // RSVP ids in join order.
};

class ReferenceModel {
 public:
  explicit ReferenceModel(std::vector<Finding>& findings) : findings_(findings) {}

  void apply(const AuditRecord& r) {
    switch (r.op) {
      case AuditOp::kActivityCreated:
        if (!activities_.emplace(r.activity_id, ModelActivity{}).second) {
          report(r, "activity created twice");
        }
        return;
      case AuditOp::kActivityUpdated:
        if (activities_.count(r.activity_id) == 0) report(r, "update of an unknown activity");
        return;
      case AuditOp::kRsvpConfirmed: return join(r, RsvpStatus::kConfirmed);
      case AuditOp::kRsvpWaitlisted: return join(r, RsvpStatus::kWaitlisted);
      case AuditOp::kRsvpPromoted: return promote(r);
      case AuditOp::kRsvpCancelled: return cancel(r);
    }
  }

  void compare(const StoreDump& dump) const;

 private:
  void report(const AuditRecord& r, const std::string& what) {
    findings_.push_back({"replay", "seq " + std::to_string(r.seq) + " (" +
                                       std::string(audit_op_name(r.op)) + " " + r.activity_id +
                                       "): " + what});
  }

  void join(const AuditRecord& r, RsvpStatus status) {
    ModelActivity* activity = find_activity(r);
    if (activity == nullptr) return;
    if (rsvps_.count(r.rsvp_id) != 0) return report(r, "rsvp id reused");
    if (!live_.insert({r.user_id, r.activity_id}).second) {
      report(r, "user " + r.user_id + " already holds a live RSVP here");
    }
    rsvps_[r.rsvp_id] = ModelRsvp{r.activity_id, r.user_id, r.party_size, status, r.seq, r.at_ms};
    if (status == RsvpStatus::kWaitlisted) {
      activity->waiting.push_back(r.rsvp_id);
      return;
    }
    const size_t overtaken = waiting_since(*activity, r.at_ms - kQueueReorderGraceMs);
    if (overtaken != 0) {
      report(r, "newcomer confirmed while " + std::to_string(overtaken) + " parties wait");
    }
    activity->confirmed_seats += r.party_size;
  }

  // Waiting parties that joined at or before `at_ms`.
  size_t waiting_since(const ModelActivity& activity, int64_t at_ms) const {
    size_t count = 0;
    for (const uint64_t id : activity.waiting) count += rsvps_.at(id).joined_at_ms <= at_ms;
    return count;
  }

  void promote(const AuditRecord& r) {
    ModelActivity* activity = find_activity(r);
    ModelRsvp* rsvp = find_rsvp(r);
    if (activity == nullptr || rsvp == nullptr) return;
    if (rsvp->status != RsvpStatus::kWaitlisted) return report(r, "promoted but not waiting");
    if (activity->waiting.front() != r.rsvp_id) {
      report(r, "promoted " + format_rsvp_id(r.rsvp_id) + " past the head " +
                    format_rsvp_id(activity->waiting.front()));
    }
    std::erase(activity->waiting, r.rsvp_id);
    rsvp->status = RsvpStatus::kConfirmed;
    rsvp->last_seq = r.seq;
    activity->confirmed_seats += rsvp->party_size;
  }

  void cancel(const AuditRecord& r) {
    ModelActivity* activity = find_activity(r);
    ModelRsvp* rsvp = find_rsvp(r);
    if (activity == nullptr || rsvp == nullptr) return;
    if (rsvp->status == RsvpStatus::kCancelled) return report(r, "cancelled twice");
    if (rsvp->status == RsvpStatus::kConfirmed) activity->confirmed_seats -= rsvp->party_size;
    std::erase(activity->waiting, r.rsvp_id);
    live_.erase({rsvp->user_id, rsvp->activity_id});
    rsvp->status = RsvpStatus::kCancelled;
    rsvp->last_seq = r.seq;
  }

  ModelActivity* find_activity(const AuditRecord& r) {
    const auto found = activities_.find(r.activity_id);
    if (found != activities_.end()) return &found->second;
    report(r, "activity never created");
    return nullptr;
  }

  ModelRsvp* find_rsvp(const AuditRecord& r) {
    const auto found = rsvps_.find(r.rsvp_id);
    if (found != rsvps_.end() && found->second.activity_id == r.activity_id) return &found->second;
    report(r, "unknown rsvp " + std::to_string(r.rsvp_id));
    return nullptr;
  }

  std::vector<Finding>& findings_;
  std::map<std::string, ModelActivity> activities_;
  std::map<uint64_t, ModelRsvp> rsvps_;
  std::set<std::pair<std::string, std::string>> live_;  // (user, activity)

  friend void compare_rsvps(const ReferenceModel&, const StoreDump&, std::vector<Finding>&);
  friend void compare_activities(const ReferenceModel&, const StoreDump&, std::vector<Finding>&);
};

void compare_rsvps(const ReferenceModel& model, const StoreDump& dump,
                   std::vector<Finding>& findings) {
  for (const auto& [id, m] : model.rsvps_) {
    const auto stored = dump.rsvps.find(id);
    if (stored == dump.rsvps.end()) {
      findings.push_back({"replay", format_rsvp_id(id) + " is in the audit trail but not stored"});
      continue;
    }
    const RsvpRecord& r = stored->second;
    if (r.status != m.status || r.user_id != m.user_id || r.activity_id != m.activity_id ||
        r.party_size() != m.party_size) {
      findings.push_back({"replay", format_rsvp_id(id) + ": stored " +
                                        std::string(rsvp_status_name(r.status)) + " party " +
                                        std::to_string(r.party_size()) + ", audit replay gives " +
                                        std::string(rsvp_status_name(m.status)) + " party " +
                                        std::to_string(m.party_size)});
    }
  }
  for (const auto& [id, r] : dump.rsvps) {
    if (model.rsvps_.count(id) == 0) {
      findings.push_back({"replay", format_rsvp_id(id) + " is stored but has no audit entry"});
    }
  }
}

void compare_activities(const ReferenceModel& model, const StoreDump& dump,
                        std::vector<Finding>& findings) {
  std::map<std::string, std::vector<uint64_t>> stored_waiting;
  for (const IdU64Entry& e : dump.waiting) stored_waiting[e.id].push_back(e.rsvp_id);
  for (const auto& [id, a] : dump.activities) {
    const auto m = model.activities_.find(id);
    if (m == model.activities_.end()) {
      findings.push_back({"replay", id + " is stored but was never created in the audit trail"});
      continue;
    }
    if (m->second.confirmed_seats != a.confirmed_seats) {
      findings.push_back({"replay", id + ": stored " + std::to_string(a.confirmed_seats) +
                                        " confirmed seats, audit replay gives " +
                                        std::to_string(m->second.confirmed_seats)});
    }
    const std::vector<uint64_t> replayed(m->second.waiting.begin(), m->second.waiting.end());
    if (replayed != stored_waiting[id]) {
      findings.push_back({"fifo", id + ": stored waitlist order differs from the order parties "
                                       "joined in the audit trail"});
    }
  }
}

void ReferenceModel::compare(const StoreDump& dump) const {
  compare_rsvps(*this, dump, findings_);
  compare_activities(*this, dump, findings_);
}

}  // namespace

void check_audit_replay(const StoreDump& dump, std::vector<Finding>& findings) {
  ReferenceModel model(findings);
  for (const auto& [seq, record] : dump.audit) model.apply(record);
  model.compare(dump);
}

}  // namespace rsvpd::cli
