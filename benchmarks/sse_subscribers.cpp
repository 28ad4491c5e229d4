// rsvpd-sse-bench: N Server-Sent Events subscribers on one activity's capacity stream, and the
// delay from an acknowledged RSVP to its event at every subscriber (issue 6; BENCHMARKS.md).
//
// Usage (see benchmarks/README.md or --help):
//   rsvpd-sse-bench --target 127.0.0.1:8080 --activity hot-1 --subscribers 1000
//                   --secret-file DATA/jwt.secret --probe-delay-s 1 --probe-duration-s 5
//                   [--ready-file F] [--json-out out.json]
//
// Subscribers: N keep-alive connections to GET /api/v1/activities/{id}/events on one io_context
// thread (Boost.Asio, epoll). Each stream is parsed (id, event, data's confirmed_seats); ids must
// strictly increase per stream (API.md: event ids only increase), else a violation is counted.
//
// The delay probe, on a second thread: every --probe-interval-ms it RSVPs on the activity for a
// fresh user (admin token minted from the daemon's secret), takes T = the time its 201 was read
// (the daemon answers 201 only after the commit), then finds the RSVP's audit seq S in
// GET /activities/{id}/audit?after=L (L = a seq known to be committed before the RSVP was sent,
// so the entry is on the pages after it). The probe's delay at a subscriber is
//   (arrival of that subscriber's first event with id >= S) - T,
// i.e. the fan-out lag a client sees after its booking was confirmed. Arrival is when this
// program's read completed, so it includes our own scheduling on a shared machine. The event can
// arrive before the 201 is read (the hub and the response race after the commit), so the delay
// is signed; negative ones are also counted as `before_ack`. For context the same is reported
// from the probe's send (an upper bound on commit-to-event, since the commit lies in between).
// Delays are kept exactly (bounded by kDelayPairsMax) and their percentiles taken at the end.
//
// Probes are resolved on the subscriber thread; since S is learned after the event may already
// have arrived, each subscriber keeps a bounded ring of its latest (id, arrival) pairs. A probe
// whose first matching event already left the ring is counted as `ring_overflow`, never guessed.
//
// Exit status: 0 ran with no id violation and at least one delay measured; 1 id violations (or
// nothing measured); 2 usage, setup or connection error.
#include <sys/resource.h>

#include <boost/asio.hpp>
#include <boost/program_options.hpp>
#include <picojson.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "benchmarks/loadgen/api_client.h"
#include "benchmarks/loadgen/histogram.h"
#include "http/jwt_auth.h"

namespace rsvpd::loadgen {
namespace {

namespace asio = boost::asio;
namespace po = boost::program_options;
using tcp = asio::ip::tcp;

constexpr int kSubscribersMax = 50'000;
constexpr int kConnectsInFlightMax = 64;      // Do not overrun the daemon's listen backlog.
constexpr double kSetupSecondsMax = 60;       // Connect + first event of every subscriber.
constexpr double kProbeSecondsMax = 600;
constexpr double kDrainSeconds = 2;           // After the probe window: late events still count.
constexpr int kProbeIntervalMsMin = 5;
constexpr uint64_t kProbesMax = 100'000;
constexpr int kAuditPagesMax = 200;           // 200 × 500 entries behind the lower bound.
constexpr int kAuditPageLimit = 500;          // API.md's maximum `limit`.
constexpr std::size_t kDelayPairsMax = 4'000'000;  // 32 MB per kind; 1,000 × 20/s × 200 s.
constexpr std::size_t kRingEntriesDefault = 1024;
constexpr std::size_t kRingEntriesMax = 1u << 16;
constexpr std::size_t kReadChunkBytes = 4096;
constexpr std::size_t kStreamHeadBytesMax = 16 * 1024;
constexpr std::size_t kStreamLineBytesMax = 64 * 1024;  // One data line; ours are ~200 bytes.
constexpr rlim_t kFileDescriptorsSpare = 64;
constexpr int64_t kTokenLifetimeSeconds = 3600;
constexpr const char* kAdminSubject = "rsvpd-sse-bench-admin";
constexpr auto kTickInterval = std::chrono::milliseconds(20);

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch()).count();
}

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

struct Options {
  std::string target = "127.0.0.1:8080";
  std::string activity;
  int subscribers = 1000;
  double probe_delay_s = 0;
  double probe_duration_s = 10;
  int probe_interval_ms = 50;
  std::size_t ring_entries = kRingEntriesDefault;
  std::string secret_file;
  std::string token;
  std::string ready_file;
  std::string json_out;
};

