#include "benchmarks/loadgen/driver.h"

#include <boost/asio.hpp>

#include <charconv>
#include <chrono>
#include <memory>
#include <thread>

#include "benchmarks/loadgen/http_response.h"

namespace rsvpd::loadgen {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Buffers start small (thousands of connections) and grow, doubling, for a large response.
constexpr std::size_t kReadBufferBytesInitial = 4 * 1024;
constexpr std::size_t kReadBufferBytesMax = 256 * 1024;
constexpr std::size_t kBodyBytesMax = kReadBufferBytesMax - kResponseHeadBytesMax;
static_assert(kReadBufferBytesInitial <= kReadBufferBytesMax);
constexpr auto kSweepInterval = std::chrono::milliseconds(50);
static_assert(kBodyBytesMax > 0);

// Finds "name": "value" in a flat JSON object and returns value (ids never need escapes).
std::string_view json_string_field(std::string_view body, std::string_view quoted_name) {
  std::size_t at = body.find(quoted_name);
  if (at == std::string_view::npos) return {};
  at += quoted_name.size();
  while (at < body.size() && (body[at] == ' ' || body[at] == ':')) ++at;
  if (at >= body.size() || body[at] != '"') return {};
  const std::size_t end = body.find('"', at + 1);
  if (end == std::string_view::npos) return {};
  return body.substr(at + 1, end - at - 1);
}

void append_number(std::string& out, uint64_t value) {
  char digits[24];
  const auto r = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, r.ptr);
}

// xorshift64*: a fast per-connection generator, seeded per connection.
struct Random {
  uint64_t state;
  uint64_t next() {
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
  }
  uint32_t below(uint32_t n) { return static_cast<uint32_t>(next() % n); }
};

class Worker;

// One keep-alive connection. Lives on its worker's io_context thread only.
class Connection {
 public:
  Connection(Worker& worker, uint32_t index);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connect_blocking(const tcp::endpoint& endpoint, std::string& error);
  void start();
  // The sweep: aborts a request older than the timeout, or anything after the drain deadline.
  void sweep(int64_t now);
  bool finished() const { return finished_; }

 private:
  void schedule_next();
  void do_send(int64_t intended_ns);
  void on_write(const boost::system::error_code& ec);
  void do_read();
  void on_read(const boost::system::error_code& ec, std::size_t bytes);
  void on_response(const Response& response);
  void fail(uint64_t ThreadStats::*counter);
  void do_reconnect();
  void on_connect(const boost::system::error_code& ec);
  void finish();
  Op choose_op();
  void build_request(Op op);
  void handle_rsvp_created(std::string_view body);

  Worker& worker_;
  const uint32_t index_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  Random random_;
  std::string request_;
  std::vector<char> buffer_;
  std::size_t used_ = 0;
  std::string chunked_;
  Op op_ = Op::kStatic;
  uint64_t sequence_ = 0;
  uint32_t cancel_record_ = 0;  // Record index a kCancel targets.
  uint32_t rsvp_activity_ = 0;  // Activity index a kRsvp targets.
  std::string body_;
  std::vector<uint32_t> own_rsvps_;
  int64_t interval_ns_ = 0;     // Open loop.
  int64_t next_intended_ns_ = 0;
  int64_t intended_ns_ = 0, sent_ns_ = 0;
  bool in_flight_ = false, finished_ = false, aborted_ = false;
  int reconnect_failures_ = 0;
};

// A thread with its io_context, its connections and its statistics.
class Worker {
 public:
  Worker(const Plan& plan, int index) : plan_(plan), index_(index), sweep_timer_(io_) {}
  ~Worker() { connections.clear(); }  // Sockets and timers go before their io_context.
  const Plan& plan() const { return plan_; }
  asio::io_context& io() { return io_; }
  ThreadStats& stats() { return stats_; }
  int index() const { return index_; }
  std::atomic<uint64_t>* issued = nullptr;  // Shared count of requests started.
  std::vector<std::unique_ptr<Connection>> connections;

  void run() {
    for (auto& connection : connections) connection->start();
    arm_sweep();
    io_.run();
  }

 private:
  void arm_sweep() {
    sweep_timer_.expires_after(kSweepInterval);
    sweep_timer_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;
      const int64_t now = now_ns();
      bool any_active = false;
      for (auto& connection : connections) {
        connection->sweep(now);
        any_active = any_active || !connection->finished();
      }
      if (any_active) arm_sweep();
    });
  }

  const Plan& plan_;
  const int index_;
  asio::io_context io_{1};
  asio::steady_timer sweep_timer_;
  ThreadStats stats_;
};

