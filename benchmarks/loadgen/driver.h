// The load engine: keep-alive connections spread over worker threads (one io_context each),
// driven closed loop (next request when the last returns) or open loop (a fixed offered rate,
// latency from the intended send time, so coordinated omission is corrected, as in wrk2).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "benchmarks/loadgen/histogram.h"
#include "benchmarks/loadgen/verify.h"

namespace rsvpd::loadgen {

inline constexpr int kConnectionsMax = 50'000;
inline constexpr int kThreadsMax = 64;
inline constexpr double kDurationSecondsMax = 600;
inline constexpr double kWarmupSecondsMax = 60;
inline constexpr double kDrainSecondsMax = 5;        // In-flight requests after the deadline.
inline constexpr uint64_t kRequestsMax = 1'000'000'000;
inline constexpr std::size_t kRecordsPerThreadMax = 4'000'000;  // Acknowledged RSVPs kept.
inline constexpr std::size_t kOwnRsvpsMax = 64;      // Per connection, for `mixed` cancels.
inline constexpr int kReconnectFailuresMax = 3;      // In a row, then the connection gives up.
inline constexpr int kStatusCodesMax = 600;

enum class Scenario { kStatic, kCapacityRead, kSpread, kHot, kMixed };
enum class Op : uint8_t { kStatic, kCapacityRead, kRsvp, kCancel };
inline constexpr int kOpCount = 4;

// Everything the workers read; fixed before they start. Times are steady-clock nanoseconds.
struct Plan {
  Scenario scenario = Scenario::kStatic;
  std::string host;
  uint16_t port = 0;
  int connections = 0;
  int threads = 0;
  double rate_per_second = 0;  // 0: closed loop.
  uint64_t requests_max = kRequestsMax;
  int64_t timeout_ns = 0;
  int guests = 0;
  int read_percent = 80, rsvp_percent = 15;  // `mixed`; the rest are cancels.
  std::string static_path;
  std::string bearer_token;                   // Admin: setup, cancels, RSVPs on behalf.
  // When not empty, RSVPs carry these users' own tokens (request k of connection c uses
  // user_tokens[(k * connections + c) % size]) instead of the admin's with a user_id.
  std::vector<std::string> user_tokens;
  std::string user_prefix;                    // Unique per run; users are <prefix>.<conn>.<seq>.
  std::vector<std::string> activity_ids;
  int64_t warmup_ns = 0, duration_ns = 0;
  int64_t start_ns = 0, measure_start_ns = 0, deadline_ns = 0;  // Set by run_load.
};

struct ThreadStats {
  Histogram latency;  // Open loop: from the intended send time; closed loop: from the send.
  Histogram service;  // From the actual send, both modes.
  std::array<uint64_t, kStatusCodesMax> status_counts{};
  std::array<uint64_t, kOpCount> op_counts{};
  uint64_t completed_in_window = 0;
  uint64_t sent = 0;
  uint64_t unexpected_status = 0;
  uint64_t transport_errors = 0;
  uint64_t timeouts = 0;
  uint64_t protocol_errors = 0;
  uint64_t reconnects = 0;
  uint64_t connections_lost = 0;
  uint64_t unanswered_rsvps = 0;
  uint64_t records_dropped = 0;
  uint64_t late_sends = 0;  // Open loop: sends that left after their intended time.
  std::vector<RsvpRecord> records;

  void merge(ThreadStats&& other);
};

// Connects plan.connections sockets (blocking, before the clock starts), runs the workers to
// the deadline plus at most kDrainSecondsMax, and returns the merged statistics.
// Errors: a connect failure before the run → `error` set and an empty result.
// REQUIRES: plan validated (connections, threads, times within the limits above).
ThreadStats run_load(Plan& plan, std::string& error);

int64_t now_ns();

}  // namespace rsvpd::loadgen
