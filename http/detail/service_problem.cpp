#include "http/detail/service_problem.h"

#include <cassert>

#include "daemon/records.h"
#include "http/detail/utf8.h"

namespace rsvpd::http::detail {
namespace {

ProblemKind problem_kind(ServiceError error) noexcept {
  switch (error) {
    case ServiceError::kActivityNotFound: return ProblemKind::kActivityNotFound;
    case ServiceError::kRsvpNotFound: return ProblemKind::kRsvpNotFound;
    case ServiceError::kForbidden: return ProblemKind::kForbidden;
    case ServiceError::kInvalidField: return ProblemKind::kInvalidField;
    case ServiceError::kActivityExists: return ProblemKind::kActivityExists;
    case ServiceError::kAlreadyRsvped: return ProblemKind::kAlreadyRsvped;
    case ServiceError::kRsvpClosed: return ProblemKind::kRsvpClosed;
    case ServiceError::kActivityArchived: return ProblemKind::kActivityArchived;
    case ServiceError::kActivityFull: return ProblemKind::kActivityFull;
    case ServiceError::kCapacityBelowConfirmed: return ProblemKind::kCapacityBelowConfirmed;
    case ServiceError::kCapacityBelowWaitingParty:
      return ProblemKind::kCapacityBelowWaitingParty;
    case ServiceError::kVersionMismatch: return ProblemKind::kVersionMismatch;
    case ServiceError::kIdempotencyKeyReused: return ProblemKind::kIdempotencyKeyReused;
    case ServiceError::kIdempotencyKeyInFlight: return ProblemKind::kIdempotencyKeyInFlight;
    case ServiceError::kOverloaded: return ProblemKind::kOverloaded;
    case ServiceError::kStorageFull: return ProblemKind::kStorageFull;
    case ServiceError::kActivityTableFull: return ProblemKind::kActivityTableFull;
    case ServiceError::kShutdown: return ProblemKind::kOverloaded;  // Retry elsewhere or later.
    case ServiceError::kInternal:
    case ServiceError::kNone: break;
  }
  return ProblemKind::kInternal;
}

}  // namespace

Problem service_problem(ServiceError error, std::string message, std::string field,
                        uint64_t conflicting_rsvp_id) {
  assert(error != ServiceError::kNone);
  // Messages come from our own engine; keep a broken one from tripping the writer's assertions.
  if (!is_valid_utf8(message)) message.clear();
  if (error == ServiceError::kInvalidField) {
    if (field.empty() || !is_valid_utf8(field)) field = "body";
    return invalid_field_problem({FieldError{std::move(field), std::move(message)}});
  }
  if (error == ServiceError::kAlreadyRsvped && conflicting_rsvp_id != 0) {
    Problem problem = already_rsvped_problem(format_rsvp_id(conflicting_rsvp_id));
    if (!message.empty()) problem.detail = std::move(message);
    return problem;
  }
  if (error == ServiceError::kShutdown && message.empty()) message = "the daemon is stopping";
  return make_problem(problem_kind(error), std::move(message));
}

}  // namespace rsvpd::http::detail
