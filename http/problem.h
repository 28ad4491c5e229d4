// RFC 9457 problem details, the body of every error response (API.md, Conventions).
//
// Body: {"type": "https://rsvpd.dev/problems/<slug>", "title", "status", "detail",
// "request_id"} plus "errors": [{"field", "message"}] for 422 invalid-field and "rsvp_id" for
// 409 already-rsvped. Content-Type: application/problem+json.
//
// The slugs are part of the API contract. One is ours to choose: request line + headers over
// 16 KiB answer 431 `request-header-fields-too-large` (the RFC 6585 reason phrase, spelled as a
// slug). Headers the transport adds for some problems (Allow for 405, Retry-After for 503) are
// not part of the body and stay with the transport.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/field_error.h"

namespace rsvpd::http {

inline constexpr std::string_view kProblemContentType = "application/problem+json";
inline constexpr std::string_view kProblemTypePrefix = "https://rsvpd.dev/problems/";
inline constexpr std::size_t kProblemFieldErrorsMax = 32;  // Longer lists are cut, see below.

enum class ProblemKind {
  kMalformedJson,                // 400
  kUnauthenticated,              // 401
  kForbidden,                    // 403
  kNotFound,                     // 404 unknown route
  kActivityNotFound,             // 404
  kRsvpNotFound,                 // 404
  kMethodNotAllowed,             // 405 (+ Allow)
  kActivityExists,               // 409
  kAlreadyRsvped,                // 409 (+ rsvp_id)
  kRsvpClosed,                   // 409
  kActivityArchived,             // 409
  kActivityFull,                 // 409
  kCapacityBelowConfirmed,       // 409
  kCapacityBelowWaitingParty,    // 409
  kIdempotencyKeyInFlight,       // 409
  kVersionMismatch,              // 412
  kPayloadTooLarge,              // 413
  kInvalidField,                 // 422 (+ errors)
  kIdempotencyKeyReused,         // 422
  kRequestHeaderFieldsTooLarge,  // 431
  kInternal,                     // 500
  kOverloaded,                   // 503 (+ Retry-After)
  kStorageFull,                  // 503
  kActivityTableFull,            // 507
};

struct ProblemType {
  ProblemKind kind;
  int status;
  std::string_view slug;
  std::string_view title;
};

// Every problem type, in ProblemKind order. Thread-safe (constant data).
std::span<const ProblemType> problem_types() noexcept;
const ProblemType& problem_type(ProblemKind kind) noexcept;

struct Problem {
  int status = 500;
  std::string slug;
  std::string title;
  std::string detail;
  std::vector<FieldError> errors;      // Only for invalid-field.
  std::optional<std::string> rsvp_id;  // Only for already-rsvped.
};

// A problem of `kind` with its table status, slug and title.
Problem make_problem(ProblemKind kind, std::string detail);
// 422 invalid-field listing `errors`. REQUIRES: !errors.empty().
Problem invalid_field_problem(std::vector<FieldError> errors);
// 409 already-rsvped naming the live RSVP. REQUIRES: existing_rsvp_id is valid UTF-8.
Problem already_rsvped_problem(std::string existing_rsvp_id);

// The JSON body. At most kProblemFieldErrorsMax entries of `errors` are written (a body with
// hundreds of unknown fields must not make a response larger than its request).
// REQUIRES: every string in `problem` and `request_id` is valid UTF-8. Thread-safe.
std::string problem_body_json(const Problem& problem, std::string_view request_id);

}  // namespace rsvpd::http
