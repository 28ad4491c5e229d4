#include "http/detail/api_metrics.h"

#include <cstdio>

namespace rsvpd::http::detail {
namespace {

std::size_t status_slot(int status) noexcept {
  for (std::size_t i = 0; i < kTrackedStatuses.size(); ++i) {
    if (kTrackedStatuses[i] == status) return i;
  }
  return kTrackedStatuses.size();
}

std::string seconds_text(uint64_t microseconds) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", static_cast<double>(microseconds) / 1e6);
  return text;
}

}  // namespace

void ApiMetrics::record(Route route, int status, uint64_t latency_us) noexcept {
  Cell& cell = cells_[static_cast<std::size_t>(route)][status_slot(status)];
  // Relaxed throughout: these are figures for scraping, ordered by nothing.
  cell.count.fetch_add(1, std::memory_order_relaxed);
  cell.latency_us_sum.fetch_add(latency_us, std::memory_order_relaxed);
  for (std::size_t i = 0; i < kLatencyBucketsUs.size(); ++i) {
    if (latency_us <= kLatencyBucketsUs[i]) {
      cell.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

void ApiMetrics::render_cell(std::string& out, Route route, std::size_t slot) const {
  const Cell& cell = cells_[static_cast<std::size_t>(route)][slot];
  const uint64_t count = cell.count.load(std::memory_order_relaxed);  // Relaxed: a figure.
  if (count == 0) return;
  const std::string status =
      slot < kTrackedStatuses.size() ? std::to_string(kTrackedStatuses[slot]) : "other";
  const std::string labels =
      "route=\"" + std::string(route_label(route)) + "\",status=\"" + status + "\"";
  out += "rsvpd_http_requests_total{" + labels + "} " + std::to_string(count) + "\n";
  uint64_t cumulative = 0;
  for (std::size_t i = 0; i < kLatencyBucketsUs.size(); ++i) {
    cumulative += cell.buckets[i].load(std::memory_order_relaxed);  // Relaxed: a figure.
    out += "rsvpd_http_request_duration_seconds_bucket{" + labels + ",le=\"" +
           seconds_text(kLatencyBucketsUs[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += "rsvpd_http_request_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " +
         std::to_string(count) + "\n";
  out += "rsvpd_http_request_duration_seconds_sum{" + labels + "} " +
         seconds_text(cell.latency_us_sum.load(std::memory_order_relaxed)) + "\n";
  out += "rsvpd_http_request_duration_seconds_count{" + labels + "} " + std::to_string(count) +
         "\n";
}

void ApiMetrics::render(std::string& out) const {
  out += "# HELP rsvpd_http_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE rsvpd_http_requests_total counter\n";
  out += "# HELP rsvpd_http_request_duration_seconds Time from dispatch to response.\n";
  out += "# TYPE rsvpd_http_request_duration_seconds histogram\n";
  for (std::size_t route = 0; route < kRouteCount; ++route) {
    for (std::size_t slot = 0; slot < kStatusSlotCount; ++slot) {
      render_cell(out, static_cast<Route>(route), slot);
    }
  }
}

}  // namespace rsvpd::http::detail
