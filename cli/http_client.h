// A small synchronous HTTP/1.1 client (Boost.Beast over the default epoll reactor, DESIGN.md §4)
// for rsvpctl's calls to the daemon's API. One request per connection; every step is bounded by
// kHttpTimeoutMs and the response body by kResponseBodyBytesMax.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace rsvpd::cli {

inline constexpr int64_t kHttpTimeoutMs = 10'000;
inline constexpr size_t kResponseBodyBytesMax = 1 << 20;
inline constexpr size_t kUrlBytesMax = 2048;

struct HttpEndpoint {
  std::string host;
  std::string port;
};

// Accepts "http://HOST[:PORT][/]" (port 80 by default). No https: the daemon listens on
// localhost behind whatever terminates TLS. nullopt for anything else.
std::optional<HttpEndpoint> parse_http_url(const std::string& url);

struct HttpRequest {
  std::string method;  // "POST", "PATCH", "GET".
  std::string target;  // "/api/v1/activities".
  std::string body;    // JSON; empty for none.
  std::string bearer_token;
  std::string if_match;  // Sent as If-Match: "<value>" when not empty.
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

// Sends the request and reads the whole response. On a connection or protocol failure returns
// nullopt with *error saying what failed (resolve, connect, timeout, ...).
std::optional<HttpResponse> send_http(const HttpEndpoint& endpoint, const HttpRequest& request,
                                      std::string* error);

}  // namespace rsvpd::cli