Connection::Connection(Worker& worker, uint32_t index)
    : worker_(worker),
      index_(index),
      socket_(worker.io()),
      timer_(worker.io()),
      random_{0x9E3779B97F4A7C15ULL * (index + 1)},
      buffer_(kReadBufferBytesInitial) {
  request_.reserve(1024);
  body_.reserve(256);
  own_rsvps_.reserve(kOwnRsvpsMax);
}

bool Connection::connect_blocking(const tcp::endpoint& endpoint, std::string& error) {
  boost::system::error_code ec;
  socket_.connect(endpoint, ec);
  if (!ec) socket_.set_option(tcp::no_delay(true), ec);
  if (ec) error = ec.message();
  return !ec;
}

void Connection::start() {
  const Plan& plan = worker_.plan();
  if (plan.rate_per_second > 0) {
    // Each connection offers rate/connections; starts are staggered across one interval.
    interval_ns_ = static_cast<int64_t>(1e9 * plan.connections / plan.rate_per_second);
    next_intended_ns_ = plan.start_ns + interval_ns_ * index_ / plan.connections;
  } else {
    next_intended_ns_ = plan.start_ns;
  }
  schedule_next();
}

void Connection::schedule_next() {
  const Plan& plan = worker_.plan();
  const int64_t intended = next_intended_ns_;
  const int64_t now = now_ns();
  if (std::max(intended, now) >= plan.deadline_ns ||
      worker_.issued->fetch_add(1, std::memory_order_relaxed) >= plan.requests_max) {
    // relaxed: the count only bounds the run; no data is published through it.
    return finish();
  }
  if (interval_ns_ > 0) next_intended_ns_ += interval_ns_;
  if (intended <= now) return do_send(interval_ns_ > 0 ? intended : now);
  timer_.expires_at(asio::steady_timer::time_point(std::chrono::nanoseconds(intended)));
  timer_.async_wait([this, intended](const boost::system::error_code& ec) {
    if (ec || finished_) return;
    do_send(intended);
  });
}

void Connection::do_send(int64_t intended_ns) {
  op_ = choose_op();
  build_request(op_);
  intended_ns_ = intended_ns;
  sent_ns_ = now_ns();
  if (interval_ns_ > 0 && sent_ns_ - intended_ns > interval_ns_) ++worker_.stats().late_sends;
  in_flight_ = true;
  aborted_ = false;
  ++worker_.stats().sent;
  asio::async_write(socket_, asio::buffer(request_),
                    [this](const boost::system::error_code& ec, std::size_t) { on_write(ec); });
}

void Connection::on_write(const boost::system::error_code& ec) {
  if (ec) return fail(aborted_ ? &ThreadStats::timeouts : &ThreadStats::transport_errors);
  do_read();
}

void Connection::do_read() {
  socket_.async_read_some(
      asio::buffer(buffer_.data() + used_, buffer_.size() - used_),
      [this](const boost::system::error_code& ec, std::size_t bytes) { on_read(ec, bytes); });
}

void Connection::on_read(const boost::system::error_code& ec, std::size_t bytes) {
  if (ec) return fail(aborted_ ? &ThreadStats::timeouts : &ThreadStats::transport_errors);
  used_ += bytes;
  Response response;
  const ParseResult parsed =
      parse_response(std::string_view(buffer_.data(), used_), kBodyBytesMax, response, chunked_);
  if (parsed == ParseResult::kNeedMore && used_ == buffer_.size() &&
      buffer_.size() < kReadBufferBytesMax) {
    buffer_.resize(std::min(buffer_.size() * 2, kReadBufferBytesMax));
  }
  if (parsed == ParseResult::kNeedMore && used_ < buffer_.size()) return do_read();
  if (parsed != ParseResult::kComplete || response.consumed_bytes != used_) {
    // Unframeable, too large, or bytes after the response we never asked for.
    return fail(&ThreadStats::protocol_errors);
  }
  used_ = 0;
  in_flight_ = false;
  on_response(response);
  if (response.connection_close) {
    ++worker_.stats().reconnects;
    return do_reconnect();
  }
  schedule_next();
}

