// The Server-Sent Events endpoints (API.md, "Real-time updates"): checks in the contract's
// order, then the stream head, then the stream goes to the EventHub.
#include <charconv>
#include <optional>
#include <string>

#include "http/detail/endpoints.h"
#include "http/detail/request_checks.h"
#include "http/query_string.h"

namespace rsvpd::http::detail {
namespace {

// Retry-After for a full client table: streams last long, so a client should not hammer us.
constexpr std::string_view kStreamsFullRetryAfterSeconds = "5";

EventHub* hub_of(Exchange& exchange) {
  // Acquire: pairs with ApiHandler::set_event_hub's release.
  return exchange.context.events.load(std::memory_order_acquire);
}

void respond_not_implemented(Exchange& exchange) {
  Problem problem;
  problem.status = 501;
  problem.slug = "not-implemented";
  problem.title = "Not Implemented";
  problem.detail = "this daemon serves no event streams";
  exchange.respond_problem(problem);
}

// Reserves a place in the hub, or answers 503 overloaded. Returns whether it reserved.
bool reserve_stream(Exchange& exchange, EventHub& hub) {
  if (!hub.reserve_client()) {
    exchange.respond_problem(make_problem(ProblemKind::kOverloaded, "too many event streams"),
                             {{"Retry-After", std::string(kStreamsFullRetryAfterSeconds)}});
    return false;
  }
  return true;
}

StreamWriter open_stream(Exchange& exchange) {
  HttpResponse head;
  head.status = 200;
  head.headers = {{"Content-Type", "text/event-stream; charset=utf-8"},
                  {"Cache-Control", "no-store"},
                  // Proxies such as nginx would otherwise hold events back in their buffers.
                  {"X-Accel-Buffering", "no"}};
  return exchange.start_stream(std::move(head));
}

// The token from Authorization, else from ?access_token= (EventSource cannot set headers).
// Answers 401 itself when neither verifies.
bool authenticate_stream(Exchange& exchange, const QueryReader& query) {
  if (!header_value(exchange.request, "Authorization").empty()) return authenticate(exchange);
  const std::optional<std::string_view> token = query.find("access_token");
  if (!token || token->empty()) return authenticate(exchange);  // Answers "token required".
  exchange.request.headers.set("Authorization", "Bearer " + std::string(*token));
  return authenticate(exchange);
}

// Last-Event-ID: the decimal audit seq of the last event the client saw.
std::optional<uint64_t> parse_last_event_id(std::string_view text) {
  uint64_t seq = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return seq;
}

}  // namespace

void get_activity_events(const ExchangePtr& exchange) {
  EventHub* hub = hub_of(*exchange);
  if (hub == nullptr) return respond_not_implemented(*exchange);
  QueryReader query(exchange->match.query);
  query.reject_unknown({"access_token"});  // Public; a token sent anyway is ignored.
  if (!query.ok()) return respond_invalid(*exchange, query.errors());
  const std::string& activity_id = exchange->match.param;
  if (!is_valid_id(activity_id) || !exchange->context.service.get_activity(activity_id).ok()) {
    return respond_not_found(*exchange, ProblemKind::kActivityNotFound);
  }
  if (!reserve_stream(*exchange, *hub)) return;
  hub->subscribe_activity(activity_id, open_stream(*exchange));
}

void get_my_events(const ExchangePtr& exchange) {
  EventHub* hub = hub_of(*exchange);
  if (hub == nullptr) return respond_not_implemented(*exchange);
  QueryReader query(exchange->match.query);
  if (!authenticate_stream(*exchange, query)) return;
  query.reject_unknown({"access_token"});
  if (!query.ok()) return respond_invalid(*exchange, query.errors());
  const std::string_view last_event_id = header_value(exchange->request, "Last-Event-ID");
  std::optional<uint64_t> after_seq;
  if (!last_event_id.empty()) {
    after_seq = parse_last_event_id(last_event_id);
    if (!after_seq) {
      return respond_invalid(*exchange,
                             {{"Last-Event-ID", "must be the decimal id of an event"}});
    }
  }
  if (!reserve_stream(*exchange, *hub)) return;
  // A new stream starts at what is committed before its head goes out: whatever commits between
  // the client's `open` and the hub's admission is then replayed, so a client that books as soon
  // as its stream opens still sees its own transition.
  const uint64_t start_after = after_seq.value_or(hub->committed_seq());
  hub->subscribe_user(exchange->caller.sub, start_after, open_stream(*exchange));
}

}  // namespace rsvpd::http::detail
