#include <string>

#include "http/detail/endpoints.h"
#include "http/json_writer.h"

namespace rsvpd::http::detail {
namespace {

void append_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, const std::string& value) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
  out += name;
  out += ' ';
  out += value;
  out += '\n';
}

void append_metric(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help, uint64_t value) {
  append_metric(out, name, type, help, std::to_string(value));
}

uint64_t figure(const std::atomic<uint64_t>& counter) {
  return counter.load(std::memory_order_relaxed);  // Relaxed: a figure for scraping.
}

// Zeros without a hub, so that dashboards see the same series on every build.
void render_events(std::string& out, const EventHub* hub) {
  const EventHubMetrics zeros;
  const EventHubMetrics& m = hub != nullptr ? hub->metrics() : zeros;
  append_metric(out, "rsvpd_sse_clients", "gauge", "Open event streams.", figure(m.clients));
  append_metric(out, "rsvpd_sse_events_sent_total", "counter",
                "Events written to streams (first state, replay, live).",
                figure(m.events_sent_total));
  append_metric(out, "rsvpd_sse_events_coalesced_total", "counter",
                "Capacity events skipped for a slow client (it later gets the latest state).",
                figure(m.events_coalesced_total));
  append_metric(out, "rsvpd_sse_clients_dropped_total", "counter",
                "Streams closed because their client fell behind.",
                figure(m.clients_dropped_total));
  append_metric(out, "rsvpd_sse_clients_rejected_total", "counter",
                "Stream requests answered 503 at the client cap.",
                figure(m.clients_rejected_total));
}

void render_engine(std::string& out, const EngineMetrics& m) {
  append_metric(out, "rsvpd_commits_total", "counter", "LMDB write transactions committed.",
                figure(m.commits_total));
  append_metric(out, "rsvpd_commit_failures_total", "counter", "Commits that failed.",
                figure(m.commit_failures_total));
  append_metric(out, "rsvpd_commit_batch_requests_total", "counter",
                "Requests committed, summed over batches.", figure(m.batch_requests_total));
  append_metric(out, "rsvpd_commit_batch_size_max", "gauge", "Largest batch so far.",
                figure(m.batch_size_max));
  append_metric(out, "rsvpd_fdatasync_calls_total", "counter", "fdatasync calls by commits.",
                figure(m.fdatasync_calls_total));
  append_metric(out, "rsvpd_commit_latency_seconds_total", "counter",
                "Commit latency (begin to commit ok) summed over commits.",
                std::to_string(static_cast<double>(figure(m.commit_latency_us_total)) / 1e6));
  append_metric(out, "rsvpd_commit_latency_us_max", "gauge", "Slowest commit, microseconds.",
                figure(m.commit_latency_us_max));
  append_metric(out, "rsvpd_cas_retries_total", "counter", "Admission CAS retries.",
                figure(m.cas_retries_total));
  append_metric(out, "rsvpd_serialized_admissions_total", "counter",
                "Admissions handed to the writer after contention.",
                figure(m.serialized_admissions_total));
  append_metric(out, "rsvpd_waitlist_promotions_total", "counter", "Waitlist promotions.",
                figure(m.promotions_total));
  append_metric(out, "rsvpd_overbooking_detected_total", "counter",
                "Overbooking found by the writer's re-check; must stay 0.",
                figure(m.overbooking_detected_total));
  append_metric(out, "rsvpd_duplicate_admissions_total", "counter",
                "Duplicates that took a place before the writer refused them; should stay 0.",
                figure(m.duplicate_admissions_total));
  append_metric(out, "rsvpd_overloaded_total", "counter", "Requests refused as overloaded.",
                figure(m.overloaded_total));
  append_metric(out, "rsvpd_storage_full_total", "counter", "Commits refused by a full disk.",
                figure(m.storage_full_total));
  append_metric(out, "rsvpd_map_grows_total", "counter", "LMDB map size increases.",
                figure(m.map_grows_total));
}

void render_server(std::string& out, const HttpServer* server) {
  if (server == nullptr) return;
  const ServerCounters c = server->counters();
  append_metric(out, "rsvpd_connections_open", "gauge", "Open client connections.",
                c.connections_open);
  append_metric(out, "rsvpd_connections_accepted_total", "counter", "Accepted connections.",
                c.connections_accepted);
  append_metric(out, "rsvpd_connections_rejected_overload_total", "counter",
                "Connections answered 503 at the connection limit.", c.rejected_overload);
  append_metric(out, "rsvpd_connections_timed_out_total", "counter",
                "Connections dropped by a read, idle or write timeout.", c.timed_out);
}

void respond_status(Exchange& exchange, int status, std::string_view text) {
  JsonObjectBuilder out;
  out.set("status", json_string(text));
  exchange.respond_json(status, out.build());
}

}  // namespace

void get_healthz(const ExchangePtr& exchange) { respond_status(*exchange, 200, "ok"); }

void get_readyz(const ExchangePtr& exchange) {
  const bool ready = exchange->context.service.ready();
  respond_status(*exchange, ready ? 200 : 503, ready ? "ready" : "not-ready");
}

void get_metrics(const ExchangePtr& exchange) {
  ApiContext& context = exchange->context;
  std::string text;
  context.metrics.render(text);
  render_engine(text, context.service.metrics());
  // Acquire: pairs with set_server's release, so the server object is fully visible.
  render_server(text, context.server.load(std::memory_order_acquire));
  render_events(text, context.events.load(std::memory_order_acquire));
  append_metric(text, "rsvpd_jwt_signature_checks_total", "counter",
                "Tokens verified by HMAC (cache misses).", context.verifier.signature_checks());
  HttpResponse response;
  response.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
  response.headers.emplace_back("Cache-Control", "no-store");
  response.body = std::move(text);
  exchange->respond(std::move(response));
}


}  // namespace rsvpd::http::detail
