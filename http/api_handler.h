// ApiHandler: the v1 HTTP API (API.md) as a RequestHandler for HttpServer.
//
// Every request goes through: routing (404 not-found, 405 + Allow, OPTIONS preflight) →
// authentication (401) → body syntax (400; 413/431 come from the transport through reject()) →
// field validation (422, naming the field) → the Service, which answers existence (404) →
// permission (403) → state (409/412). Every response carries X-Request-Id (the client's valid
// one, else a generated one) and, for an origin allowed by ApiOptions::cors_origins, the CORS
// headers. Changes answer from the Service's callback after the durable commit, possibly on the
// writer thread; reads are answered on the io thread.
//
// The two Server-Sent Events endpoints hand their streams to the EventHub set with
// set_event_hub(); without one they answer 501 `not-implemented`.
//
// Thread safety: handle() and reject() may run concurrently on every io thread; they never block
// on I/O (reads are short LMDB read transactions inside the Service).
// Lifetime: construct before HttpServer::start; destroy after the server is stopped and
// Service::stop() returned (every callback into this handler has run by then).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/clock.h"
#include "daemon/service.h"
#include "http/event_hub.h"
#include "http/json_log.h"
#include "http/jwt_auth.h"
#include "http/request_handler.h"
#include "http/server.h"

namespace rsvpd::http {

inline constexpr std::size_t kCorsOriginsMax = 64;
inline constexpr uint32_t kRetryAfterSecondsDefault = 1;

struct ApiOptions {
  // Origins (scheme://host[:port], compared exactly) that get Access-Control-* headers.
  std::vector<std::string> cors_origins;
  uint32_t retry_after_seconds = kRetryAfterSecondsDefault;  // On 503 overloaded.
  uint64_t request_id_seed = 0;  // RequestIdGenerator::random_seed() in production.
};

namespace detail {
struct ApiContext;
}

class ApiHandler final : public RequestHandler {
 public:
  // REQUIRES: options.cors_origins.size() <= kCorsOriginsMax; service, verifier, clock and log
  // outlive the handler.
  ApiHandler(ApiOptions options, Service& service, JwtVerifier& verifier, const Clock& clock,
             JsonLog& log);
  ~ApiHandler() override;
  ApiHandler(const ApiHandler&) = delete;
  ApiHandler& operator=(const ApiHandler&) = delete;

  // The server whose counters /metrics reports; may be set after start(). Null clears it.
  // REQUIRES: the server outlives the handler or is cleared first.
  void set_server(const HttpServer* server) noexcept;
  // The hub that serves the event streams; null (the default) makes them answer 501.
  // REQUIRES: the hub outlives the handler or is cleared first.
  void set_event_hub(EventHub* hub) noexcept;

  void handle(HttpRequest&& request, ResponseSink sink) override;
  HttpResponse reject(RejectReason reason) override;

 private:
  std::unique_ptr<detail::ApiContext> context_;
};

}  // namespace rsvpd::http
