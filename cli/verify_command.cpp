// rsvpctl verify: every invariant of DESIGN.md §1 over one consistent LMDB snapshot, then the
// segment against LMDB.
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "cli/segment_view.h"
#include "cli/store_dump.h"
#include "cli/verify_checks.h"
#include "shm/failpoint.h"

namespace rsvpd::cli {

namespace {

// The segment is published just after each commit, so a comparison can catch LMDB one commit
// ahead; a disagreement counts only when it persists across this many fresh snapshots.
constexpr int kSegmentCompareAttemptsMax = 5;
constexpr useconds_t kSegmentCompareRetryUs = 100'000;

shm::ActivityStatus segment_status(ActivityStatus status) {
  return static_cast<shm::ActivityStatus>(static_cast<uint32_t>(status));
}

void compare_one(const ActivityRecord& a, const shm::ActivitySnapshot& s,
                 std::vector<Finding>& findings) {
  const bool same = s.capacity == a.capacity && s.confirmed_seats == a.confirmed_seats &&
                    s.available_seats == a.capacity - a.confirmed_seats &&
                    s.waitlist_length == a.waitlist_length &&
                    s.waitlisted_seats == a.waitlisted_seats &&
                    s.status == segment_status(a.status) && s.version == a.version;
  if (same) return;
  findings.push_back({"segment", a.id + ": segment shows capacity " + std::to_string(s.capacity) +
                                     ", confirmed " + std::to_string(s.confirmed_seats) +
                                     ", waiting " + std::to_string(s.waitlist_length) + "/" +
                                     std::to_string(s.waitlisted_seats) + ", version " +
                                     std::to_string(s.version) + "; LMDB has " +
                                     std::to_string(a.capacity) + ", " +
                                     std::to_string(a.confirmed_seats) + ", " +
                                     std::to_string(a.waitlist_length) + "/" +
                                     std::to_string(a.waitlisted_seats) + ", version " +
                                     std::to_string(a.version)});
}

std::vector<Finding> compare_segment(const SegmentView& view, const StoreDump& dump) {
  std::vector<Finding> findings;
  for (const auto& [id, a] : dump.activities) {
    if (a.status == ActivityStatus::kArchived) continue;
    const auto snapshot = view.read(id);
    if (!snapshot) {
      findings.push_back({"segment", id + ": live in LMDB but not readable in the segment"});
      continue;
    }
    compare_one(a, *snapshot, findings);
  }
  for (const LiveActivity& live : view.list()) {
    const auto a = dump.activities.find(live.id);
    if (a == dump.activities.end() || a->second.status == ActivityStatus::kArchived) {
      findings.push_back({"segment", live.id + ": live in the segment but not in LMDB"});
    }
  }
  return findings;
}

struct VerifyRun {
  StoreDump dump;
  std::vector<Finding> findings;
  std::string segment_note;  // Why the segment was not compared; empty when it was.
};

bool load_and_compare(const CommonOptions& options, VerifyRun& run, std::string* error) {
  std::string open_error;
  auto view = SegmentView::open(options.shm_name, &open_error);
  if (view != nullptr && !view->daemon_alive()) {
    run.segment_note = "daemon " + std::string(daemon_state_name(view->figures().state)) +
                       ": segment not compared";
    view.reset();
  } else if (view == nullptr) {
    run.segment_note = open_error + ": segment not compared";
  }
  for (int attempt = 1;; ++attempt) {
    run.dump = StoreDump{};
    run.findings.clear();
    if (!load_store_dump(options.data_dir, run.dump, run.findings, error)) return false;
    if (view == nullptr || failpoint_enabled("verify_skip_segment")) return true;
    std::vector<Finding> segment_findings = compare_segment(*view, run.dump);
    if (segment_findings.empty() || attempt == kSegmentCompareAttemptsMax) {
      run.findings.insert(run.findings.end(), segment_findings.begin(), segment_findings.end());
      return true;
    }
    usleep(kSegmentCompareRetryUs);
  }
}

void print_report(const VerifyRun& run, bool json) {
  if (json) {
    picojson::object out;
    out["ok"] = picojson::value(run.findings.empty());
    out["activities"] = picojson::value(static_cast<int64_t>(run.dump.activities.size()));
    out["rsvps"] = picojson::value(static_cast<int64_t>(run.dump.rsvps.size()));
    out["audit_entries"] = picojson::value(static_cast<int64_t>(run.dump.audit.size()));
    out["segment_checked"] = picojson::value(run.segment_note.empty());
    picojson::array findings;
    for (const Finding& f : run.findings) {
      picojson::object item;
      item["check"] = picojson::value(f.check);
      item["detail"] = picojson::value(f.detail);
      findings.emplace_back(item);
    }
    out["findings"] = picojson::value(findings);
    print_json(picojson::value(out));
    return;
  }
  std::cout << "checked " << run.dump.activities.size() << " activities, " << run.dump.rsvps.size()
            << " rsvps, " << run.dump.audit.size() << " audit entries\n";
  if (!run.segment_note.empty()) std::cout << "note: " << run.segment_note << '\n';
  for (const Finding& f : run.findings) std::cout << "FINDING [" << f.check << "] " << f.detail << '\n';
  std::cout << (run.findings.empty() ? "OK: no findings\n"
                                     : std::to_string(run.findings.size()) + " finding(s)\n");
}

}  // namespace

int run_verify(const Args& args) {
  CommandLine line{"rsvpctl verify [OPTIONS]",
                   "Checks every invariant: no overbooking, index consistency both ways, one live\n"
                   "RSVP per (user, activity), gap-free audit seq, FIFO (by replaying the audit\n"
                   "trail through a reference model), and segment == LMDB for every live activity.\n"
                   "Reads LMDB in one read-only snapshot beside the running daemon. Exits 6 on\n"
                   "any finding."};
  CommonOptions options;
  add_common_options(line.options, options);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  VerifyRun run;
  std::string error;
  if (!load_and_compare(options, run, &error)) {
    std::cerr << "rsvpctl: " << error << '\n';
    return error.find("No such file") != std::string::npos ? kExitNotFound : kExitStore;
  }
  check_store(run.dump, run.findings);
  print_report(run, options.json);
  return run.findings.empty() ? kExitOk : kExitFindings;
}

}  // namespace rsvpd::cli
