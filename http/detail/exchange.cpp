#include "http/detail/api_context.h"

#include "http/detail/cors.h"
#include "http/json_writer.h"

namespace rsvpd::http::detail {
namespace {

// Only the transport's parsed value is ever read, never trusted for length or format.
std::string request_id_for(ApiContext& context, const HttpRequest& request) {
  return context.request_ids.accept_or_generate(header_value(request, "X-Request-Id"));
}

void log_request(const Exchange& exchange, int status, uint64_t latency_us) {
  JsonLog& log = exchange.context.log;
  const LogLevel level = status >= 500 ? LogLevel::kWarn : LogLevel::kInfo;
  if (!log.enabled(level)) return;
  picojson::object fields;
  fields["request_id"] = json_string(exchange.request_id);
  fields["method"] = json_string(exchange.request.method_text.size() <= 16 &&
                                         detail::is_valid_utf8(exchange.request.method_text)
                                     ? exchange.request.method_text
                                     : std::string("?"));
  fields["route"] = json_string(route_label(exchange.match.route));
  fields["status"] = json_int(status);
  fields["latency_us"] = json_int(static_cast<int64_t>(latency_us));
  log.write(level, "request", std::move(fields));
}

}  // namespace

std::string_view header_value(const HttpRequest& request, std::string_view name) {
  const auto found = request.headers.find(boost::beast::string_view(name.data(), name.size()));
  if (found == request.headers.end()) return {};
  const auto value = found->value();
  return std::string_view(value.data(), value.size());
}

Exchange::Exchange(ApiContext& context_in, HttpRequest&& request_in, ResponseSink sink,
                   RouteMatch match_in)
    : context(context_in),
      request(std::move(request_in)),
      match(std::move(match_in)),
      request_id(request_id_for(context_in, request)),
      cors_origin(allowed_origin(context_in.options.cors_origins, header_value(request, "Origin"))),
      started_(std::chrono::steady_clock::now()),
      sink_(std::move(sink)) {
  caller.request_id = request_id;
}

void Exchange::finish_head(HttpResponse& response) {
  response.headers.emplace_back("X-Request-Id", request_id);
  add_cors_headers(context.options.cors_origins, cors_origin, response.headers);
  const auto elapsed = std::chrono::steady_clock::now() - started_;
  const uint64_t latency_us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
  context.metrics.record(match.route, response.status, latency_us);
  log_request(*this, response.status, latency_us);
}

void Exchange::respond(HttpResponse response) {
  finish_head(response);
  sink_.send(std::move(response));
}

StreamWriter Exchange::start_stream(HttpResponse head) {
  finish_head(head);
  return sink_.start_stream(std::move(head));
}

void Exchange::respond_json(int status, const picojson::value& body, Headers extra, bool live) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(extra);
  response.headers.emplace_back("Content-Type", "application/json; charset=utf-8");
  if (live) response.headers.emplace_back("Cache-Control", "no-store");
  response.body = to_json_text(body);
  respond(std::move(response));
}

void Exchange::respond_problem(const Problem& problem, Headers extra) {
  HttpResponse response;
  response.status = problem.status;
  response.headers = std::move(extra);
  response.headers.emplace_back("Content-Type", std::string(kProblemContentType));
  response.headers.emplace_back("Cache-Control", "no-store");
  response.body = problem_body_json(problem, request_id);
  respond(std::move(response));
}

}  // namespace rsvpd::http::detail