void Connection::on_response(const Response& response) {
  ThreadStats& stats = worker_.stats();
  const Plan& plan = worker_.plan();
  const int64_t done = now_ns();
  ++stats.status_counts[static_cast<std::size_t>(response.status)];
  ++stats.op_counts[static_cast<std::size_t>(op_)];
  if (intended_ns_ >= plan.measure_start_ns && intended_ns_ < plan.deadline_ns) {
    stats.latency.record(static_cast<uint64_t>(done - intended_ns_));
    stats.service.record(static_cast<uint64_t>(done - sent_ns_));
  }
  if (done >= plan.measure_start_ns && done <= plan.deadline_ns) ++stats.completed_in_window;
  switch (op_) {
    case Op::kStatic:
    case Op::kCapacityRead:
      if (response.status != 200) ++stats.unexpected_status;
      break;
    case Op::kRsvp:
      if (response.status == 201) {
        handle_rsvp_created(response.body);
      } else if (response.status != 409) {
        ++stats.unexpected_status;  // 409: already-rsvped / activity-full, a valid answer.
      }
      break;
    case Op::kCancel:
      if (response.status == 200) {
        stats.records[cancel_record_].cancelled = true;
      } else {
        ++stats.unexpected_status;
      }
      break;
  }
}

void Connection::handle_rsvp_created(std::string_view body) {
  ThreadStats& stats = worker_.stats();
  const std::string_view id = json_string_field(body, "\"id\"");
  if (id.empty()) {
    ++stats.protocol_errors;
    return;
  }
  if (stats.records.size() >= kRecordsPerThreadMax) {
    ++stats.records_dropped;
    return;
  }
  // build_request counted this request, so its sequence number is sequence_ - 1.
  stats.records.push_back(
      RsvpRecord{rsvp_activity_, index_, sequence_ - 1, false, false, std::string(id)});
  if (worker_.plan().scenario == Scenario::kMixed && own_rsvps_.size() < kOwnRsvpsMax) {
    own_rsvps_.push_back(static_cast<uint32_t>(stats.records.size() - 1));
  }
}

void Connection::fail(uint64_t ThreadStats::*counter) {
  ThreadStats& stats = worker_.stats();
  ++(stats.*counter);
  if (in_flight_ && op_ == Op::kRsvp) ++stats.unanswered_rsvps;
  if (in_flight_ && op_ == Op::kCancel) stats.records[cancel_record_].uncertain = true;
  in_flight_ = false;
  used_ = 0;
  do_reconnect();
}

void Connection::do_reconnect() {
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (now_ns() >= worker_.plan().deadline_ns) return finish();
  const tcp::endpoint endpoint(asio::ip::make_address(worker_.plan().host), worker_.plan().port);
  socket_.async_connect(endpoint,
                        [this](const boost::system::error_code& ec) { on_connect(ec); });
}

void Connection::on_connect(const boost::system::error_code& ec) {
  if (ec) {
    if (++reconnect_failures_ >= kReconnectFailuresMax) {
      ++worker_.stats().connections_lost;
      return finish();
    }
    return do_reconnect();
  }
  reconnect_failures_ = 0;
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  schedule_next();
}

void Connection::finish() {
  finished_ = true;
  boost::system::error_code ignored;
  timer_.cancel();
  socket_.close(ignored);
}

void Connection::sweep(int64_t now) {
  if (finished_ || !in_flight_) return;
  const Plan& plan = worker_.plan();
  const int64_t drain_deadline = plan.deadline_ns + static_cast<int64_t>(kDrainSecondsMax * 1e9);
  if (now - sent_ns_ > plan.timeout_ns || now > drain_deadline) {
    aborted_ = true;
    boost::system::error_code ignored;
    socket_.cancel(ignored);  // The pending read completes with operation_aborted.
  }
}

Op Connection::choose_op() {
  switch (worker_.plan().scenario) {
    case Scenario::kStatic: return Op::kStatic;
    case Scenario::kCapacityRead: return Op::kCapacityRead;
    case Scenario::kSpread:
    case Scenario::kHot: return Op::kRsvp;
    case Scenario::kMixed: break;
  }
  const Plan& plan = worker_.plan();
  const uint32_t roll = random_.below(100);
  if (roll < static_cast<uint32_t>(plan.read_percent)) return Op::kCapacityRead;
  if (roll < static_cast<uint32_t>(plan.read_percent + plan.rsvp_percent) || own_rsvps_.empty()) {
    return Op::kRsvp;
  }
  return Op::kCancel;
}

