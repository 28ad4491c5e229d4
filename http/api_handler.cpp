#include "http/api_handler.h"

#include <cassert>

#include "http/detail/api_context.h"
#include "http/detail/cors.h"
#include "http/detail/endpoints.h"
#include "http/json_writer.h"

namespace rsvpd::http {
namespace {

using boost::beast::http::verb;
using detail::ExchangePtr;
using detail::Route;

void respond_method_not_allowed(detail::Exchange& exchange) {
  const std::string allow(detail::allowed_methods(exchange.match.route));
  exchange.respond_problem(
      make_problem(ProblemKind::kMethodNotAllowed, "allowed methods: " + allow),
      {{"Allow", allow}});
}

void dispatch_allowed(const ExchangePtr& exchange) {
  const verb method = exchange->request.method;
  switch (exchange->match.route) {
    case Route::kHealthz: return detail::get_healthz(exchange);
    case Route::kReadyz: return detail::get_readyz(exchange);
    case Route::kMetrics: return detail::get_metrics(exchange);
    case Route::kActivities: return detail::create_activity(exchange);
    case Route::kActivity:
      return method == verb::get ? detail::get_activity(exchange)
                                 : detail::update_activity(exchange);
    case Route::kParticipants: return detail::get_participants(exchange);
    case Route::kCapacity: return detail::get_capacity(exchange);
    case Route::kCapacityCheck: return detail::check_capacity(exchange);
    case Route::kAudit: return detail::get_audit(exchange);
    case Route::kActivityEvents: return detail::get_activity_events(exchange);
    case Route::kMyEvents: return detail::get_my_events(exchange);
    case Route::kRsvps: return detail::create_rsvp(exchange);
    case Route::kRsvp:
      return method == verb::get ? detail::get_rsvp(exchange) : detail::cancel_rsvp(exchange);
    case Route::kUserRsvps: return detail::get_user_rsvps(exchange);
    case Route::kOpenApiDocument: return detail::get_openapi_document(exchange);
    case Route::kNotFound:
    case Route::kCount: break;
  }
  assert(false && "dispatch_allowed on an unmatched route");
}

void dispatch(const ExchangePtr& exchange) {
  const Route route = exchange->match.route;
  if (route == Route::kNotFound) {
    return exchange->respond_problem(make_problem(ProblemKind::kNotFound, "no such route"));
  }
  if (exchange->request.method == verb::options) return detail::respond_preflight(*exchange);
  if (!detail::route_allows(route, exchange->request.method)) {
    return respond_method_not_allowed(*exchange);
  }
  dispatch_allowed(exchange);
}

ProblemKind reject_kind(RejectReason reason) {
  switch (reason) {
    case RejectReason::kHeaderTooLarge: return ProblemKind::kRequestHeaderFieldsTooLarge;
    case RejectReason::kBodyTooLarge: return ProblemKind::kPayloadTooLarge;
    case RejectReason::kOverloaded: return ProblemKind::kOverloaded;
    case RejectReason::kBadRequest: break;
  }
  return ProblemKind::kMalformedJson;
}

}  // namespace

ApiHandler::ApiHandler(ApiOptions options, Service& service, JwtVerifier& verifier,
                       const Clock& clock, JsonLog& log)
    : context_(std::make_unique<detail::ApiContext>(std::move(options), service, verifier, clock,
                                                    log)) {
  assert(context_->options.cors_origins.size() <= kCorsOriginsMax);
}

ApiHandler::~ApiHandler() = default;

void ApiHandler::set_server(const HttpServer* server) noexcept {
  // Release: publishes the server object to /metrics readers (acquire in get_metrics).
  context_->server.store(server, std::memory_order_release);
}

void ApiHandler::handle(HttpRequest&& request, ResponseSink sink) {
  detail::RouteMatch match = detail::match_route(request.target);
  auto exchange = std::make_shared<detail::Exchange>(*context_, std::move(request),
                                                     std::move(sink), std::move(match));
  dispatch(exchange);
}

void ApiHandler::set_event_hub(EventHub* hub) noexcept {
  // Release: publishes the hub to the io threads (acquire in the event endpoints).
  context_->events.store(hub, std::memory_order_release);
}

HttpResponse ApiHandler::reject(RejectReason reason) {
  Problem problem = make_problem(reject_kind(reason), "");
  if (reason == RejectReason::kBadRequest) {
    problem.slug = "bad-request";
    problem.title = "Bad Request";
    problem.detail = "the request is not valid HTTP/1.1";
  }
  const std::string request_id = context_->request_ids.next();
  HttpResponse response;
  response.status = problem.status;
  response.headers.emplace_back("Content-Type", std::string(kProblemContentType));
  response.headers.emplace_back("X-Request-Id", request_id);
  if (reason == RejectReason::kOverloaded) {
    response.headers.emplace_back("Retry-After",
                                  std::to_string(context_->options.retry_after_seconds));
  }
  detail::add_cors_headers(context_->options.cors_origins, {}, response.headers);
  response.body = problem_body_json(problem, request_id);
  response.close_connection = true;
  context_->metrics.record(Route::kNotFound, response.status, 0);
  return response;
}

}  // namespace rsvpd::http
