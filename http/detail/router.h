// Router: maps a request target's path onto one of the v1 routes (API.md) and names the methods
// each route allows, for 405 + Allow and for CORS preflights.
#pragma once

#include <ostream>  // Boost 1.81 string_view.hpp uses std::ostream without including it.

#include <boost/beast/http/verb.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace rsvpd::http::detail {

inline constexpr std::size_t kPathSegmentsMax = 8;  // Longer paths match no route.

enum class Route {
  kNotFound = 0,  // No route: 404 not-found.
  kHealthz,
  kReadyz,
  kMetrics,
  kActivities,         // /api/v1/activities
  kActivity,           // /api/v1/activities/{id}
  kParticipants,       // /api/v1/activities/{id}/participants
  kCapacity,           // /api/v1/activities/{id}/capacity
  kCapacityCheck,      // /api/v1/activities/{id}/capacity/check
  kAudit,              // /api/v1/activities/{id}/audit
  kActivityEvents,     // /api/v1/activities/{id}/events
  kRsvps,              // /api/v1/rsvps
  kRsvp,               // /api/v1/rsvps/{id}
  kUserRsvps,          // /api/v1/rsvps/user/{userId}
  kMyEvents,           // /api/v1/users/me/events
  kOpenApiDocument,    // /api/v1/openapi.yaml
  kCount,              // Not a route: the number of entries above.
};

inline constexpr std::size_t kRouteCount = static_cast<std::size_t>(Route::kCount);

struct RouteMatch {
  Route route = Route::kNotFound;
  std::string param;   // The {id} / {userId} segment, percent-decoded; empty when none.
  std::string query;   // The raw text after '?', without any '#fragment'.
};

// Matches `target` (origin form, e.g. "/api/v1/rsvps/r00..01?x=1"). A segment that does not
// percent-decode, or an empty segment ("//", a trailing "/"), matches no route. The parameter is
// not validated here: each endpoint answers its own 404 for an id that cannot exist.
// Thread-safe, pure.
RouteMatch match_route(std::string_view target);

// Whether `route` answers `method` (OPTIONS is answered for every route by the CORS layer).
bool route_allows(Route route, boost::beast::http::verb method) noexcept;

// The Allow header value, e.g. "GET, PATCH, OPTIONS". REQUIRES: route != kNotFound.
std::string_view allowed_methods(Route route) noexcept;

// A stable label for metrics and logs, e.g. "/api/v1/activities/{id}"; "unmatched" for kNotFound.
std::string_view route_label(Route route) noexcept;

}  // namespace rsvpd::http::detail
