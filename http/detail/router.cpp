#include "http/detail/router.h"

#include <array>
#include <cassert>
#include <optional>

namespace rsvpd::http::detail {
namespace {

using boost::beast::http::verb;

struct RouteInfo {
  std::string_view label;
  std::string_view allow;
};

constexpr std::array<RouteInfo, kRouteCount> kRoutes = {{
    {"unmatched", ""},
    {"/healthz", "GET, OPTIONS"},
    {"/readyz", "GET, OPTIONS"},
    {"/metrics", "GET, OPTIONS"},
    {"/api/v1/activities", "POST, OPTIONS"},
    {"/api/v1/activities/{id}", "GET, PATCH, OPTIONS"},
    {"/api/v1/activities/{id}/participants", "GET, OPTIONS"},
    {"/api/v1/activities/{id}/capacity", "GET, OPTIONS"},
    {"/api/v1/activities/{id}/capacity/check", "POST, OPTIONS"},
    {"/api/v1/activities/{id}/audit", "GET, OPTIONS"},
    {"/api/v1/activities/{id}/events", "GET, OPTIONS"},
    {"/api/v1/rsvps", "POST, OPTIONS"},
    {"/api/v1/rsvps/{id}", "GET, DELETE, OPTIONS"},
    {"/api/v1/rsvps/user/{userId}", "GET, OPTIONS"},
    {"/api/v1/users/me/events", "GET, OPTIONS"},
    {"/api/v1/openapi.yaml", "GET, OPTIONS"},
}};

int hex_value(char ch) noexcept {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

// Percent-decodes one path segment; nullopt for a broken escape or an empty segment.
std::optional<std::string> decode_segment(std::string_view raw) {
  if (raw.empty()) return std::nullopt;
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '%') {
      out.push_back(raw[i]);
      continue;
    }
    if (i + 2 >= raw.size()) return std::nullopt;
    const int high = hex_value(raw[i + 1]);
    const int low = hex_value(raw[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  return out;
}

struct Segments {
  std::array<std::string, kPathSegmentsMax> items;
  std::size_t count = 0;
};

std::optional<Segments> split_path(std::string_view path) {
  if (path.empty() || path.front() != '/') return std::nullopt;
  Segments segments;
  path.remove_prefix(1);
  while (true) {
    const std::size_t slash = path.find('/');
    std::optional<std::string> segment = decode_segment(path.substr(0, slash));
    if (!segment || segments.count == kPathSegmentsMax) return std::nullopt;
    segments.items[segments.count++] = std::move(*segment);
    if (slash == std::string_view::npos) return segments;
    path.remove_prefix(slash + 1);
  }
}

Route match_activity_subroute(const Segments& s) {
  if (s.count == 4) return Route::kActivity;
  if (s.count == 5 && s.items[4] == "participants") return Route::kParticipants;
  if (s.count == 5 && s.items[4] == "capacity") return Route::kCapacity;
  if (s.count == 5 && s.items[4] == "audit") return Route::kAudit;
  if (s.count == 5 && s.items[4] == "events") return Route::kActivityEvents;
  if (s.count == 6 && s.items[4] == "capacity" && s.items[5] == "check") {
    return Route::kCapacityCheck;
  }
  return Route::kNotFound;
}

// Routes under /api/v1; `param` receives the path parameter.
Route match_api(const Segments& s, std::string& param) {
  const std::string_view resource = s.items[2];
  if (resource == "openapi.yaml" && s.count == 3) return Route::kOpenApiDocument;
  if (resource == "activities") {
    if (s.count == 3) return Route::kActivities;
    param = s.items[3];
    return match_activity_subroute(s);
  }
  if (resource == "rsvps") {
    if (s.count == 3) return Route::kRsvps;
    if (s.count == 4) {
      param = s.items[3];
      return Route::kRsvp;
    }
    if (s.count == 5 && s.items[3] == "user") {
      param = s.items[4];
      return Route::kUserRsvps;
    }
    return Route::kNotFound;
  }
  if (resource == "users" && s.count == 5 && s.items[3] == "me" && s.items[4] == "events") {
    return Route::kMyEvents;
  }
  return Route::kNotFound;
}

}  // namespace

RouteMatch match_route(std::string_view target) {
  RouteMatch match;
  const std::size_t fragment = target.find('#');
  if (fragment != std::string_view::npos) target = target.substr(0, fragment);
  const std::size_t question = target.find('?');
  if (question != std::string_view::npos) {
    match.query = std::string(target.substr(question + 1));
    target = target.substr(0, question);
  }
  const std::optional<Segments> segments = split_path(target);
  if (!segments) return match;
  const Segments& s = *segments;
  if (s.count == 1 && s.items[0] == "healthz") match.route = Route::kHealthz;
  if (s.count == 1 && s.items[0] == "readyz") match.route = Route::kReadyz;
  if (s.count == 1 && s.items[0] == "metrics") match.route = Route::kMetrics;
  if (s.count >= 3 && s.items[0] == "api" && s.items[1] == "v1") {
    match.route = match_api(s, match.param);
  }
  if (match.route == Route::kNotFound) match.param.clear();
  return match;
}

bool route_allows(Route route, verb method) noexcept {
  switch (route) {
    case Route::kNotFound:
    case Route::kCount:
      return false;
    case Route::kActivities:
    case Route::kCapacityCheck:
    case Route::kRsvps:
      return method == verb::post;
    case Route::kActivity:
      return method == verb::get || method == verb::patch;
    case Route::kRsvp:
      return method == verb::get || method == verb::delete_;
    default:
      return method == verb::get;
  }
}

std::string_view allowed_methods(Route route) noexcept {
  assert(route != Route::kNotFound && route != Route::kCount);
  return kRoutes[static_cast<std::size_t>(route)].allow;
}

std::string_view route_label(Route route) noexcept {
  assert(route != Route::kCount);
  return kRoutes[static_cast<std::size_t>(route)].label;
}

}  // namespace rsvpd::http::detail
