// ApiContext: what every endpoint shares (long-lived), and Exchange: one request in flight.
#pragma once

#include <picojson.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "daemon/service.h"
#include "http/api_handler.h"
#include "http/event_hub.h"
#include "http/detail/api_metrics.h"
#include "http/detail/router.h"
#include "http/identifiers.h"
#include "http/problem.h"

namespace rsvpd::http::detail {

struct ApiContext {
  ApiContext(ApiOptions options_in, Service& service_in, JwtVerifier& verifier_in,
             const Clock& clock_in, JsonLog& log_in)
      : options(std::move(options_in)),
        service(service_in),
        verifier(verifier_in),
        clock(clock_in),
        log(log_in),
        request_ids(options.request_id_seed) {}

  const ApiOptions options;
  Service& service;
  JwtVerifier& verifier;
  const Clock& clock;
  JsonLog& log;
  RequestIdGenerator request_ids;
  ApiMetrics metrics;
  std::atomic<const HttpServer*> server{nullptr};
  std::atomic<EventHub*> events{nullptr};  // Null: the SSE routes answer 501.
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request from dispatch to its single response. Shared (std::shared_ptr) so that a Service
// callback can own it; used by one thread at a time (the io thread, then the callback's).
class Exchange {
 public:
  Exchange(ApiContext& context, HttpRequest&& request, ResponseSink sink, RouteMatch match);

  ApiContext& context;
  HttpRequest request;
  const RouteMatch match;
  const std::string request_id;
  const std::string cors_origin;  // The request's Origin when allowed, else empty.
  Caller caller;                  // Filled by authenticate().

  // Adds X-Request-Id and the CORS headers, records metrics, logs, sends. REQUIRES: called once.
  void respond(HttpResponse response);
  // A JSON body; `live` adds Cache-Control: no-store (live-state representations).
  void respond_json(int status, const picojson::value& body, Headers extra = {}, bool live = true);
  void respond_problem(const Problem& problem, Headers extra = {});
  // Answers with a streamed body (Server-Sent Events): the head gets the same X-Request-Id,
  // CORS headers, metrics and log line as respond(). REQUIRES: called once, instead of respond().
  StreamWriter start_stream(HttpResponse head);

  // Runs `task` on this request's io thread (ResponseSink::post). REQUIRES: not yet answered.
  void on_loop(std::function<void()> task) { sink_.post(std::move(task)); }

 private:
  // X-Request-Id, CORS, metrics and the log line: what every answer's head gets.
  void finish_head(HttpResponse& response);

  const std::chrono::steady_clock::time_point started_;
  ResponseSink sink_;
};

using ExchangePtr = std::shared_ptr<Exchange>;

// A service completion that renders its answer on the request's io thread: the writer thread
// calls completions right after its commit, and rendering JSON there would delay the next one.
// `respond(Exchange&, const Outcome&)` answers the request.
template <typename Outcome, typename Respond>
auto answer_on_loop(const ExchangePtr& exchange, Respond respond) {
  return [exchange, respond](Outcome outcome) {
    exchange->on_loop(
        [exchange, respond, outcome = std::move(outcome)] { respond(*exchange, outcome); });
  };
}

// The request's header value, empty when absent.
std::string_view header_value(const HttpRequest& request, std::string_view name);

}  // namespace rsvpd::http::detail
