#include "benchmarks/loadgen/verify.h"

#include <picojson.h>

#include <string_view>
#include <unordered_map>
#include <unordered_set>

namespace rsvpd::loadgen {
namespace {

void add_problem(VerifyReport& report, std::string text) {
  report.ok = false;
  if (report.problems.size() < kProblemsKeptMax) report.problems.push_back(std::move(text));
}

int64_t int_field(const picojson::object& object, const std::string& name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->second.is<int64_t>()) return -1;
  return it->second.get<int64_t>();
}

std::string string_field(const picojson::object& object, const std::string& name) {
  const auto it = object.find(name);
  if (it == object.end() || !it->second.is<std::string>()) return {};
  return it->second.get<std::string>();
}

bool parse_object(const std::string& text, picojson::object& out) {
  picojson::value value;
  if (!picojson::parse(value, text).empty() || !value.is<picojson::object>()) return false;
  out = value.get<picojson::object>();
  return true;
}

// What the participants listing of one activity holds.
struct Listing {
  std::unordered_map<std::string, std::string> status_by_id;
  std::vector<std::string> confirmed_order, waitlist_order;  // Ids as listed.
  int64_t confirmed_seat_sum = 0;
  int64_t waitlisted_seat_sum = 0;
  int64_t waitlisted_parties = 0;
  uint64_t position_errors = 0;
};

// Folds one page's participants into `listing`; false when the page is malformed.
bool fold_page(const picojson::array& participants, Listing& listing) {
  for (const auto& entry : participants) {
    if (!entry.is<picojson::object>()) return false;
    const auto& rsvp = entry.get<picojson::object>();
    const std::string status = string_field(rsvp, "status");
    const int64_t party = int_field(rsvp, "party_size");
    listing.status_by_id[string_field(rsvp, "id")] = status;
    if (status == "confirmed") {
      listing.confirmed_seat_sum += party;
      listing.confirmed_order.push_back(string_field(rsvp, "id"));
    } else if (status == "waitlisted") {
      listing.waitlist_order.push_back(string_field(rsvp, "id"));
      listing.waitlisted_seat_sum += party;
      ++listing.waitlisted_parties;
      if (int_field(rsvp, "waitlist_position") != listing.waitlisted_parties) {
        ++listing.position_errors;
      }
    } else {
      return false;  // The listing never shows cancelled RSVPs.
    }
  }
  return true;
}

bool fetch_listing(ApiClient& client, const std::string& activity, Listing& listing,
                   std::string& error) {
  std::string cursor;
  for (int page = 0; page < kParticipantPagesMax; ++page) {
    std::string target = "/api/v1/activities/" + activity + "/participants?status=all&limit=" +
                         std::to_string(kParticipantPageLimit);
    if (!cursor.empty()) target += "&cursor=" + url_encode(cursor);
    const auto reply = client.call("GET", target);
    picojson::object object;
    if (!reply || reply->status != 200 || !parse_object(reply->body, object)) {
      error = "participants of " + activity + ": " +
              (reply ? std::to_string(reply->status) + " " + reply->body.substr(0, 200)
                     : client.last_error());
      return false;
    }
    const auto it = object.find("participants");
    if (it == object.end() || !it->second.is<picojson::array>() ||
        !fold_page(it->second.get<picojson::array>(), listing)) {
      error = "participants of " + activity + ": malformed page";
      return false;
    }
    cursor = string_field(object, "next_cursor");
    if (cursor.empty()) return true;
  }
  error = "participants of " + activity + ": more than kParticipantPagesMax pages";
  return false;
}

void check_counts(const std::string& activity, const picojson::object& state,
                  const Listing& listing, VerifyReport& report) {
  const int64_t capacity = int_field(state, "capacity");
  const int64_t confirmed = int_field(state, "confirmed_seats");
  report.confirmed_seats += static_cast<uint64_t>(std::max<int64_t>(confirmed, 0));
  report.waitlisted_parties += static_cast<uint64_t>(listing.waitlisted_parties);
  if (confirmed < 0 || capacity < 0 || confirmed > capacity) {
    ++report.overbooked_activities;
    add_problem(report, activity + ": confirmed_seats " + std::to_string(confirmed) +
                            " > capacity " + std::to_string(capacity));
  }
  if (listing.confirmed_seat_sum != confirmed ||
      listing.waitlisted_seat_sum != int_field(state, "waitlisted_seats") ||
      listing.waitlisted_parties != int_field(state, "waitlist_length")) {
    ++report.seat_sum_errors;
    add_problem(report, activity + ": listed seats/parties disagree with the activity's counts");
  }
  if (listing.position_errors > 0) {
    report.waitlist_position_errors += listing.position_errors;
    add_problem(report, activity + ": waitlist positions are not 1..n in order");
  }
}

void check_records(const std::vector<const RsvpRecord*>& records, const Listing& listing,
                   VerifyReport& report) {
  uint64_t acknowledged_listed = 0;
  for (const RsvpRecord* record : records) {
    const bool listed = listing.status_by_id.count(record->id) > 0;
    acknowledged_listed += listed ? 1 : 0;
    if (record->uncertain) continue;
    if (record->cancelled && listed) {
      ++report.cancelled_but_listed;
      add_problem(report, "cancelled RSVP " + record->id + " is still listed");
    } else if (!record->cancelled) {
      ++report.acknowledged_expected;
      if (!listed) {
        ++report.acknowledged_missing;
        add_problem(report, "acknowledged RSVP " + record->id + " is not listed (lost)");
      }
    }
  }
  report.listed_unacknowledged += listing.status_by_id.size() - acknowledged_listed;
}

// Counts places in `order` where a connection's RSVP is listed before one it made earlier.
uint64_t count_fifo_violations(const std::vector<std::string>& order,
                               const std::unordered_map<std::string, const RsvpRecord*>& by_id) {
  std::unordered_map<uint32_t, uint64_t> last_sequence;  // Per connection.
  uint64_t violations = 0;
  for (const std::string& id : order) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) continue;  // Not made by this run, or never acknowledged.
    const auto [seen, inserted] =
        last_sequence.try_emplace(it->second->connection, it->second->sequence);
    if (inserted) continue;
    if (it->second->sequence < seen->second) ++violations;
    seen->second = std::max(seen->second, it->second->sequence);
  }
  return violations;
}