// A resolved probe: its RSVP's audit seq and when its 201 was read.
struct Probe {
  uint64_t seq = 0;
  int64_t sent_ns = 0;
  int64_t ack_ns = 0;
};

// Exact order statistics of signed nanoseconds.
struct Quantiles {
  double p50 = 0, p99 = 0, p999 = 0, min = 0, max = 0;  // Milliseconds.
};

Quantiles quantiles_ms(std::vector<int64_t>& values) {
  Quantiles q;
  if (values.empty()) return q;
  std::sort(values.begin(), values.end());
  const auto at = [&](double quantile) {
    const auto rank = static_cast<std::size_t>(quantile * static_cast<double>(values.size() - 1) + 0.5);
    return static_cast<double>(values[std::min(rank, values.size() - 1)]) / 1e6;
  };
  q.p50 = at(0.5);
  q.p99 = at(0.99);
  q.p999 = at(0.999);
  q.min = static_cast<double>(values.front()) / 1e6;
  q.max = static_cast<double>(values.back()) / 1e6;
  return q;
}

struct Totals {
  uint64_t events = 0;
  uint64_t pings = 0;
  uint64_t other_events = 0;       // Events not named `capacity`.
  uint64_t id_violations = 0;      // An id not above the previous one on the same stream.
  uint64_t seats_decreases = 0;    // confirmed_seats fell (informational: cancels may do it).
  uint64_t dropped = 0;            // Streams the server closed, or that failed, before the end.
  uint64_t protocol_errors = 0;
  uint64_t pairs_measured = 0;
  uint64_t pairs_before_ack = 0;
  uint64_t pairs_ring_overflow = 0;
  uint64_t pairs_unresolved = 0;   // Probe never seen by a subscriber before the end.
  uint64_t pairs_not_kept = 0;     // Measured beyond kDelayPairsMax: counted, not kept.
  uint64_t events_min = 0, events_max = 0;
  std::vector<int64_t> after_ack;  // Arrival - 201 read, per (probe, subscriber).
  std::vector<int64_t> after_send; // Arrival - probe sent.

  void record(const Probe& probe, int64_t arrival_ns) {
    ++pairs_measured;
    const int64_t delay = arrival_ns - probe.ack_ns;
    if (delay < 0) ++pairs_before_ack;
    if (after_ack.size() >= kDelayPairsMax) {
      ++pairs_not_kept;
      return;
    }
    after_ack.push_back(delay);
    after_send.push_back(arrival_ns - probe.sent_ns);
  }
};

class Bench;

// One event stream. Lives on the io_context thread only.
class Subscriber {
 public:
  Subscriber(Bench& bench, asio::io_context& io, std::size_t ring_entries)
      : bench_(bench), socket_(io), ring_(ring_entries) {}

  void start_connect(const tcp::endpoint& endpoint);
  void close() {
    boost::system::error_code ignored;
    open_ = false;
    socket_.close(ignored);
  }
  // A newly resolved probe, index `index` in the bench's list: match it from the ring if this
  // stream already got its event; otherwise on_event matches it when it comes.
  void catch_up(const std::vector<Probe>& probes, Totals& totals);

  bool ready() const { return events_ > 0; }
  bool open() const { return open_; }
  bool failed() const { return failed_; }
  uint64_t events() const { return events_; }
  std::size_t next_probe() const { return next_probe_; }

 private:
  void read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes);
  bool parse(int64_t arrival_ns);
  bool parse_head();
  void on_line(std::string_view line, int64_t arrival_ns);
  void dispatch(int64_t arrival_ns);
  void fail(bool protocol);

  Bench& bench_;
  tcp::socket socket_;
  std::array<char, kReadChunkBytes> chunk_{};
  std::string buffer_;
  bool head_done_ = false;
  bool open_ = false;
  bool failed_ = false;
  // The block being read: fields seen since the last blank line.
  uint64_t block_id_ = 0;
  bool block_has_id_ = false;
  bool block_is_capacity_ = false;
  bool block_has_event_ = false;
  int64_t block_seats_ = -1;
  uint64_t last_id_ = 0;
  int64_t last_seats_ = -1;
  uint64_t events_ = 0;
  // The latest (id, arrival) pairs, oldest overwritten; evicted_ says whether any was lost.
  std::vector<std::pair<uint64_t, int64_t>> ring_;
  std::size_t ring_next_ = 0, ring_size_ = 0;
  bool evicted_ = false;
  std::size_t next_probe_ = 0;  // The first resolved probe this stream has not matched yet.
};

