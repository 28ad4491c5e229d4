// The HTTP-side checks, in the contract's order: authentication (401) → body syntax (400) →
// field validation (422). Each returns whether the request may go on; on failure it has already
// answered the exchange.
#pragma once

#include <picojson.h>

#include <optional>
#include <vector>

#include "http/detail/api_context.h"
#include "http/field_error.h"

namespace rsvpd::http::detail {

// Verifies the Authorization header and fills exchange.caller; else answers 401 unauthenticated.
[[nodiscard]] bool authenticate(Exchange& exchange);

// Parses the body as a strict JSON object; else answers 400 malformed-json.
[[nodiscard]] std::optional<picojson::value> parse_body(Exchange& exchange);

// The query of an endpoint that takes none: any parameter is an unknown one (422).
[[nodiscard]] bool check_no_query(Exchange& exchange);

// Answers 422 invalid-field listing `errors`. REQUIRES: !errors.empty().
void respond_invalid(Exchange& exchange, std::vector<FieldError> errors);

// Answers 404 with `kind` (activity-not-found, rsvp-not-found or not-found).
void respond_not_found(Exchange& exchange, ProblemKind kind);

}  // namespace rsvpd::http::detail
