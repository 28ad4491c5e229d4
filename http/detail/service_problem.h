// Mapping the Service's errors onto problem documents (ServiceError maps 1:1 onto slugs).
#pragma once

#include <string>

#include "daemon/service.h"
#include "http/detail/api_context.h"
#include "http/problem.h"

namespace rsvpd::http::detail {

// The problem for a failed outcome. REQUIRES: error != kNone.
Problem service_problem(ServiceError error, std::string message, std::string field,
                        uint64_t conflicting_rsvp_id);

// Answers a failed outcome, with Retry-After on 503 overloaded. REQUIRES: !outcome.ok().
template <typename T>
void respond_service_failure(Exchange& exchange, const ServiceOutcome<T>& outcome) {
  Problem problem = service_problem(outcome.error, outcome.message, outcome.field,
                                    outcome.conflicting_rsvp_id);
  Headers headers;
  if (problem.status == 503) {
    headers.emplace_back("Retry-After",
                         std::to_string(exchange.context.options.retry_after_seconds));
  }
  exchange.respond_problem(problem, std::move(headers));
}

}  // namespace rsvpd::http::detail