class Bench {
 public:
  Bench(const Options& o, tcp::endpoint endpoint)
      : options_(o), endpoint_(endpoint), signals_(io_, SIGINT, SIGTERM), timer_(io_) {
    request_ = "GET /api/v1/activities/" + o.activity +
               "/events HTTP/1.1\r\nHost: " + o.target +
               "\r\nAccept: text/event-stream\r\nUser-Agent: rsvpd-sse-bench\r\n\r\n";
    subscribers_.reserve(static_cast<std::size_t>(o.subscribers));
    for (int i = 0; i < o.subscribers; ++i) {
      subscribers_.push_back(std::make_unique<Subscriber>(*this, io_, o.ring_entries));
    }
    probes_.reserve(kProbesMax);
  }

  asio::io_context& io() { return io_; }
  const std::string& request() const { return request_; }
  Totals& totals() { return totals_; }
  const std::vector<Probe>& probes() const { return probes_; }
  std::atomic<uint64_t>& max_seen_id() { return max_seen_id_; }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }

  // Connect phase then run until stop(); returns false when the setup failed.
  bool run(std::string& error);
  // From the probe thread: a probe is resolved; matched on the io thread.
  void post_probe(Probe probe) {
    asio::post(io_, [this, probe] { add_probe(probe); });
  }
  void probe_window_over() {
    asio::post(io_, [this] { finish_at(now_ns() + static_cast<int64_t>(kDrainSeconds * 1e9)); });
  }
  void connected_one() {
    if (next_connect_ < subscribers_.size()) subscribers_[next_connect_++]->start_connect(endpoint_);
  }
  void stream_lost() { ++totals_.dropped; }
  int64_t ready_ns() const { return ready_ns_; }
  void summarize();

 private:
  void add_probe(Probe probe) {
    if (probes_.size() >= kProbesMax) return;
    probes_.push_back(probe);
    for (auto& s : subscribers_) s->catch_up(probes_, totals_);
  }
  void finish_at(int64_t when) { finish_ns_ = when; }
  void tick();
  void stop_all() {
    stopping_.store(true, std::memory_order_relaxed);
    for (auto& s : subscribers_) s->close();
    signals_.cancel();
    timer_.cancel();
  }

  const Options& options_;
  tcp::endpoint endpoint_;
  asio::io_context io_;
  asio::signal_set signals_;
  asio::steady_timer timer_;
  std::string request_;
  std::vector<std::unique_ptr<Subscriber>> subscribers_;
  std::size_t next_connect_ = 0;
  std::vector<Probe> probes_;
  Totals totals_;
  std::atomic<uint64_t> max_seen_id_{0};
  int64_t setup_deadline_ns_ = 0;
  int64_t ready_ns_ = 0;      // When every subscriber had its first event.
  int64_t finish_ns_ = 0;     // 0: not yet known (the probe thread says when).
  bool setup_failed_ = false;

 public:
  // Shared with the probe thread: set once every subscriber is ready / when the run ends.
  std::atomic<bool> ready_flag_{false};
  std::atomic<bool> stopping_{false};
};

void Subscriber::start_connect(const tcp::endpoint& endpoint) {
  socket_.async_connect(endpoint, [this](const boost::system::error_code& ec) {
    if (ec) {
      failed_ = true;
      bench_.connected_one();
      return;
    }
    open_ = true;
    socket_.set_option(tcp::no_delay(true));
    asio::async_write(socket_, asio::buffer(bench_.request()),
                      [this](const boost::system::error_code& write_ec, std::size_t) {
                        if (write_ec) return fail(false);
                        read();
                      });
    bench_.connected_one();  // The next connect starts as this one is done: bounded in flight.
  });
}

void Subscriber::read() {
  socket_.async_read_some(asio::buffer(chunk_), [this](const boost::system::error_code& ec,
                                                       std::size_t bytes) { on_read(ec, bytes); });
}

void Subscriber::on_read(const boost::system::error_code& ec, std::size_t bytes) {
  if (!open_) return;  // Closed by us at the end.
  if (ec) return fail(false);
  buffer_.append(chunk_.data(), bytes);
  if (!parse(now_ns())) return fail(true);
  read();
}

void Subscriber::fail(bool protocol) {
  if (!open_) return;
  if (protocol) ++bench_.totals().protocol_errors;
  if (!bench_.stopping()) bench_.stream_lost();
  failed_ = true;
  close();
}

