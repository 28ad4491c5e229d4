#include <charconv>

#include "http/detail/endpoints.h"
#include "http/detail/representation.h"
#include "http/detail/request_checks.h"
#include "http/detail/service_problem.h"
#include "http/json_body.h"
#include "http/json_writer.h"
#include "http/query_string.h"

namespace rsvpd::http::detail {
namespace {

const StringRule kTitleRule{0, kTitleCodePointsMax, nullptr, "is not a valid title"};

// ETag and If-Match carry the version as a strong entity tag: "<version>".
std::string etag_of(uint64_t version) { return "\"" + std::to_string(version) + "\""; }

// "*" (or no header) → no precondition. A tag that is not a strong "<digits>" can never match:
// it becomes a version no activity has, so the Service answers 412 after its 404/403 checks.
std::optional<uint64_t> if_match_version(std::string_view header) {
  if (header.empty() || header == "*") return std::nullopt;
  if (header.size() < 3 || header.front() != '"' || header.back() != '"') return UINT64_MAX;
  const std::string_view digits = header.substr(1, header.size() - 2);
  uint64_t version = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), version);
  if (error != std::errc() || end != digits.data() + digits.size()) return UINT64_MAX;
  return version;
}

void respond_activity(Exchange& exchange, const ServiceOutcome<ActivityView>& outcome,
                      int status) {
  if (!outcome.ok()) return respond_service_failure(exchange, outcome);
  const ActivityRecord& record = outcome.value.record;
  Headers headers{{"ETag", etag_of(record.version)}};
  if (status == 201) headers.emplace_back("Location", "/api/v1/activities/" + record.id);
  exchange.respond_json(status, activity_json(outcome.value), std::move(headers));
}


std::optional<NewActivity> read_new_activity(FieldReader& reader) {
  NewActivity input;
  input.id = reader.optional_string("id", kIdRule);
  input.title = reader.optional_string("title", kTitleRule).value_or("");
  input.capacity = static_cast<uint32_t>(
      reader.required_int("capacity", kCapacityMin, kCapacityMax).value_or(kCapacityMin));
  input.max_guests =
      static_cast<uint32_t>(reader.optional_int("max_guests", 0, kMaxGuestsMax).value_or(0));
  input.waitlist_enabled = reader.optional_bool("waitlist").value_or(true);
  input.waitlist_limit = static_cast<uint32_t>(
      reader.nullable_int("waitlist_limit", 1, kWaitlistLimitMax).value.value_or(0));
  input.rsvp_opens_at_ms = reader.nullable_time("rsvp_opens_at").value;
  input.rsvp_closes_at_ms = reader.nullable_time("rsvp_closes_at").value;
  input.host_id = reader.optional_string("host_id", kIdRule);
  reader.reject_unknown({"id", "title", "capacity", "max_guests", "waitlist", "waitlist_limit",
                         "rsvp_opens_at", "rsvp_closes_at", "host_id"});
  if (input.rsvp_opens_at_ms && input.rsvp_closes_at_ms &&
      *input.rsvp_closes_at_ms <= *input.rsvp_opens_at_ms) {
    reader.add_error("rsvp_closes_at", "must be after rsvp_opens_at");
  }
  if (!reader.ok()) return std::nullopt;
  return input;
}

// Absent keeps the setting (out stays empty); null clears it; a value sets it.
template <typename T>
void assign_nullable(std::optional<std::optional<T>>& out, const NullableField<int64_t>& field) {
  if (!field.present) return;
  out.emplace();
  if (field.value) out->emplace(static_cast<T>(*field.value));
}

std::optional<ActivityPatch> read_patch(FieldReader& reader) {
  ActivityPatch patch;
  patch.title = reader.optional_string("title", kTitleRule);
  if (auto capacity = reader.optional_int("capacity", kCapacityMin, kCapacityMax)) {
    patch.capacity = static_cast<uint32_t>(*capacity);
  }
  if (auto max_guests = reader.optional_int("max_guests", 0, kMaxGuestsMax)) {
    patch.max_guests = static_cast<uint32_t>(*max_guests);
  }
  patch.waitlist_enabled = reader.optional_bool("waitlist");
  assign_nullable(patch.waitlist_limit, reader.nullable_int("waitlist_limit", 1, kWaitlistLimitMax));
  if (auto status = reader.optional_enum("status", {"open", "closed", "archived"})) {
    patch.status = parse_activity_status(*status);
  }
  assign_nullable(patch.rsvp_opens_at_ms, reader.nullable_time("rsvp_opens_at"));
  assign_nullable(patch.rsvp_closes_at_ms, reader.nullable_time("rsvp_closes_at"));
  reader.reject_unknown({"title", "capacity", "max_guests", "waitlist", "waitlist_limit",
                         "status", "rsvp_opens_at", "rsvp_closes_at"});
  if (!reader.ok()) return std::nullopt;
  return patch;
}

}  // namespace

void create_activity(const ExchangePtr& exchange) {
  if (!authenticate(*exchange)) return;
  const std::optional<picojson::value> body = parse_body(*exchange);
  if (!body || !check_no_query(*exchange)) return;
  FieldReader reader(body->get<picojson::object>());
  std::optional<NewActivity> input = read_new_activity(reader);
  if (!input) return respond_invalid(*exchange, reader.errors());
  const Caller& caller = exchange->caller;
  if ((!caller.host && !caller.admin) || (input->host_id && !caller.admin)) {
    return exchange->respond_problem(make_problem(
        ProblemKind::kForbidden, input->host_id ? "only an admin may set host_id"
                                                : "creating activities needs the host role"));
  }
  exchange->context.service.create_activity(
      caller, std::move(*input),
      answer_on_loop<ServiceOutcome<ActivityView>>(
          exchange, [](Exchange& answered, const ServiceOutcome<ActivityView>& outcome) {
            respond_activity(answered, outcome, 201);
          }));
}