// Fills request_ (and body_ for an RSVP) for `op`; allocation-free once the buffers grew.
void Connection::build_request(Op op) {
  const Plan& plan = worker_.plan();
  request_.clear();
  const auto activity_count = static_cast<uint32_t>(plan.activity_ids.size());
  const uint32_t activity = activity_count == 0 ? 0 : random_.below(activity_count);
  switch (op) {
    case Op::kStatic:
      request_.append("GET ").append(plan.static_path).append(" HTTP/1.1\r\nHost: ");
      request_.append(plan.host).append("\r\n\r\n");
      return;
    case Op::kCapacityRead:
      request_.append("GET /api/v1/activities/").append(plan.activity_ids[activity]);
      request_.append("/capacity HTTP/1.1\r\nHost: ").append(plan.host).append("\r\n\r\n");
      return;
    case Op::kCancel: {
      cancel_record_ = own_rsvps_.back();
      own_rsvps_.pop_back();
      const std::string& id = worker_.stats().records[cancel_record_].id;
      request_.append("DELETE /api/v1/rsvps/").append(id).append(" HTTP/1.1\r\nHost: ");
      request_.append(plan.host).append("\r\nAuthorization: Bearer ").append(plan.bearer_token);
      request_.append("\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    case Op::kRsvp: break;
  }
  rsvp_activity_ = activity;
  body_.clear();
  body_.append("{\"activity_id\":\"").append(plan.activity_ids[activity]).append("\"");
  const std::string* token = &plan.bearer_token;
  if (plan.user_tokens.empty()) {
    body_.append(",\"user_id\":\"").append(plan.user_prefix).append(".");
    append_number(body_, index_);
    body_.append(".");
    append_number(body_, sequence_);
    body_.append("\"");
  } else {
    const uint64_t k = sequence_ * static_cast<uint64_t>(plan.connections) + index_;
    token = &plan.user_tokens[k % plan.user_tokens.size()];
  }
  ++sequence_;
  if (plan.guests > 0) {
    body_.append(",\"guests\":");
    append_number(body_, static_cast<uint64_t>(plan.guests));
  }
  body_.append("}");
  request_.append("POST /api/v1/rsvps HTTP/1.1\r\nHost: ").append(plan.host);
  request_.append("\r\nAuthorization: Bearer ").append(*token);
  request_.append("\r\nContent-Type: application/json\r\nContent-Length: ");
  append_number(request_, body_.size());
  request_.append("\r\n\r\n").append(body_);
}

}  // namespace

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void ThreadStats::merge(ThreadStats&& other) {
  latency.merge(other.latency);
  service.merge(other.service);
  for (std::size_t i = 0; i < status_counts.size(); ++i) status_counts[i] += other.status_counts[i];
  for (std::size_t i = 0; i < op_counts.size(); ++i) op_counts[i] += other.op_counts[i];
  completed_in_window += other.completed_in_window;
  sent += other.sent;
  unexpected_status += other.unexpected_status;
  transport_errors += other.transport_errors;
  timeouts += other.timeouts;
  protocol_errors += other.protocol_errors;
  reconnects += other.reconnects;
  connections_lost += other.connections_lost;
  unanswered_rsvps += other.unanswered_rsvps;
  records_dropped += other.records_dropped;
  late_sends += other.late_sends;
  records.insert(records.end(), std::make_move_iterator(other.records.begin()),
                 std::make_move_iterator(other.records.end()));
}

ThreadStats run_load(Plan& plan, std::string& error) {
  std::atomic<uint64_t> issued{0};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int t = 0; t < plan.threads; ++t) {
    workers.push_back(std::make_unique<Worker>(plan, t));
    workers.back()->issued = &issued;
  }
  const tcp::endpoint endpoint(asio::ip::make_address(plan.host), plan.port);
  for (int c = 0; c < plan.connections; ++c) {
    Worker& worker = *workers[static_cast<std::size_t>(c % plan.threads)];
    worker.connections.push_back(std::make_unique<Connection>(worker, static_cast<uint32_t>(c)));
    if (!worker.connections.back()->connect_blocking(endpoint, error)) {
      error = "connection " + std::to_string(c) + ": " + error;
      return {};
    }
  }
  plan.start_ns = now_ns();
  plan.measure_start_ns = plan.start_ns + plan.warmup_ns;
  plan.deadline_ns = plan.measure_start_ns + plan.duration_ns;
  std::vector<std::thread> threads;
  for (auto& worker : workers) threads.emplace_back([&worker] { worker->run(); });
  for (auto& thread : threads) thread.join();
  ThreadStats total;
  for (auto& worker : workers) {
    worker->connections.clear();  // Sockets go before their io_context.
    total.merge(std::move(worker->stats()));
  }
  return total;
}

}  // namespace rsvpd::loadgen