bool Subscriber::parse_head() {
  const std::size_t end = buffer_.find("\r\n\r\n");
  if (end == std::string::npos) return buffer_.size() <= kStreamHeadBytesMax;
  const std::string_view head(buffer_.data(), end);
  // A stream is raw bytes until the close: a 200 with text/event-stream, not chunked.
  if (head.rfind("HTTP/1.1 200", 0) != 0 || head.find("text/event-stream") == std::string::npos ||
      head.find("chunked") != std::string::npos) {
    std::fprintf(stderr, "rsvpd-sse-bench: unexpected stream head: %.*s\n",
                 static_cast<int>(std::min<std::size_t>(head.size(), 200)), head.data());
    return false;
  }
  buffer_.erase(0, end + 4);
  head_done_ = true;
  return true;
}

bool Subscriber::parse(int64_t arrival_ns) {
  if (!head_done_) {
    if (!parse_head()) return false;
    if (!head_done_) return true;  // The head is not complete yet.
  }
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = buffer_.find('\n', start);
    if (end == std::string::npos) break;
    on_line(std::string_view(buffer_).substr(start, end - start), arrival_ns);
    start = end + 1;
  }
  buffer_.erase(0, start);
  return buffer_.size() <= kStreamLineBytesMax;
}

void Subscriber::on_line(std::string_view line, int64_t arrival_ns) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return dispatch(arrival_ns);
  if (line.front() == ':') {
    ++bench_.totals().pings;
    return;
  }
  const std::size_t colon = line.find(':');
  const std::string_view field = line.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? std::string_view{} : line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);  // The SSE rule: one space.
  if (field == "id") {
    block_has_id_ = std::from_chars(value.data(), value.data() + value.size(), block_id_).ec == std::errc();
  } else if (field == "event") {
    block_has_event_ = true;
    block_is_capacity_ = value == "capacity";
  } else if (field == "data") {
    // Only confirmed_seats is needed; a full JSON parse per event per subscriber would cost
    // more than the daemon's rendering, on the cores the daemon shares.
    constexpr std::string_view kKey = "\"confirmed_seats\":";
    const std::size_t at = value.find(kKey);
    if (at != std::string_view::npos) {
      std::string_view number = value.substr(at + kKey.size());
      while (!number.empty() && number.front() == ' ') number.remove_prefix(1);
      int64_t seats = -1;
      if (std::from_chars(number.data(), number.data() + number.size(), seats).ec == std::errc()) {
        block_seats_ = seats;
      }
    }
  }
}

void Subscriber::dispatch(int64_t arrival_ns) {
  Totals& totals = bench_.totals();
  if (!block_has_event_ && !block_has_id_) return;  // An empty block.
  ++events_;
  ++totals.events;
  if (!block_is_capacity_) ++totals.other_events;
  if (block_has_id_) {
    if (events_ > 1 && block_id_ <= last_id_) ++totals.id_violations;
    last_id_ = std::max(last_id_, block_id_);
    if (block_seats_ >= 0) {
      if (last_seats_ >= 0 && block_seats_ < last_seats_) ++totals.seats_decreases;
      last_seats_ = block_seats_;
    }
    if (last_id_ > bench_.max_seen_id().load(std::memory_order_relaxed)) {
      bench_.max_seen_id().store(last_id_, std::memory_order_relaxed);
    }
    ring_[ring_next_] = {block_id_, arrival_ns};
    ring_next_ = (ring_next_ + 1) % ring_.size();
    if (ring_size_ == ring_.size()) evicted_ = true;
    ring_size_ = std::min(ring_size_ + 1, ring_.size());
    const std::vector<Probe>& probes = bench_.probes();
    while (next_probe_ < probes.size() && block_id_ >= probes[next_probe_].seq) {
      totals.record(probes[next_probe_], arrival_ns);
      ++next_probe_;
    }
  } else {
    ++totals.protocol_errors;  // Every capacity event carries an id (API.md).
  }
  block_has_id_ = block_has_event_ = block_is_capacity_ = false;
  block_seats_ = -1;
}