void get_activity(const ExchangePtr& exchange) {
  if (!check_no_query(*exchange)) return;
  if (!is_valid_id(exchange->match.param)) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  respond_activity(*exchange, exchange->context.service.get_activity(exchange->match.param), 200);
}

void update_activity(const ExchangePtr& exchange) {
  if (!authenticate(*exchange)) return;
  const std::optional<picojson::value> body = parse_body(*exchange);
  if (!body || !check_no_query(*exchange)) return;
  FieldReader reader(body->get<picojson::object>());
  std::optional<ActivityPatch> patch = read_patch(reader);
  if (!patch) return respond_invalid(*exchange, reader.errors());
  if (!is_valid_id(exchange->match.param)) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  patch->if_match_version = if_match_version(header_value(exchange->request, "If-Match"));
  exchange->context.service.update_activity(
      exchange->caller, exchange->match.param, std::move(*patch),
      answer_on_loop<ServiceOutcome<ActivityView>>(
          exchange, [](Exchange& answered, const ServiceOutcome<ActivityView>& outcome) {
            respond_activity(answered, outcome, 200);
          }));
}

void get_participants(const ExchangePtr& exchange) {
  if (!authenticate(*exchange)) return;
  QueryReader query(exchange->match.query);
  const std::optional<std::string> status =
      query.enum_value("status", {"all", "confirmed", "waitlisted"});
  const int64_t limit = query.limit("limit", kParticipantsLimitDefault);
  const std::optional<std::string> cursor = query.cursor("cursor");
  query.reject_unknown({"status", "limit", "cursor"});
  if (!query.ok()) return respond_invalid(*exchange, query.errors());
  if (!is_valid_id(exchange->match.param)) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  ParticipantFilter filter = ParticipantFilter::kAll;
  if (status == "confirmed") filter = ParticipantFilter::kConfirmed;
  if (status == "waitlisted") filter = ParticipantFilter::kWaitlisted;
  const ServiceOutcome<ParticipantsPage> outcome = exchange->context.service.participants(
      exchange->caller, exchange->match.param, filter, static_cast<size_t>(limit),
      cursor.value_or(""));
  if (!outcome.ok()) return respond_service_failure(*exchange, outcome);
  picojson::array participants;
  for (const RsvpView& rsvp : outcome.value.participants) participants.push_back(rsvp_json(rsvp));
  const ActivityRecord& activity = outcome.value.activity.record;
  JsonObjectBuilder out;
  out.set("activity_id", json_string(exchange->match.param))
      .set("confirmed_seats", json_int(activity.confirmed_seats))
      .set("waitlisted_seats", json_int(activity.waitlisted_seats))
      .set("participants", picojson::value(std::move(participants)))
      .set("next_cursor", json_nullable_string(outcome.value.next_cursor));
  exchange->respond_json(200, out.build());
}

void get_capacity(const ExchangePtr& exchange) {
  if (!check_no_query(*exchange)) return;
  if (!is_valid_id(exchange->match.param)) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  const ServiceOutcome<CapacityView> outcome =
      exchange->context.service.capacity(exchange->match.param, std::nullopt);
  if (!outcome.ok()) return respond_service_failure(*exchange, outcome);
  exchange->respond_json(200, capacity_json(outcome.value, false));
}

void check_capacity(const ExchangePtr& exchange) {
  int64_t guests = 0;
  if (!exchange->request.body.empty()) {  // The body is optional here.
    const std::optional<picojson::value> body = parse_body(*exchange);
    if (!body) return;
    FieldReader reader(body->get<picojson::object>());
    guests = reader.optional_int("guests", 0, kGuestsMax).value_or(0);
    reader.reject_unknown({"guests"});
    if (!reader.ok()) return respond_invalid(*exchange, reader.errors());
  }
  if (!check_no_query(*exchange)) return;
  if (!is_valid_id(exchange->match.param)) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  const ServiceOutcome<CapacityView> outcome = exchange->context.service.capacity(
      exchange->match.param, static_cast<uint32_t>(guests));
  if (!outcome.ok()) return respond_service_failure(*exchange, outcome);
  exchange->respond_json(200, capacity_json(outcome.value, true));
}

void get_audit(const ExchangePtr& exchange) {
  if (!authenticate(*exchange)) return;
  QueryReader query(exchange->match.query);
  const int64_t after = query.non_negative_int("after").value_or(0);
  const int64_t limit = query.limit("limit", kAuditLimitDefault);
  query.reject_unknown({"after", "limit"});
  if (!query.ok()) return respond_invalid(*exchange, query.errors());
  if (!is_valid_id(exchange->match.param)) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  const ServiceOutcome<AuditPage> outcome =
      exchange->context.service.audit(exchange->caller, exchange->match.param,
                                      static_cast<uint64_t>(after), static_cast<size_t>(limit));
  if (!outcome.ok()) return respond_service_failure(*exchange, outcome);
  picojson::array entries;
  for (const AuditRecord& entry : outcome.value.entries) entries.push_back(audit_entry_json(entry));
  const std::optional<uint64_t>& next = outcome.value.next_after;
  JsonObjectBuilder out;
  out.set("entries", picojson::value(std::move(entries)))
      .set("next_after", next ? json_int(static_cast<int64_t>(*next)) : json_null());
  exchange->respond_json(200, out.build());
}

}  // namespace rsvpd::http::detail
