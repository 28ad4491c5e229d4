#include "http/server.h"

#include "http/detail/asio_loop.h"
#include "http/detail/listener.h"
#include "http/detail/server_state.h"
#include "http/detail/uring_loop.h"

#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

namespace rsvpd::http {

const char* io_mode_name(IoMode mode) noexcept {
  switch (mode) {
    case IoMode::kAuto: return "auto";
    case IoMode::kUring: return "uring";
    case IoMode::kEpoll: return "epoll";
  }
  return "unknown";
}

namespace {

// How long the destructor lets in-flight responses finish when stop() was not called.
constexpr std::chrono::milliseconds kDestructorStopDeadline{1000};

Status validate(const ServerOptions& o) {
  auto invalid = [](const char* what) { return Status(StatusCode::kInvalidArgument, what); };
  if (o.threads < 1 || o.threads > kThreadsMax) return invalid("threads out of 1..kThreadsMax");
  if (o.connections_max < 1 || o.connections_max > kConnectionsMaxLimit) {
    return invalid("connections_max out of 1..kConnectionsMaxLimit");
  }
  if (o.header_bytes_max < 64 || o.header_bytes_max > kHeaderBytesMaxLimit) {
    return invalid("header_bytes_max out of 64..kHeaderBytesMaxLimit");
  }
  if (o.body_bytes_max > kBodyBytesMaxLimit) return invalid("body_bytes_max over the limit");
  if (o.read_timeout_ms == 0 || o.idle_timeout_ms == 0 || o.write_timeout_ms == 0) {
    return invalid("timeouts must be positive");
  }
  return Status::ok();
}

class ServerImpl final : public HttpServer {
 public:
  ServerImpl(const ServerOptions& options, RequestHandler& handler)
      : state_(options, handler) {}
  ~ServerImpl() override { stop(kDestructorStopDeadline); }

  Status open(IoMode mode, std::string fallback_reason);
  void start_threads();

  uint16_t port() const noexcept override { return port_; }
  IoMode mode() const noexcept override { return mode_; }
  const std::string& fallback_reason() const noexcept override { return fallback_reason_; }
  void stop_accepting() override;
  void stop(std::chrono::milliseconds deadline) override;
  ServerCounters counters() const noexcept override { return state_.counters(); }

 private:
  detail::ServerState state_;
  std::vector<std::unique_ptr<detail::IoLoop>> loops_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  IoMode mode_ = IoMode::kEpoll;
  std::string fallback_reason_;
  std::mutex mutex_;  // Serializes stop_accepting() and stop().
  bool stopped_ = false;
};

Status ServerImpl::open(IoMode mode, std::string fallback_reason) {
  mode_ = mode;
  fallback_reason_ = std::move(fallback_reason);
  const ServerOptions& options = state_.options();
  for (uint32_t i = 0; i < options.threads; ++i) {
    // The first listener may bind port 0; the others join the port it got (SO_REUSEPORT).
    Result<int> fd = detail::open_listener(options.host, i == 0 ? options.port : port_);
    if (!fd.is_ok()) return fd.status();
    if (i == 0) port_ = detail::bound_port(fd.value());
    Result<std::unique_ptr<detail::IoLoop>> loop =
        mode == IoMode::kUring ? detail::make_uring_loop(state_, fd.value())
                               : detail::make_asio_loop(state_, fd.value());
    if (!loop.is_ok()) return loop.status();
    loops_.push_back(std::move(loop).value());
  }
  return Status::ok();
}

void ServerImpl::start_threads() {
  for (size_t i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([raw = loops_[i].get(), i] {
      const std::string name = "rsvpd-io-" + std::to_string(i);  // For top -H, perf and gdb.
      pthread_setname_np(pthread_self(), name.c_str());
      raw->run();
    });
  }
}

void ServerImpl::stop_accepting() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  for (auto& loop : loops_) loop->request_stop_accepting();
}

void ServerImpl::stop(std::chrono::milliseconds deadline) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (stopped_) return;
  stopped_ = true;
  const int64_t deadline_ms = detail::steady_now_ms() + deadline.count();
  for (auto& loop : loops_) loop->request_stop(deadline_ms);
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::start(const ServerOptions& options,
                                                      RequestHandler& handler) {
  Status valid = validate(options);
  if (!valid.is_ok()) return valid;
  IoMode mode = options.io_mode;
  std::string fallback_reason;
  if (mode != IoMode::kEpoll) {
    Status uring = detail::probe_uring();
    if (uring.is_ok()) {
      mode = IoMode::kUring;
    } else if (mode == IoMode::kUring) {
      return Status(StatusCode::kIoError, "io_uring unavailable: " + uring.message());
    } else {
      mode = IoMode::kEpoll;
      fallback_reason = uring.message();
      std::fprintf(stderr, "rsvpd: warning: io_uring unavailable (%s); using epoll\n",
                   fallback_reason.c_str());
    }
  }
  auto server = std::make_unique<ServerImpl>(options, handler);
  Status opened = server->open(mode, std::move(fallback_reason));
  if (!opened.is_ok()) return opened;
  server->start_threads();
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace rsvpd::http