void Subscriber::catch_up(const std::vector<Probe>& probes, Totals& totals) {
  while (next_probe_ < probes.size()) {
    const Probe& probe = probes[next_probe_];
    if (last_id_ < probe.seq || events_ == 0) return;  // Not arrived yet: dispatch matches it.
    // The first retained entry with id >= seq; ids increase along the ring from oldest.
    const std::size_t oldest = (ring_next_ + ring_.size() - ring_size_) % ring_.size();
    std::size_t found = ring_size_;
    for (std::size_t k = 0; k < ring_size_; ++k) {
      if (ring_[(oldest + k) % ring_.size()].first >= probe.seq) {
        found = k;
        break;
      }
    }
    if (found == 0 && evicted_) {
      ++totals.pairs_ring_overflow;  // Its first matching event may have been evicted.
    } else if (found < ring_size_) {
      totals.record(probe, ring_[(oldest + found) % ring_.size()].second);
    }
    ++next_probe_;
  }
}

bool Bench::run(std::string& error) {
  setup_deadline_ns_ = now_ns() + static_cast<int64_t>(kSetupSecondsMax * 1e9);
  signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) stop_all();
  });
  const std::size_t first = std::min<std::size_t>(kConnectsInFlightMax, subscribers_.size());
  for (std::size_t i = 0; i < first; ++i) connected_one();
  tick();
  io_.run();
  if (setup_failed_) error = "not every subscriber connected and got its first event";
  return !setup_failed_;
}

// Every kTickInterval: notices readiness, the setup deadline and the end of the run.
void Bench::tick() {
  const int64_t now = now_ns();
  if (ready_ns_ == 0) {
    std::size_t ready = 0, failed = 0;
    for (const auto& s : subscribers_) {
      ready += s->ready() ? 1 : 0;
      failed += s->failed() ? 1 : 0;
    }
    if (ready == subscribers_.size()) {
      ready_ns_ = now;
      ready_flag_.store(true, std::memory_order_release);
      if (!options_.ready_file.empty()) std::ofstream(options_.ready_file) << "ready\n";
    } else if (failed > 0 || now > setup_deadline_ns_) {
      std::fprintf(stderr, "rsvpd-sse-bench: %zu of %zu subscribers ready, %zu failed\n", ready,
                   subscribers_.size(), failed);
      setup_failed_ = true;
      return stop_all();
    }
  }
  if (finish_ns_ != 0 && now >= finish_ns_) return stop_all();
  timer_.expires_after(kTickInterval);
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec && !stopping()) tick();
  });
}

void Bench::summarize() {
  totals_.events_min = subscribers_.empty() ? 0 : UINT64_MAX;
  for (const auto& s : subscribers_) {
    totals_.events_min = std::min(totals_.events_min, s->events());
    totals_.events_max = std::max(totals_.events_max, s->events());
    totals_.pairs_unresolved += probes_.size() - s->next_probe();
  }
}

// The probe thread: one RSVP per interval on a blocking keep-alive connection, then its seq.
struct ProbeStats {
  uint64_t sent = 0, acknowledged = 0, resolved = 0, failed = 0, not_found = 0, late = 0;
  Histogram rsvp_latency;  // Send to 201, for context.
};

bool find_seq(ApiClient& client, const std::string& activity, const std::string& rsvp_id,
              uint64_t after, uint64_t& seq) {
  for (int page = 0; page < kAuditPagesMax; ++page) {
    const auto reply = client.call("GET", "/api/v1/activities/" + activity + "/audit?after=" +
                                              std::to_string(after) + "&limit=" +
                                              std::to_string(kAuditPageLimit));
    if (!reply || reply->status != 200) return false;
    picojson::value doc;
    if (!picojson::parse(doc, reply->body).empty() || !doc.is<picojson::object>()) return false;
    const picojson::object& object = doc.get<picojson::object>();
    const auto entries = object.find("entries");
    if (entries == object.end() || !entries->second.is<picojson::array>()) return false;
    for (const picojson::value& entry : entries->second.get<picojson::array>()) {
      if (!entry.is<picojson::object>()) continue;
      const picojson::object& e = entry.get<picojson::object>();
      const auto id = e.find("rsvp_id");
      const auto s = e.find("seq");
      if (id != e.end() && id->second.is<std::string>() && id->second.get<std::string>() == rsvp_id &&
          s != e.end() && s->second.is<int64_t>()) {
        seq = static_cast<uint64_t>(s->second.get<int64_t>());
        return true;
      }
    }
    const auto next = object.find("next_after");
    if (next == object.end() || !next->second.is<int64_t>()) return false;
    after = static_cast<uint64_t>(next->second.get<int64_t>());
  }
  return false;
}

