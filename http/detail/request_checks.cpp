#include "http/detail/request_checks.h"

#include "http/json_body.h"
#include "http/query_string.h"

namespace rsvpd::http::detail {

bool authenticate(Exchange& exchange) {
  const std::string_view credential = header_value(exchange.request, "Authorization");
  if (credential.empty()) {
    exchange.respond_problem(make_problem(ProblemKind::kUnauthenticated, "a bearer token is required"),
                             {{"WWW-Authenticate", "Bearer"}});
    return false;
  }
  Result<Principal> principal = exchange.context.verifier.verify(credential);
  if (!principal.is_ok()) {
    exchange.respond_problem(
        make_problem(ProblemKind::kUnauthenticated, "the bearer token is not valid"),
        {{"WWW-Authenticate", "Bearer error=\"invalid_token\""}});
    return false;
  }
  exchange.caller.sub = principal->sub;
  exchange.caller.host = principal->host;
  exchange.caller.admin = principal->admin;
  return true;
}

std::optional<picojson::value> parse_body(Exchange& exchange) {
  Result<picojson::value> parsed = parse_json_object(exchange.request.body);
  if (!parsed.is_ok()) {
    exchange.respond_problem(
        make_problem(ProblemKind::kMalformedJson, "the body must be one JSON object"));
    return std::nullopt;
  }
  return std::move(parsed).value();
}

bool check_no_query(Exchange& exchange) {
  QueryReader query(exchange.match.query);
  query.reject_unknown({});
  if (query.ok()) return true;
  respond_invalid(exchange, query.errors());
  return false;
}

void respond_invalid(Exchange& exchange, std::vector<FieldError> errors) {
  exchange.respond_problem(invalid_field_problem(std::move(errors)));
}

void respond_not_found(Exchange& exchange, ProblemKind kind) {
  exchange.respond_problem(make_problem(kind, "no such resource"));
}

}  // namespace rsvpd::http::detail
