#include "http/detail/endpoints.h"
#include "http/detail/representation.h"
#include "http/detail/request_checks.h"
#include "http/detail/service_problem.h"
#include "http/json_body.h"
#include "http/json_writer.h"
#include "http/query_string.h"

namespace rsvpd::http::detail {
namespace {

constexpr std::string_view kIdempotencyKeyHeader = "Idempotency-Key";

void respond_rsvp(Exchange& exchange, const ServiceOutcome<RsvpView>& outcome) {
  if (!outcome.ok()) return respond_service_failure(exchange, outcome);
  exchange.respond_json(200, rsvp_json(outcome.value));
}

void respond_created(Exchange& exchange, const ServiceOutcome<RsvpCreated>& outcome) {
  if (!outcome.ok()) return respond_service_failure(exchange, outcome);
  const RsvpView& rsvp = outcome.value.rsvp;
  Headers headers{{"Location", "/api/v1/rsvps/" + format_rsvp_id(rsvp.record.id)}};
  if (outcome.value.replayed) headers.emplace_back("Idempotent-Replayed", "true");
  exchange.respond_json(201, rsvp_json(rsvp), std::move(headers));
}

// The Idempotency-Key header: absent is fine, present must be valid (422 naming the header).
std::optional<std::string> read_idempotency_key(const HttpRequest& request, FieldReader& reader) {
  const auto found = request.headers.find(
      boost::beast::string_view(kIdempotencyKeyHeader.data(), kIdempotencyKeyHeader.size()));
  if (found == request.headers.end()) return std::nullopt;
  const std::string_view key(found->value().data(), found->value().size());
  if (!is_valid_idempotency_key(key)) {
    reader.add_error(kIdempotencyKeyHeader, "must be 1 to 128 printable ASCII characters");
    return std::nullopt;
  }
  return std::string(key);
}


// The path's RSVP id, or a 404 answered (an id we never format cannot exist).
std::optional<uint64_t> rsvp_id_of(Exchange& exchange) {
  const std::optional<uint64_t> id = parse_rsvp_id(exchange.match.param);
  if (!id) respond_not_found(exchange, ProblemKind::kRsvpNotFound);
  return id;
}

}  // namespace

void create_rsvp(const ExchangePtr& exchange) {
  if (!authenticate(*exchange)) return;
  const std::optional<picojson::value> body = parse_body(*exchange);
  if (!body || !check_no_query(*exchange)) return;
  FieldReader reader(body->get<picojson::object>());
  NewRsvp input;
  input.activity_id = reader.required_string("activity_id", kIdRule).value_or("");
  input.guests = static_cast<uint32_t>(reader.optional_int("guests", 0, kGuestsMax).value_or(0));
  input.user_id = reader.optional_string("user_id", kIdRule);
  reader.reject_unknown({"activity_id", "guests", "user_id"});
  input.idempotency_key = read_idempotency_key(exchange->request, reader);
  if (!reader.ok()) return respond_invalid(*exchange, reader.errors());
  // picojson objects are std::maps: the serialization is canonical (sorted keys, no spaces).
  input.request_fingerprint = to_json_text(*body);
  exchange->context.service.create_rsvp(
      exchange->caller, std::move(input),
      answer_on_loop<ServiceOutcome<RsvpCreated>>(exchange, respond_created));
}

void get_rsvp(const ExchangePtr& exchange) {
  if (!authenticate(*exchange) || !check_no_query(*exchange)) return;
  const std::optional<uint64_t> id = rsvp_id_of(*exchange);
  if (!id) return;
  respond_rsvp(*exchange, exchange->context.service.get_rsvp(exchange->caller, *id));
}

void cancel_rsvp(const ExchangePtr& exchange) {
  if (!authenticate(*exchange) || !check_no_query(*exchange)) return;
  const std::optional<uint64_t> id = rsvp_id_of(*exchange);
  if (!id) return;
  exchange->context.service.cancel_rsvp(
      exchange->caller, *id, answer_on_loop<ServiceOutcome<RsvpView>>(exchange, respond_rsvp));
}

void get_user_rsvps(const ExchangePtr& exchange) {
  if (!authenticate(*exchange)) return;
  QueryReader query(exchange->match.query);
  const std::optional<std::string> status =
      query.enum_value("status", {"confirmed", "waitlisted", "cancelled"});
  const int64_t limit = query.limit("limit", kUserRsvpsLimitDefault);
  const std::optional<std::string> cursor = query.cursor("cursor");
  query.reject_unknown({"status", "limit", "cursor"});
  if (!query.ok()) return respond_invalid(*exchange, query.errors());
  const std::string& user_id = exchange->match.param;
  if (!is_valid_id(user_id)) return respond_not_found(*exchange, ProblemKind::kNotFound);
  std::optional<RsvpStatus> filter;
  if (status) filter = parse_rsvp_status(*status);
  const ServiceOutcome<RsvpPage> outcome = exchange->context.service.user_rsvps(
      exchange->caller, user_id, filter, static_cast<size_t>(limit), cursor.value_or(""));
  if (!outcome.ok()) return respond_service_failure(*exchange, outcome);
  picojson::array rsvps;
  for (const RsvpView& rsvp : outcome.value.rsvps) rsvps.push_back(rsvp_json(rsvp));
  JsonObjectBuilder out;
  out.set("user_id", json_string(user_id))
      .set("rsvps", picojson::value(std::move(rsvps)))
      .set("next_cursor", json_nullable_string(outcome.value.next_cursor));
  exchange->respond_json(200, out.build());
}

}  // namespace rsvpd::http::detail
