// The handler interface: what the API layer implements and the transports call (DESIGN.md §2).
//
// A transport parses a request on its io thread and hands it to RequestHandler::handle together
// with a ResponseSink. The handler answers through the sink, at once or later from any thread
// (e.g. the writer thread after an LMDB commit). Responses of one connection are written in
// request order whatever order their sinks fire in.
#pragma once

#include "http/stream_writer.h"

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rsvpd::http {

namespace detail {
class Inbox;
class SinkAccess;
}  // namespace detail

// One parsed request. Owned by the handler once handle() is called.
struct HttpRequest {
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  std::string method_text;  // As sent, e.g. "GET"; useful when `method` is `unknown`.
  std::string target;       // Origin form as sent, e.g. "/api/v1/rsvps?limit=5".
  unsigned version = 11;    // 10 for HTTP/1.0, 11 for HTTP/1.1.
  // Case-insensitive lookup: headers.find("content-type"), headers["Idempotency-Key"].
  boost::beast::http::fields headers;
  std::string body;            // At most ServerOptions::body_bytes_max bytes.
  std::string remote_address;  // "ip:port" of the peer, e.g. "127.0.0.1:53012" or "[::1]:53012".
};

// One response. The transport adds Content-Length and, when the connection closes after this
// response, `Connection: close`; handler-supplied Content-Length, Transfer-Encoding and
// Connection headers are ignored.
struct HttpResponse {
  int status = 200;  // 100..999; a status without a known reason phrase is sent without one.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close_connection = false;  // Close after this response (the transport may close anyway).
};

// Why the transport answers a request without calling handle().
enum class RejectReason {
  kHeaderTooLarge,  // Request line + headers over header_bytes_max: 431, then close.
  kBodyTooLarge,    // Body over body_bytes_max: 413, then close.
  kBadRequest,      // Unparseable request: 400, then close.
  kOverloaded,      // connections_max reached: 503 with Retry-After, then close.
};

const char* reject_reason_name(RejectReason reason) noexcept;

// The one-shot answer channel for one request.
//
// Thread safety: a sink may be moved to and used on any thread; one sink must not be used by two
// threads at once. send() never blocks on I/O: it queues the response for the connection's io
// thread and wakes that thread.
//
// Lifetime: a sink may outlive its connection and the server. When the connection has closed (or
// the server stopped) before send(), the response is dropped silently.
//
// A streamed response (Server-Sent Events) is the second one-shot operation: start_stream()
// hands the connection over to a StreamWriter through the same queue, so the ordering and
// lifetime rules above carry over unchanged.
class ResponseSink {
 public:
  ResponseSink() = default;  // An empty sink; send() on it is a programmer error.
  ResponseSink(ResponseSink&& other) noexcept;
  // Assigning over a sink that was not sent answers that sink's request 500, as ~ResponseSink.
  ResponseSink& operator=(ResponseSink&& other) noexcept;
  ResponseSink(const ResponseSink&) = delete;
  ResponseSink& operator=(const ResponseSink&) = delete;
  // A sink destroyed without send() answers 500 and closes the connection, so that a handler bug
  // never leaves a client (and the requests pipelined behind it) waiting forever.
  ~ResponseSink();

  // Queues the response. REQUIRES: valid() (callable exactly once; afterwards valid() is false).
  void send(HttpResponse response);

  // Queues `head` (status and headers; its body is ignored) as a response whose body follows
  // through the returned writer, delimited by the connection's close (see StreamWriter).
  // REQUIRES: valid() (consumes the sink like send()).
  StreamWriter start_stream(HttpResponse head);

  // Runs `task` on this sink's io thread: at once when called there, else queued like a
  // response (in order with this thread's other pushes to that loop). Used to do a response's
  // rendering on the io thread rather than on the thread that completed the work (the writer,
  // whose every microsecond delays the next commit). Once the loop has stopped the task is
  // destroyed without running. REQUIRES: valid(); the sink stays valid.
  void post(std::function<void()> task);

  bool valid() const noexcept { return inbox_ != nullptr; }

 private:
  friend class detail::SinkAccess;
  ResponseSink(std::shared_ptr<detail::Inbox> inbox, uint32_t slot, uint32_t generation,
               uint64_t sequence) noexcept;

  std::shared_ptr<detail::Inbox> inbox_;
  uint32_t slot_ = 0;        // The connection's slot in its loop's table.
  uint32_t generation_ = 0;  // The slot's generation when the request arrived.
  uint64_t sequence_ = 0;    // The request's position on its connection.
};

// Implemented by the API layer. Thread safety: handle() and reject() are called concurrently from
// every io thread; implementations must be thread-safe and must not block (no I/O, no waiting on
// the writer): hand slow work elsewhere and answer through the sink.
class RequestHandler {
 public:
  virtual ~RequestHandler() = default;
  // Called once per parsed request, in arrival order per connection.
  virtual void handle(HttpRequest&& request, ResponseSink sink) = 0;
  // The response for a request the transport refuses; the transport forces close_connection.
  // overloaded responses should carry Retry-After.
  virtual HttpResponse reject(RejectReason reason) = 0;
};

}  // namespace rsvpd::http
