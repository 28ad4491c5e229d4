// status, ls, watch: the live view from the segment. show: segment + LMDB (read-only).
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "cli/segment_view.h"
#include "cli/stop_signal.h"
#include "cli/table.h"

namespace rsvpd::cli {

namespace {

constexpr int64_t kWatchWaitSliceMs = 500;  // Ctrl-C and liveness are checked this often.
constexpr int64_t kWatchCountMax = int64_t{1} << 40;

picojson::object figures_json(const DaemonFigures& figures) {
  picojson::object out;
  out["state"] = picojson::value(std::string(daemon_state_name(figures.state)));
  out["running"] = picojson::value(figures.state == DaemonState::kRunning);
  out["pid"] = picojson::value(figures.pid);
  out["uptime_s"] = picojson::value(figures.uptime_s);
  out["heartbeat_age_ms"] = picojson::value(figures.heartbeat_age_ms);
  out["activities"] = picojson::value(int64_t{figures.live_activities});
  out["activities_max"] = picojson::value(int64_t{figures.activities_max});
  out["used_slots"] = picojson::value(int64_t{figures.used_slots});
  out["change_counter"] = picojson::value(int64_t{figures.change_counter});
  out["commits_total"] = json_u64(figures.commits_total);
  out["changes_committed_total"] = json_u64(figures.changes_committed_total);
  out["commit_latency_us_last"] = json_u64(figures.commit_latency_us_last);
  out["commit_latency_us_max"] = json_u64(figures.commit_latency_us_max);
  out["fdatasync_calls_total"] = json_u64(figures.fdatasync_calls_total);
  out["overbooking_detected_total"] = json_u64(figures.overbooking_detected_total);
  return out;
}

void print_figures(const DaemonFigures& figures) {
  const double fsyncs_per_commit =
      figures.commits_total == 0
          ? 0.0
          : static_cast<double>(figures.fdatasync_calls_total) / figures.commits_total;
  char ratio[32];
  std::snprintf(ratio, sizeof ratio, "%.2f", fsyncs_per_commit);
  print_fields(std::cout, {
      {"daemon", std::string(daemon_state_name(figures.state))},
      {"pid", std::to_string(figures.pid)},
      {"uptime", format_duration_s(figures.uptime_s)},
      {"heartbeat age", std::to_string(figures.heartbeat_age_ms) + " ms"},
      {"activities", std::to_string(figures.live_activities) + " live (table holds " +
                         std::to_string(figures.activities_max) + ")"},
      {"commits", std::to_string(figures.commits_total)},
      {"changes committed", std::to_string(figures.changes_committed_total)},
      {"commit latency", std::to_string(figures.commit_latency_us_last) + " us last, " +
                             std::to_string(figures.commit_latency_us_max) + " us max"},
      {"fdatasync calls", std::to_string(figures.fdatasync_calls_total) + " (" + ratio +
                              " per commit)"},
      {"overbooking detected", std::to_string(figures.overbooking_detected_total)},
  });
}

// Opens the segment or explains on stderr (and in JSON) why not.
std::unique_ptr<SegmentView> open_view(const CommonOptions& options) {
  std::string error;
  auto view = SegmentView::open(options.shm_name, &error);
  if (view == nullptr) {
    if (options.json) {
      picojson::object out;
      out["state"] = picojson::value("down");
      out["running"] = picojson::value(false);
      out["error"] = picojson::value(error);
      print_json(picojson::value(out));
    }
    std::cerr << "rsvpctl: daemon down: " << error << '\n';
  }
  return view;
}

std::vector<TableRow> activity_rows(const std::vector<LiveActivity>& activities) {
  std::vector<TableRow> rows;
  for (const LiveActivity& a : activities) {
    const shm::ActivitySnapshot& s = a.snapshot;
    rows.push_back({a.id, std::string(activity_status_text(s.status)), std::to_string(s.capacity),
                    std::to_string(s.confirmed_seats), std::to_string(s.available_seats),
                    std::to_string(s.waitlist_length), std::to_string(s.waitlisted_seats),
                    std::to_string(s.version), std::to_string(s.last_audit_seq)});
  }
  return rows;
}

const TableRow kActivityHeaders = {"ACTIVITY", "STATUS",  "CAPACITY", "CONFIRMED", "AVAILABLE",
                                   "WAITING",  "WAIT-SEATS", "VERSION", "SEQ"};

void render_watch(const CommonOptions& options, const std::string& id,
                  const std::optional<shm::ActivitySnapshot>& snapshot, const DaemonFigures& figures,
                  bool terminal) {
  if (options.json) {
    picojson::object out = snapshot ? snapshot_json(id, *snapshot) : picojson::object{};
    out["activity_id"] = picojson::value(id);
    out["live"] = picojson::value(snapshot.has_value());
    out["daemon"] = picojson::value(std::string(daemon_state_name(figures.state)));
    print_json(picojson::value(out));
    return;
  }
  if (terminal) std::cout << "\x1b[H\x1b[2J";  // Home + clear, like top.
  std::cout << "rsvpctl watch " << id << "   daemon " << daemon_state_name(figures.state)
            << " pid " << figures.pid << "   commits " << figures.commits_total << '\n';
  if (snapshot) {
    print_table(std::cout, kActivityHeaders, activity_rows({LiveActivity{id, *snapshot}}));
  } else {
    std::cout << id << ": not live in the segment (unknown, archived, or daemon restarting)\n";
  }
  std::cout << std::flush;
}

}  // namespace

picojson::object snapshot_json(const std::string& id, const shm::ActivitySnapshot& snapshot) {
  picojson::object out;
  out["activity_id"] = picojson::value(id);
  out["capacity"] = picojson::value(int64_t{snapshot.capacity});
  out["confirmed_seats"] = picojson::value(int64_t{snapshot.confirmed_seats});
  out["available_seats"] = picojson::value(int64_t{snapshot.available_seats});
  out["waitlist_length"] = picojson::value(int64_t{snapshot.waitlist_length});
  out["waitlisted_seats"] = picojson::value(int64_t{snapshot.waitlisted_seats});
  out["status"] = picojson::value(std::string(activity_status_text(snapshot.status)));
  out["version"] = json_u64(snapshot.version);
  out["last_audit_seq"] = json_u64(snapshot.last_audit_seq);
  return out;
}

int run_status(const Args& args) {
  CommandLine line{"rsvpctl status [OPTIONS]",
                   "The daemon's pid, uptime, heartbeat age, activities and commit figures, read\n"
                   "from its shared-memory segment. Exits 3 when the daemon is not running."};
  CommonOptions options;
  add_common_options(line.options, options);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  auto view = open_view(options);
  if (view == nullptr) return kExitDaemonDown;
  const DaemonFigures figures = view->figures();
  if (options.json) {
    print_json(picojson::value(figures_json(figures)));
  } else {
    print_figures(figures);
  }
  if (figures.state != DaemonState::kRunning) {
    std::cerr << "rsvpctl: daemon " << daemon_state_name(figures.state) << '\n';
    return kExitDaemonDown;
  }
  return kExitOk;
}

int run_ls(const Args& args) {
  CommandLine line{"rsvpctl ls [OPTIONS]",
                   "Live activities with their committed seat counts, from the segment."};
  CommonOptions options;
  add_common_options(line.options, options);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  auto view = open_view(options);
  if (view == nullptr) return kExitDaemonDown;
  const std::vector<LiveActivity> activities = view->list();
  if (options.json) {
    picojson::array items;
    for (const LiveActivity& a : activities) {
      items.emplace_back(snapshot_json(a.id, a.snapshot));
    }
    print_json(picojson::value(items));
  } else {
    print_table(std::cout, kActivityHeaders, activity_rows(activities));
  }
  return view->daemon_alive() ? kExitOk : kExitDaemonDown;
}

int run_watch(const Args& args) {
  CommandLine line{"rsvpctl watch ACTIVITY [OPTIONS]",
                   "A live view of one activity, redrawn on every committed change (woken by the\n"
                   "segment's futex change counter, no polling). Ctrl-C exits 0."};
  CommonOptions options;
  std::string id;
  int64_t count = 0;
  add_common_options(line.options, options);
  line.options.add_options()
      ("activity", po::value(&id)->required(), "activity id")
      ("count", po::value(&count)->default_value(0), "exit after this many views (0 = never)");
  line.positional.add("activity", 1);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  if (count < 0 || count > kWatchCountMax) {
    std::cerr << "rsvpctl: --count out of range\n";
    return kExitUsage;
  }
  auto view = open_view(options);
  if (view == nullptr) return kExitDaemonDown;
  install_stop_handlers();
  const bool terminal = isatty(STDOUT_FILENO) != 0 && !options.json;
  int64_t shown = 0;
  std::optional<shm::ActivitySnapshot> last;
  DaemonFigures figures = view->figures();
  DaemonState last_state = figures.state;
  bool first = true;
  bool quiet = false;  // The last wait timed out: time to look at the daemon's health.
  while (!stop_requested()) {
    const uint32_t seen = view->change_counter();
    // Liveness costs syscalls (shm_open + mmap): only on a quiet period, not on every change.
    if (quiet) figures = view->figures();
    if (figures.state == DaemonState::kRestarted && view->reattach()) figures = view->figures();
    const auto snapshot = view->read(id);
    // A terminal also refreshes on quiet periods (heartbeat, commits); scripts get a line only
    // when the activity or the daemon's state changed.
    if (first || snapshot != last || figures.state != last_state || (quiet && terminal)) {
      render_watch(options, id, snapshot, figures, terminal);
      if (count > 0 && ++shown >= count) break;
      last = snapshot;
      last_state = figures.state;
      first = false;
    }
    quiet = !view->wait_for_change(seen, kWatchWaitSliceMs);
  }
  return kExitOk;
}

}  // namespace rsvpd::cli
