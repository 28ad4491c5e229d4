// ApiMetrics: request counts and latency histograms per route and status, for /metrics.
//
// Fixed arrays of relaxed atomics sized at compile time: recording never allocates or locks.
// Statuses outside kTrackedStatuses are counted under status="other".
// Thread safety: record() and render() may run concurrently from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "http/detail/router.h"

namespace rsvpd::http::detail {

inline constexpr std::array<int, 17> kTrackedStatuses = {200, 201, 204, 400, 401, 403, 404, 405,
                                                         409, 412, 413, 422, 431, 500, 501, 503,
                                                         507};
inline constexpr std::size_t kStatusSlotCount = kTrackedStatuses.size() + 1;  // + "other".
// Upper bounds of the latency buckets in microseconds (the +Inf bucket is implicit).
inline constexpr std::array<uint64_t, 12> kLatencyBucketsUs = {
    100, 250, 500, 1'000, 2'500, 5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 1'000'000};

class ApiMetrics {
 public:
  void record(Route route, int status, uint64_t latency_us) noexcept;
  // Appends the Prometheus text of every (route, status) seen at least once.
  void render(std::string& out) const;

 private:
  struct Cell {
    std::atomic<uint64_t> count{0};
    std::atomic<uint64_t> latency_us_sum{0};
    std::array<std::atomic<uint64_t>, kLatencyBucketsUs.size()> buckets{};  // Not cumulative.
  };
  void render_cell(std::string& out, Route route, std::size_t status_slot) const;

  std::array<std::array<Cell, kStatusSlotCount>, kRouteCount> cells_{};
};

}  // namespace rsvpd::http::detail
