#include "http/problem.h"

#include <array>
#include <cassert>
#include <utility>

#include "http/json_writer.h"

namespace rsvpd::http {
namespace {

using enum ProblemKind;

constexpr std::array kProblemTypes = {
    ProblemType{kMalformedJson, 400, "malformed-json", "Malformed JSON"},
    ProblemType{kUnauthenticated, 401, "unauthenticated", "Unauthenticated"},
    ProblemType{kForbidden, 403, "forbidden", "Forbidden"},
    ProblemType{kNotFound, 404, "not-found", "Not found"},
    ProblemType{kActivityNotFound, 404, "activity-not-found", "Activity not found"},
    ProblemType{kRsvpNotFound, 404, "rsvp-not-found", "RSVP not found"},
    ProblemType{kMethodNotAllowed, 405, "method-not-allowed", "Method not allowed"},
    ProblemType{kActivityExists, 409, "activity-exists", "Activity already exists"},
    ProblemType{kAlreadyRsvped, 409, "already-rsvped", "Already RSVPed"},
    ProblemType{kRsvpClosed, 409, "rsvp-closed", "RSVPs are closed"},
    ProblemType{kActivityArchived, 409, "activity-archived", "Activity is archived"},
    ProblemType{kActivityFull, 409, "activity-full", "Activity is full"},
    ProblemType{kCapacityBelowConfirmed, 409, "capacity-below-confirmed",
                "Capacity below confirmed seats"},
    ProblemType{kCapacityBelowWaitingParty, 409, "capacity-below-waiting-party",
                "Capacity below a waiting party"},
    ProblemType{kIdempotencyKeyInFlight, 409, "idempotency-key-in-flight",
                "Idempotency key in flight"},
    ProblemType{kVersionMismatch, 412, "version-mismatch", "Version mismatch"},
    ProblemType{kPayloadTooLarge, 413, "payload-too-large", "Payload too large"},
    ProblemType{kInvalidField, 422, "invalid-field", "Invalid field"},
    ProblemType{kIdempotencyKeyReused, 422, "idempotency-key-reused",
                "Idempotency key reused with a different body"},
    ProblemType{kRequestHeaderFieldsTooLarge, 431, "request-header-fields-too-large",
                "Request header fields too large"},
    ProblemType{kInternal, 500, "internal", "Internal server error"},
    ProblemType{kOverloaded, 503, "overloaded", "Overloaded"},
    ProblemType{kStorageFull, 503, "storage-full", "Storage full"},
    ProblemType{kActivityTableFull, 507, "activity-table-full", "Activity table full"},
};

constexpr bool table_is_in_kind_order() {
  for (std::size_t i = 0; i < kProblemTypes.size(); ++i) {
    if (static_cast<std::size_t>(kProblemTypes[i].kind) != i) return false;
  }
  return true;
}
static_assert(table_is_in_kind_order(), "problem_type() indexes the table by kind");
static_assert(kProblemTypes.size() == static_cast<std::size_t>(kActivityTableFull) + 1);

picojson::value errors_json(const std::vector<FieldError>& errors) {
  picojson::array list;
  for (std::size_t i = 0; i < errors.size() && i < kProblemFieldErrorsMax; ++i) {
    list.push_back(JsonObjectBuilder()
                       .set("field", json_string(errors[i].field))
                       .set("message", json_string(errors[i].message))
                       .build());
  }
  return picojson::value(std::move(list));
}

}  // namespace

std::span<const ProblemType> problem_types() noexcept { return kProblemTypes; }

const ProblemType& problem_type(ProblemKind kind) noexcept {
  const auto index = static_cast<std::size_t>(kind);
  assert(index < kProblemTypes.size());
  return kProblemTypes[index];
}

Problem make_problem(ProblemKind kind, std::string detail) {
  const ProblemType& type = problem_type(kind);
  Problem problem;
  problem.status = type.status;
  problem.slug = std::string(type.slug);
  problem.title = std::string(type.title);
  problem.detail = std::move(detail);
  return problem;
}

Problem invalid_field_problem(std::vector<FieldError> errors) {
  assert(!errors.empty());
  const std::string detail =
      errors.size() == 1 ? "Field \"" + errors.front().field + "\" " + errors.front().message + "."
                         : std::to_string(errors.size()) + " fields are invalid.";
  Problem problem = make_problem(kInvalidField, detail);
  problem.errors = std::move(errors);
  return problem;
}

Problem already_rsvped_problem(std::string existing_rsvp_id) {
  Problem problem = make_problem(
      kAlreadyRsvped, "The user already has a confirmed or waitlisted RSVP for this activity.");
  problem.rsvp_id = std::move(existing_rsvp_id);
  return problem;
}

std::string problem_body_json(const Problem& problem, std::string_view request_id) {
  JsonObjectBuilder body;
  body.set("type", json_string(std::string(kProblemTypePrefix) + problem.slug))
      .set("title", json_string(problem.title))
      .set("status", json_int(problem.status))
      .set("detail", json_string(problem.detail))
      .set("request_id", json_string(request_id));
  if (!problem.errors.empty()) body.set("errors", errors_json(problem.errors));
  if (problem.rsvp_id) body.set("rsvp_id", json_string(*problem.rsvp_id));
  return to_json_text(body.build());
}

}  // namespace rsvpd::http