void check_fifo(const std::string& activity, const std::vector<const RsvpRecord*>& records,
                const Listing& listing, VerifyReport& report) {
  std::unordered_map<std::string, const RsvpRecord*> by_id;
  for (const RsvpRecord* record : records) by_id.emplace(record->id, record);
  const uint64_t violations = count_fifo_violations(listing.confirmed_order, by_id) +
                              count_fifo_violations(listing.waitlist_order, by_id);
  if (violations > 0) {
    report.fifo_violations += violations;
    add_problem(report, activity + ": " + std::to_string(violations) +
                            " RSVPs listed ahead of an earlier one from the same connection");
  }
}

void check_metric(ApiClient& client, VerifyReport& report) {
  const auto reply = client.call("GET", "/metrics");
  if (!reply || reply->status != 200) return;
  constexpr std::string_view kName = "rsvpd_overbooking_detected_total";
  std::size_t at = 0;
  while ((at = reply->body.find(kName, at)) != std::string::npos) {
    const bool line_start = at == 0 || reply->body[at - 1] == '\n';
    at += kName.size();
    if (!line_start) continue;
    const std::size_t space = reply->body.find(' ', at);
    if (space == std::string::npos) break;
    report.overbooking_metric = std::atoll(reply->body.c_str() + space + 1);
    if (report.overbooking_metric != 0) add_problem(report, "rsvpd_overbooking_detected_total != 0");
    return;
  }
}

}  // namespace

VerifyReport verify_run(ApiClient& client, const std::vector<std::string>& activity_ids,
                        const std::vector<RsvpRecord>& records, uint64_t unanswered_rsvps,
                        bool shared_activities) {
  VerifyReport report;
  std::vector<std::vector<const RsvpRecord*>> by_activity(activity_ids.size());
  for (const RsvpRecord& record : records) by_activity.at(record.activity).push_back(&record);
  for (std::size_t i = 0; i < activity_ids.size(); ++i) {
    const auto reply = client.call("GET", "/api/v1/activities/" + activity_ids[i]);
    picojson::object state;
    if (!reply || reply->status != 200 || !parse_object(reply->body, state)) {
      add_problem(report, "GET activity " + activity_ids[i] + " failed: " +
                              (reply ? std::to_string(reply->status) : client.last_error()));
      continue;
    }
    Listing listing;
    std::string error;
    if (!fetch_listing(client, activity_ids[i], listing, error)) {
      add_problem(report, error);
      continue;
    }
    ++report.activities_checked;
    check_counts(activity_ids[i], state, listing, report);
    check_records(by_activity[i], listing, report);
    check_fifo(activity_ids[i], by_activity[i], listing, report);
  }
  if (report.listed_unacknowledged > 0 && unanswered_rsvps == 0 && !shared_activities) {
    add_problem(report, std::to_string(report.listed_unacknowledged) +
                            " listed RSVPs were never acknowledged, and no request went unanswered");
  }
  check_metric(client, report);
  return report;
}

}  // namespace rsvpd::loadgen