void probe_loop(Bench& bench, const Options& o, const std::string& host, uint16_t port,
                const std::string& token, ProbeStats& stats) {
  while (!bench.ready_flag_.load(std::memory_order_acquire)) {
    if (bench.stopping()) return;
    std::this_thread::sleep_for(kTickInterval);
  }
  ApiClient client(host, port, token);
  const int64_t interval = int64_t{o.probe_interval_ms} * 1'000'000;
  const int64_t start = bench.ready_ns() + static_cast<int64_t>(o.probe_delay_s * 1e9);
  const int64_t end = start + static_cast<int64_t>(o.probe_duration_s * 1e9);
  const std::string user_prefix =
      "sse" + std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count());
  int64_t next = start;
  uint64_t last_seq = 0;
  for (uint64_t k = 0; k < kProbesMax && !bench.stopping(); ++k) {
    while (now_ns() < next && !bench.stopping()) {
      std::this_thread::sleep_for(std::min(std::chrono::nanoseconds(next - now_ns()),
                                           std::chrono::nanoseconds(kTickInterval)));
    }
    const int64_t sent_ns = now_ns();
    if (sent_ns >= end || bench.stopping()) break;
    next += interval;
    if (next < sent_ns) {  // A slow probe: skip the missed slots rather than bunch up.
      ++stats.late;
      next = sent_ns + interval;
    }
    // Every event id seen so far was committed before this RSVP was sent: a safe lower bound.
    const uint64_t after = std::max(last_seq, bench.max_seen_id().load(std::memory_order_relaxed));
    ++stats.sent;
    const auto reply = client.call("POST", "/api/v1/rsvps",
                                   "{\"activity_id\":\"" + o.activity + "\",\"user_id\":\"" +
                                       user_prefix + ".p" + std::to_string(k) + "\"}");
    const int64_t ack_ns = now_ns();
    if (!reply || reply->status != 201) {
      ++stats.failed;
      continue;
    }
    ++stats.acknowledged;
    stats.rsvp_latency.record(static_cast<uint64_t>(ack_ns - sent_ns));
    picojson::value doc;
    std::string rsvp_id;
    if (picojson::parse(doc, reply->body).empty() && doc.is<picojson::object>() &&
        doc.contains("id") && doc.get("id").is<std::string>()) {
      rsvp_id = doc.get("id").get<std::string>();
    }
    uint64_t seq = 0;
    if (rsvp_id.empty() || !find_seq(client, o.activity, rsvp_id, after, seq)) {
      ++stats.not_found;
      continue;
    }
    ++stats.resolved;
    last_seq = seq;
    bench.post_probe(Probe{seq, sent_ns, ack_ns});
  }
  bench.probe_window_over();
}

bool parse_options(int argc, char** argv, Options& o) {
  po::options_description d("rsvpd-sse-bench options");
  d.add_options()("help,h", "this help")
    ("target", po::value(&o.target)->default_value(o.target), "IPv4 HOST:PORT (loopback)")
    ("activity", po::value(&o.activity), "the activity whose capacity stream to follow (exists)")
    ("subscribers,n", po::value(&o.subscribers)->default_value(o.subscribers), "event streams")
    ("probe-delay-s", po::value(&o.probe_delay_s)->default_value(o.probe_delay_s),
     "seconds after every subscriber is ready before the first probe")
    ("probe-duration-s", po::value(&o.probe_duration_s)->default_value(o.probe_duration_s),
     "seconds of probing; the run ends 2 s later")
    ("probe-interval-ms", po::value(&o.probe_interval_ms)->default_value(o.probe_interval_ms),
     "one probe RSVP this often")
    ("ring", po::value(&o.ring_entries)->default_value(o.ring_entries),
     "(id, arrival) pairs kept per subscriber for probes resolved late")
    ("secret-file", po::value(&o.secret_file), "the daemon's jwt.secret, to mint an admin token")
    ("token", po::value(&o.token), "an admin bearer token (instead of --secret-file)")
    ("ready-file", po::value(&o.ready_file), "written once every subscriber got its first event")
    ("json-out", po::value(&o.json_out), "write the results as JSON to this file");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "rsvpd-sse-bench: " << e.what() << "\n" << d;
    return false;
  }
  if (vm.count("help")) {
    std::cout << d;
    std::exit(0);
  }
  return true;
}

