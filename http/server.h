// HttpServer: accepts connections and runs the HTTP/1.1 connection core on one of two transports.
//
// io_uring (liburing, one ring per thread) is the default; Boost.Asio on its epoll reactor is the
// fallback (DESIGN.md §4: Asio's own io_uring backend is not used). Each io thread has its own
// SO_REUSEPORT listening socket, so the kernel spreads connections over threads.
#pragma once

#include "daemon/status.h"
#include "http/request_handler.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace rsvpd::http {

enum class IoMode {
  kAuto,   // io_uring when the kernel permits it, else epoll with a warning naming the cause.
  kUring,  // io_uring or fail to start.
  kEpoll,  // Boost.Asio's epoll reactor.
};

const char* io_mode_name(IoMode mode) noexcept;

inline constexpr uint32_t kThreadsMax = 64;
inline constexpr uint32_t kConnectionsMaxLimit = 1u << 20;
inline constexpr uint32_t kHeaderBytesMaxLimit = 1u << 20;
inline constexpr uint32_t kBodyBytesMaxLimit = 64u << 20;

struct ServerOptions {
  std::string host = "127.0.0.1";  // Numeric IPv4/IPv6 address or a name resolving to one.
  uint16_t port = 8080;            // 0 binds an ephemeral port; HttpServer::port() reports it.
  uint32_t threads = 1;            // io threads, 1..kThreadsMax.
  IoMode io_mode = IoMode::kAuto;
  // Open connections across all threads, 1..kConnectionsMaxLimit. Connections beyond it are
  // accepted, answered 503 through RequestHandler::reject(kOverloaded) and closed.
  uint32_t connections_max = 10000;
  uint32_t header_bytes_max = 16384;  // Request line + headers; over it → 431 and close.
  uint32_t body_bytes_max = 16384;    // Over it → 413 and close.
  // A request (line, headers and body) must arrive within this time from its first byte, else
  // the connection is dropped without an answer (slow-loris defence).
  uint32_t read_timeout_ms = 10000;
  // A keep-alive connection with nothing in flight is closed after this long.
  uint32_t idle_timeout_ms = 60000;
  // A response write that makes no progress for this long drops the connection.
  uint32_t write_timeout_ms = 10000;
};

// Monotonic counters since start(), plus the current open count.
struct ServerCounters {
  uint64_t connections_open = 0;       // Accepted and not yet closed (overload rejects excluded).
  uint64_t connections_accepted = 0;   // Every accepted connection, rejected ones included.
  uint64_t rejected_overload = 0;      // Answered 503 because connections_max was reached.
  uint64_t timed_out = 0;              // Dropped by the read, idle or write timeout.
};

// Thread safety: every member function may be called from any thread, but stop() and the
// destructor not concurrently with each other.
class HttpServer {
 public:
  // Binds, starts `options.threads` io threads and begins accepting.
  // Errors: kInvalidArgument (options out of range, host unresolvable), kIoError (socket, bind,
  // listen failed: errno named in the message; EADDRINUSE → choose another port), kIoError when
  // io_mode is kUring and io_uring is unavailable (the message names the cause).
  // REQUIRES: `handler` outlives the server.
  static Result<std::unique_ptr<HttpServer>> start(const ServerOptions& options,
                                                   RequestHandler& handler);

  virtual ~HttpServer() = default;  // Implementations stop() with a short deadline.

  virtual uint16_t port() const noexcept = 0;  // The bound port (the ephemeral one for port 0).
  virtual IoMode mode() const noexcept = 0;    // kUring or kEpoll, never kAuto.
  // Why kAuto did not pick io_uring; empty when it did or when the mode was explicit.
  virtual const std::string& fallback_reason() const noexcept = 0;

  // Closes the listening sockets; open connections keep being served. Idempotent.
  virtual void stop_accepting() = 0;
  // Stops accepting, stops reading new requests, lets every dispatched request's response be
  // written (each connection closes after its last one), then ends the io threads. Connections
  // still busy at `deadline` are closed without their answers. Idempotent; blocks until done.
  // REQUIRES: not called from a RequestHandler callback (it joins the io threads).
  virtual void stop(std::chrono::milliseconds deadline) = 0;

  virtual ServerCounters counters() const noexcept = 0;
};

}  // namespace rsvpd::http
