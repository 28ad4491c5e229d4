// show (segment + LMDB) and audit (LMDB, optionally following new entries).
#include <unistd.h>

#include <deque>
#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "cli/segment_view.h"
#include "cli/stop_signal.h"
#include "cli/store_access.h"
#include "cli/table.h"
#include "daemon/store_keys.h"

namespace rsvpd::cli {

namespace {

constexpr size_t kShowWaitlistHeadMax = 10;
constexpr size_t kShowAuditTailMax = 10;
constexpr size_t kShowAuditPagesMax = 100;  // Pages of kPageItemsMax scanned for the tail.
constexpr size_t kAuditLimitDefault = 100;
constexpr int64_t kFollowWaitSliceMs = 500;
static_assert(kShowWaitlistHeadMax <= kPageItemsMax && kAuditLimitDefault <= kPageItemsMax);

picojson::value audit_json(const AuditRecord& r) {
  picojson::object out;
  out["seq"] = json_u64(r.seq);
  out["at"] = picojson::value(format_time(r.at_ms));
  out["op"] = picojson::value(std::string(audit_op_name(r.op)));
  out["actor"] = picojson::value(r.actor);
  out["activity_id"] = picojson::value(r.activity_id);
  out["rsvp_id"] = r.rsvp_id == 0 ? picojson::value() : picojson::value(format_rsvp_id(r.rsvp_id));
  out["user_id"] = r.user_id.empty() ? picojson::value() : picojson::value(r.user_id);
  out["from"] = r.from_status.empty() ? picojson::value() : picojson::value(r.from_status);
  out["to"] = r.to_status.empty() ? picojson::value() : picojson::value(r.to_status);
  out["party_size"] = picojson::value(int64_t{r.party_size});
  out["request_id"] = picojson::value(r.request_id);
  return picojson::value(out);
}

picojson::value rsvp_json(const RsvpRecord& r, size_t position) {
  picojson::object out;
  out["id"] = picojson::value(format_rsvp_id(r.id));
  out["user_id"] = picojson::value(r.user_id);
  out["party_size"] = json_u64(r.party_size());
  out["ticket"] = json_u64(r.ticket);
  out["waitlist_position"] = picojson::value(static_cast<int64_t>(position));
  out["created_at"] = picojson::value(format_time(r.created_at_ms));
  return picojson::value(out);
}

picojson::object activity_json(const ActivityRecord& a) {
  picojson::object out;
  out["id"] = picojson::value(a.id);
  out["title"] = picojson::value(a.title);
  out["host_id"] = picojson::value(a.host_id);
  out["capacity"] = picojson::value(int64_t{a.capacity});
  out["max_guests"] = picojson::value(int64_t{a.max_guests});
  out["waitlist"] = picojson::value(a.waitlist_enabled);
  out["waitlist_limit"] =
      a.waitlist_limit == 0 ? picojson::value() : picojson::value(int64_t{a.waitlist_limit});
  out["status"] = picojson::value(std::string(activity_status_name(a.status)));
  out["confirmed_seats"] = picojson::value(int64_t{a.confirmed_seats});
  out["available_seats"] = picojson::value(int64_t{a.capacity} - int64_t{a.confirmed_seats});
  out["waitlist_length"] = picojson::value(int64_t{a.waitlist_length});
  out["waitlisted_seats"] = picojson::value(int64_t{a.waitlisted_seats});
  out["version"] = json_u64(a.version);
  out["created_at"] = picojson::value(format_time(a.created_at_ms));
  out["updated_at"] = picojson::value(format_time(a.updated_at_ms));
  return out;
}

struct ShowData {
  ActivityRecord activity;
  std::vector<RsvpRecord> waitlist_head;
  std::deque<AuditRecord> audit_tail;
};

Status load_show_data(const ReadTxn& txn, const std::string& id, ShowData& out) {
  Result<ActivityRecord> activity = txn.get_activity(id);
  if (!activity.is_ok()) return activity.status();
  out.activity = std::move(activity).value();
  Result<Page<RsvpRecord>> head = txn.waiting_of_activity(id, 0, kShowWaitlistHeadMax);
  if (!head.is_ok()) return head.status();
  out.waitlist_head = std::move(head->items);
  uint64_t after = 0;
  for (size_t page = 0; page < kShowAuditPagesMax; ++page) {
    Result<Page<AuditRecord>> entries = txn.audit_of_activity(id, after, kPageItemsMax);
    if (!entries.is_ok()) return entries.status();
    for (AuditRecord& entry : entries->items) {
      out.audit_tail.push_back(std::move(entry));
      if (out.audit_tail.size() > kShowAuditTailMax) out.audit_tail.pop_front();
    }
    if (!entries->next_cursor) break;
    after = *entries->next_cursor;
  }
  return Status::ok();
}

void print_show_json(const ShowData& data, const std::optional<shm::ActivitySnapshot>& live) {
  picojson::object out;
  out["activity"] = picojson::value(activity_json(data.activity));
  out["live"] = live ? picojson::value(snapshot_json(data.activity.id, *live)) : picojson::value();
  picojson::array head;
  for (size_t i = 0; i < data.waitlist_head.size(); ++i) {
    head.push_back(rsvp_json(data.waitlist_head[i], i + 1));
  }
  out["waitlist_head"] = picojson::value(head);
  picojson::array tail;
  for (const AuditRecord& r : data.audit_tail) tail.push_back(audit_json(r));
  out["audit_tail"] = picojson::value(tail);
  print_json(picojson::value(out));
}

void print_show_human(const ShowData& data, const std::optional<shm::ActivitySnapshot>& live,
                      const std::string& segment_note) {
  const ActivityRecord& a = data.activity;
  print_fields(std::cout, {
      {"activity", a.id},
      {"title", a.title},
      {"host", a.host_id},
      {"status", std::string(activity_status_name(a.status))},
      {"capacity", std::to_string(a.capacity)},
      {"confirmed (LMDB)", std::to_string(a.confirmed_seats) + " seats"},
      {"waitlist (LMDB)", std::to_string(a.waitlist_length) + " parties, " +
                              std::to_string(a.waitlisted_seats) + " seats"},
      {"live (segment)", live ? std::to_string(live->confirmed_seats) + " confirmed, " +
                                    std::to_string(live->available_seats) + " available, " +
                                    std::to_string(live->waitlist_length) + " waiting, seq " +
                                    std::to_string(live->last_audit_seq)
                              : segment_note},
      {"version", std::to_string(a.version)},
      {"updated", format_time(a.updated_at_ms)},
  });
  std::cout << "\nwaitlist head:\n";
  std::vector<TableRow> rows;
  for (size_t i = 0; i < data.waitlist_head.size(); ++i) {
    const RsvpRecord& r = data.waitlist_head[i];
    rows.push_back({std::to_string(i + 1), format_rsvp_id(r.id), r.user_id,
                    std::to_string(r.party_size()), std::to_string(r.ticket)});
  }
  print_table(std::cout, {"POS", "RSVP", "USER", "PARTY", "TICKET"}, rows);
  std::cout << "\naudit tail:\n";
  for (const AuditRecord& r : data.audit_tail) std::cout << audit_line(r) << '\n';
}

}  // namespace

int run_show(const Args& args) {
  CommandLine line{"rsvpctl show ACTIVITY [OPTIONS]",
                   "One activity: live seats from the segment, settings, waitlist head and audit\n"
                   "tail from LMDB (opened read-only). Exits 4 when the activity does not exist."};
  CommonOptions options;
  std::string id;
  add_common_options(line.options, options);
  line.options.add_options()("activity", po::value(&id)->required(), "activity id");
  line.positional.add("activity", 1);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  if (!is_valid_id(id)) {
    std::cerr << "rsvpctl: '" << id << "' is not a valid activity id\n";
    return kExitUsage;
  }
  std::string segment_note;
  std::optional<shm::ActivitySnapshot> live;
  if (auto view = SegmentView::open(options.shm_name, &segment_note)) {
    live = view->read(id);
    if (!live) segment_note = "not in the segment (archived, or the daemon is restarting)";
  }
  int exit_code = kExitOk;
  auto store = open_store_read_only(options.data_dir, &exit_code);
  if (store == nullptr) return exit_code;
  ShowData data;
  {
    Result<ReadTxn> txn = store->begin_read();
    if (!txn.is_ok()) return exit_code_for(txn.status());
    const Status status = load_show_data(txn.value(), id, data);
    if (!status.is_ok()) {
      std::cerr << "rsvpctl: " << id << ": " << status.to_string() << '\n';
      return exit_code_for(status);
    }
  }
  if (options.json) {
    print_show_json(data, live);
  } else {
    print_show_human(data, live, segment_note);
  }
  return kExitOk;
}

namespace {

struct AuditQuery {
  std::string activity;
  uint64_t after = 0;
  size_t limit = kAuditLimitDefault;
};

// Prints the entries after query.after (at most query.limit); advances query.after.
Status print_audit_page(Store& store, AuditQuery& query, bool json, size_t* printed) {
  Result<ReadTxn> txn = store.begin_read();
  if (!txn.is_ok()) return txn.status();
  Result<Page<AuditRecord>> page =
      query.activity.empty() ? txn->audit_after(query.after, query.limit)
                             : txn->audit_of_activity(query.activity, query.after, query.limit);
  if (!page.is_ok()) return page.status();
  for (const AuditRecord& r : page->items) {
    if (json) {
      print_json(audit_json(r));
    } else {
      std::cout << audit_line(r) << '\n';
    }
    query.after = r.seq;
  }
  if (page->next_cursor) query.after = std::max(query.after, *page->next_cursor);
  std::cout << std::flush;
  *printed = page->items.size();
  return Status::ok();
}

int follow_audit(Store& store, AuditQuery& query, const CommonOptions& options) {
  install_stop_handlers();
  std::unique_ptr<SegmentView> view;
  while (!stop_requested()) {
    if (view == nullptr) view = SegmentView::open(options.shm_name, nullptr);
    const uint32_t seen = view != nullptr ? view->change_counter() : 0;
    size_t printed = 0;
    const Status status = print_audit_page(store, query, options.json, &printed);
    if (!status.is_ok()) {
      std::cerr << "rsvpctl: " << status.to_string() << '\n';
      return exit_code_for(status);
    }
    if (printed == query.limit) continue;  // More are waiting: no need to sleep.
    if (view != nullptr && view->figures().state == DaemonState::kRunning) {
      view->wait_for_change(seen, kFollowWaitSliceMs);
    } else {
      view.reset();  // Daemon down or restarted: sleep, then look for a new segment.
      usleep(kFollowWaitSliceMs * 1000);
    }
  }
  return kExitOk;
}

}  // namespace

int run_audit(const Args& args) {
  CommandLine line{"rsvpctl audit [--activity ID] [--after SEQ] [--limit N] [--follow]",
                   "The audit trail from LMDB (read-only), in seq order. --follow keeps printing\n"
                   "new entries as the daemon commits them, until Ctrl-C."};
  CommonOptions options;
  AuditQuery query;
  bool follow = false;
  add_common_options(line.options, options);
  line.options.add_options()
      ("activity", po::value(&query.activity), "only this activity's entries")
      ("after", po::value(&query.after)->default_value(0), "entries with seq > SEQ")
      ("limit", po::value(&query.limit)->default_value(kAuditLimitDefault),
       "at most N entries (1..10000; per page with --follow)")
      ("follow,f", po::bool_switch(&follow), "keep printing new entries until Ctrl-C");
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  if (query.limit < 1 || query.limit > kPageItemsMax ||
      (!query.activity.empty() && !is_valid_id(query.activity))) {
    std::cerr << "rsvpctl: --limit must be 1.." << kPageItemsMax
              << " and --activity a valid id\n";
    return kExitUsage;
  }
  int exit_code = kExitOk;
  auto store = open_store_read_only(options.data_dir, &exit_code);
  if (store == nullptr) return exit_code;
  if (follow) return follow_audit(*store, query, options);
  size_t printed = 0;
  const Status status = print_audit_page(*store, query, options.json, &printed);
  if (!status.is_ok()) {
    std::cerr << "rsvpctl: " << status.to_string() << '\n';
    return exit_code_for(status);
  }
  return kExitOk;
}

}  // namespace rsvpd::cli
