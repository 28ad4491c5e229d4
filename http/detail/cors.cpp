#include "http/detail/cors.h"

#include <algorithm>

namespace rsvpd::http::detail {

std::string allowed_origin(const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty()) return {};
  const bool found = std::find(allowed.begin(), allowed.end(), origin) != allowed.end();
  return found ? std::string(origin) : std::string();
}

void add_cors_headers(const std::vector<std::string>& allowed, std::string_view origin,
                      Headers& headers) {
  if (allowed.empty()) return;
  headers.emplace_back("Vary", "Origin");
  if (origin.empty()) return;
  headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  headers.emplace_back("Access-Control-Expose-Headers", std::string(kCorsExposeHeaders));
}

void respond_preflight(Exchange& exchange) {
  HttpResponse response;
  response.status = 204;
  const std::string allow(allowed_methods(exchange.match.route));
  response.headers.emplace_back("Allow", allow);
  if (!exchange.cors_origin.empty()) {
    response.headers.emplace_back("Access-Control-Allow-Methods", allow);
    response.headers.emplace_back("Access-Control-Allow-Headers", std::string(kCorsAllowHeaders));
    response.headers.emplace_back("Access-Control-Max-Age", std::string(kCorsMaxAgeSeconds));
  }
  exchange.respond(std::move(response));
}

}  // namespace rsvpd::http::detail