bool raise_file_limit(int connections, std::string& error) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return error = "getrlimit failed", false;
  const rlim_t wanted = static_cast<rlim_t>(connections) + kFileDescriptorsSpare;
  if (limit.rlim_cur >= wanted) return true;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  if (limit.rlim_cur < wanted) limit.rlim_max = limit.rlim_cur = wanted;  // Needs CAP_SYS_RESOURCE.
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return error = "cannot raise RLIMIT_NOFILE to " + std::to_string(wanted), false;
  }
  return true;
}

bool admin_token(const Options& o, std::string& token, std::string& error) {
  if (!o.token.empty()) return token = o.token, true;
  if (o.secret_file.empty()) return error = "--secret-file or --token is required", false;
  auto secret = http::load_or_create_secret(o.secret_file, http::SecretFileMode::kMustExist);
  if (!secret.is_ok()) return error = "secret: " + secret.status().message(), false;
  const int64_t exp_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count() +
                        kTokenLifetimeSeconds;
  const std::vector<std::string> roles = {"admin"};
  auto minted = http::mint_token(secret.value(), kAdminSubject, roles, exp_s);
  if (!minted.is_ok()) return error = "mint: " + minted.status().message(), false;
  token = std::move(minted).value();
  return true;
}

// This process's CPU seconds (user + system): what the subscribers took from the shared cores.
double cpu_seconds() {
  rusage usage{};
  if (::getrusage(RUSAGE_SELF, &usage) != 0) return 0;
  const auto seconds = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

void print_and_write(const Options& o, Totals& t, const ProbeStats& p, uint64_t probes) {
  const double cpu_s = cpu_seconds();
  const Quantiles ack = quantiles_ms(t.after_ack);
  const Quantiles send = quantiles_ms(t.after_send);
  std::printf("rsvpd-sse-bench  %s  activity=%s  subscribers=%d  probe every %d ms for %.1f s\n",
              o.target.c_str(), o.activity.c_str(), o.subscribers, o.probe_interval_ms,
              o.probe_duration_s);
  std::printf("  caveat: this program shares the machine's cores with the daemon\n");
  std::printf("  delay = arrival at a subscriber of its first event with id >= the probe's audit seq,\n"
              "          minus the arrival of the probe's 201 (after-ack; negative: the event came"
              " first)\n          or minus the probe's send (after-send; bounds commit-to-event)\n");
  std::printf("  delay ms    %-9s %-9s %-9s %-9s %-9s %s\n", "p50", "p99", "p99.9", "min", "max", "(pairs)");
  for (const auto& [name, q] : {std::pair<const char*, const Quantiles*>{"after-ack", &ack},
                                {"after-send", &send}}) {
    std::printf("  %-10s  %-9.3f %-9.3f %-9.3f %-9.3f %-9.3f %zu\n", name, q->p50, q->p99, q->p999,
                q->min, q->max, t.after_ack.size());
  }
  std::printf("  pairs       measured %lu, before-ack %lu, not kept %lu, ring-overflow %lu,"
              " unresolved %lu\n", (unsigned long)t.pairs_measured, (unsigned long)t.pairs_before_ack,
              (unsigned long)t.pairs_not_kept, (unsigned long)t.pairs_ring_overflow,
              (unsigned long)t.pairs_unresolved);
  std::printf("  probes      sent %lu, 201 %lu, seq found %lu, failed %lu, seq not found %lu, late %lu;"
              " RSVP p50 %.3f ms\n", (unsigned long)p.sent, (unsigned long)p.acknowledged,
              (unsigned long)probes, (unsigned long)p.failed, (unsigned long)p.not_found,
              (unsigned long)p.late, ms(p.rsvp_latency.value_at(0.5)));
  std::printf("  streams     events %lu (per subscriber %lu..%lu), pings %lu, other events %lu,"
              " dropped %lu, protocol errors %lu\n", (unsigned long)t.events,
              (unsigned long)t.events_min, (unsigned long)t.events_max, (unsigned long)t.pings,
              (unsigned long)t.other_events, (unsigned long)t.dropped,
              (unsigned long)t.protocol_errors);
  std::printf("  checks      id violations %lu (%s), confirmed_seats decreases %lu\n",
              (unsigned long)t.id_violations, t.id_violations == 0 ? "OK" : "FAILED",
              (unsigned long)t.seats_decreases);
  std::printf("  cpu         %.2f s (user + system) in this process\n", cpu_s);
  if (o.json_out.empty()) return;
  const auto quantiles_json = [](const Quantiles& q) {
    std::ostringstream out;
    out << "{\"p50\": " << q.p50 << ", \"p99\": " << q.p99 << ", \"p99_9\": " << q.p999
        << ", \"min\": " << q.min << ", \"max\": " << q.max << "}";
    return out.str();
  };
  std::ofstream out(o.json_out);
  out << "{\n  \"target\": \"" << o.target << "\",\n  \"activity\": \"" << o.activity
      << "\",\n  \"subscribers\": " << o.subscribers << ",\n  \"probe_interval_ms\": "
      << o.probe_interval_ms << ",\n  \"probe_duration_s\": " << o.probe_duration_s
      << ",\n  \"delay_after_ack_ms\": " << quantiles_json(ack)
      << ",\n  \"delay_after_send_ms\": " << quantiles_json(send)
      << ",\n  \"pairs\": {\"measured\": " << t.pairs_measured << ", \"before_ack\": "
      << t.pairs_before_ack << ", \"not_kept\": " << t.pairs_not_kept << ", \"ring_overflow\": "
      << t.pairs_ring_overflow << ", \"unresolved\": " << t.pairs_unresolved
      << "},\n  \"probes\": {\"sent\": " << p.sent << ", \"acknowledged\": " << p.acknowledged
      << ", \"resolved\": " << probes << ", \"failed\": " << p.failed << ", \"not_found\": "
      << p.not_found << ", \"late\": " << p.late << ", \"rsvp_p50_ms\": "
      << ms(p.rsvp_latency.value_at(0.5)) << "},\n  \"events\": " << t.events
      << ",\n  \"events_per_subscriber_min\": " << t.events_min
      << ",\n  \"events_per_subscriber_max\": " << t.events_max << ",\n  \"pings\": " << t.pings
      << ",\n  \"dropped\": " << t.dropped << ",\n  \"protocol_errors\": " << t.protocol_errors
      << ",\n  \"id_violations\": " << t.id_violations << ",\n  \"seats_decreases\": "
      << t.seats_decreases << ",\n  \"cpu_s\": " << cpu_s
      << ",\n  \"caveat\": \"the subscribers share the machine's cores with the server\"\n}\n";
}

int run(int argc, char** argv) {
  Options o;
  std::string error;
  if (!parse_options(argc, argv, o)) return 2;
  const auto colon = o.target.rfind(':');
  const int port = colon == std::string::npos ? 0 : std::atoi(o.target.c_str() + colon + 1);
  boost::system::error_code ec;
  const auto address = asio::ip::make_address_v4(o.target.substr(0, colon == std::string::npos ? 0 : colon), ec);
  if (port <= 0 || port > 65535 || ec) error = "--target must be IPv4 HOST:PORT";
  else if (o.activity.empty()) error = "--activity is required";
  else if (o.subscribers < 1 || o.subscribers > kSubscribersMax) error = "--subscribers out of range";
  else if (!(o.probe_delay_s >= 0 && o.probe_delay_s <= kProbeSecondsMax) ||
           !(o.probe_duration_s > 0 && o.probe_duration_s <= kProbeSecondsMax)) {
    error = "--probe-delay-s / --probe-duration-s out of range";
  } else if (o.probe_interval_ms < kProbeIntervalMsMin || o.probe_interval_ms > 60'000) {
    error = "--probe-interval-ms out of range";
  } else if (o.ring_entries < 2 || o.ring_entries > kRingEntriesMax) {
    error = "--ring out of range";
  }
  std::string token;
  if (error.empty()) (void)(raise_file_limit(o.subscribers, error) && admin_token(o, token, error));
  if (!error.empty()) {
    std::cerr << "rsvpd-sse-bench: " << error << "\n";
    return 2;
  }
  Bench bench(o, tcp::endpoint(address, static_cast<uint16_t>(port)));
  ProbeStats probe_stats;
  std::thread prober(probe_loop, std::ref(bench), std::cref(o), o.target.substr(0, colon),
                     static_cast<uint16_t>(port), std::cref(token), std::ref(probe_stats));
  const bool ok = bench.run(error);
  bench.stopping_.store(true, std::memory_order_relaxed);  // Also when setup failed.
  prober.join();
  if (!ok) {
    std::cerr << "rsvpd-sse-bench: " << error << "\n";
    return 2;
  }
  bench.summarize();
  Totals& totals = bench.totals();
  print_and_write(o, totals, probe_stats, bench.probes().size());
  return totals.id_violations > 0 || totals.pairs_measured == 0 ? 1 : 0;
}

}  // namespace
}  // namespace rsvpd::loadgen

int main(int argc, char** argv) { return rsvpd::loadgen::run(argc, argv); }
