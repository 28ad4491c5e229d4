// CORS (API.md: origins allowed by --cors-origin get the usual Access-Control-* headers on every
// endpoint, preflight included). Origins are compared exactly, byte for byte.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/detail/api_context.h"

namespace rsvpd::http::detail {

inline constexpr std::string_view kCorsAllowHeaders =
    "Authorization, Content-Type, Idempotency-Key, If-Match, X-Request-Id, Last-Event-ID";
inline constexpr std::string_view kCorsExposeHeaders =
    "Location, ETag, X-Request-Id, Idempotent-Replayed, Retry-After";
inline constexpr std::string_view kCorsMaxAgeSeconds = "600";

// `origin` when it is one of `allowed`, else empty. Pure.
std::string allowed_origin(const std::vector<std::string>& allowed, std::string_view origin);

// The headers every response gets: Vary: Origin when any origin is configured, and
// Access-Control-Allow-Origin / -Expose-Headers when `origin` (from allowed_origin) is not empty.
void add_cors_headers(const std::vector<std::string>& allowed, std::string_view origin,
                      Headers& headers);

// Answers an OPTIONS request for a known route: 204 with Allow, and for an allowed origin the
// Access-Control-Allow-Methods / -Headers / -Max-Age preflight headers.
void respond_preflight(Exchange& exchange);

}  // namespace rsvpd::http::detail
