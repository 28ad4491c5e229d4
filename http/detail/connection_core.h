// ConnectionCore: the transport-agnostic half of one HTTP/1.1 connection.
//
// It owns the request parser, the in-order response slots and the output buffer; a transport
// only moves bytes: it feeds received bytes in, writes pending_output() out, and asks deadline_ms()
// and the wants_*() predicates what to do next. Time is passed in (steady milliseconds).
//
// Thread safety: none; every call happens on the owning loop's thread.
#pragma once

#include "http/detail/inbox.h"
#include "http/request_handler.h"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace rsvpd::http::detail {

// Requests parsed on one connection whose responses are not yet written out. Reading pauses at
// this depth, so one client cannot queue unbounded work.
inline constexpr std::size_t kPipelineDepthMax = 128;
// Bytes the transport receives per read.
inline constexpr std::size_t kReceiveChunkBytes = 8192;
// Bytes handed to one send. Bounding it makes write progress visible per chunk, so the write
// timeout measures a stalled peer, not a large response.
inline constexpr std::size_t kSendChunkBytesMax = 64 * 1024;
// After the last response of a closing connection, unread client bytes are drained for at most
// this long before the socket is closed, so that the peer sees the response and not a reset.
inline constexpr int64_t kLingerMsMax = 1000;
inline constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

struct CoreLimits {
  uint32_t header_bytes_max = 16384;
  uint32_t body_bytes_max = 16384;
  uint32_t read_timeout_ms = 10000;
  uint32_t idle_timeout_ms = 60000;
  uint32_t write_timeout_ms = 10000;
};

class ConnectionCore {
 public:
  // `inbox`, `slot` and `generation` address this connection for the sinks it creates.
  // REQUIRES: `handler` outlives the core.
  ConnectionCore(const CoreLimits& limits, RequestHandler& handler, std::shared_ptr<Inbox> inbox,
                 uint32_t slot, uint32_t generation, std::string remote_address, int64_t now_ms);
  // Tells a stream's producer that the connection is gone.
  ~ConnectionCore();
  ConnectionCore(const ConnectionCore&) = delete;
  ConnectionCore& operator=(const ConnectionCore&) = delete;

  // Appends received bytes and dispatches every complete request in order.
  // REQUIRES: wants_read() or lingering() (bytes read while lingering are discarded).
  void on_received(std::string_view bytes, int64_t now_ms);
  // A sink's or stream writer's completion (see CompletionKind); stale or duplicate sequences
  // are ignored.
  void on_completion(Completion&& completion, int64_t now_ms);
  // A sink's response for request `sequence`; stale or duplicate sequences are ignored.
  void on_response(uint64_t sequence, HttpResponse&& response, int64_t now_ms);
  // Answers at once through handler.reject(reason) and closes after it (used for overload).
  void reject(RejectReason reason, int64_t now_ms);
  // Stop reading new requests; close once every dispatched request is answered and written.
  void begin_shutdown(int64_t now_ms);

  // Bytes to write next, at most kSendChunkBytesMax; stable (same pointer) until on_written().
  // Empty when nothing to write.
  std::string_view pending_output();
  void on_written(std::size_t bytes, int64_t now_ms);

  bool wants_read() const noexcept;
  // A streamed response has been opened on this connection (it stays the last response).
  bool streaming() const noexcept { return stream_ != nullptr; }
  // The connection is done: everything owed is written; the transport should shut down writing
  // and linger (see kLingerMsMax), then close.
  bool wants_close() const noexcept;
  // Set by the transport once it has shut down writing and drains the peer.
  void start_linger(int64_t now_ms) noexcept;
  bool lingering() const noexcept { return linger_deadline_ms_ != kNoDeadline; }
  // When the connection must be dropped without further answer (read, idle or write timeout, or
  // the end of lingering). kNoDeadline while it waits for the handler.
  int64_t deadline_ms() const noexcept;
  // No request dispatched and unanswered, no partial request, nothing left to write.
  bool quiescent() const noexcept;

 private:
  struct Slot {
    bool ready = false;
    bool keep_alive = true;  // The request allows another one after it (HTTP/1.0 rules included).
    unsigned version = 11;
    bool head = false;       // A HEAD request: Content-Length of the body, but no body bytes.
    bool close = false;      // Set when ready: the connection closes after this response.
    std::string bytes;  // The serialized response once ready.
    bool stream = false;        // A streamed response: its body follows until stream_ended.
    bool stream_ended = false;  // The producer closed the stream before it reached the front.
  };
  using Parser = boost::beast::http::request_parser<boost::beast::http::string_body>;

  void do_parse(int64_t now_ms);
  void maybe_send_continue(int64_t now_ms);
  void on_message(int64_t now_ms);
  void on_parse_error(const boost::system::error_code& ec, int64_t now_ms);
  void reset_parser();
  void flush_ready_slots();
  void on_stream_open(uint64_t sequence, HttpResponse&& head,
                      std::shared_ptr<StreamControl> control, int64_t now_ms);
  void on_stream_bytes(uint64_t sequence, std::string&& bytes, int64_t now_ms);
  void on_stream_close(uint64_t sequence);
  // The slot of `sequence` when it is still waiting to be written, else nullptr.
  Slot* waiting_slot(uint64_t sequence) noexcept;
  bool has_partial_request() const noexcept;

  CoreLimits limits_;
  RequestHandler& handler_;
  std::shared_ptr<Inbox> inbox_;
  uint32_t slot_;
  uint32_t generation_;
  std::string remote_address_;

  std::optional<Parser> parser_;
  std::size_t header_bytes_ = 0;   // Header bytes of the current request the parser consumed.
  std::string input_;              // Received bytes the parser has not consumed.
  std::deque<Slot> slots_;         // Dispatched requests awaiting their turn to be written.
  uint64_t first_sequence_ = 0;    // Sequence number of slots_.front().
  std::string output_pending_;     // Serialized, in order, not yet handed to the transport.
  std::string output_writing_;     // Handed to the transport, not yet fully written.
  std::shared_ptr<StreamControl> stream_;  // The streamed response's control, once opened.
  uint64_t stream_sequence_ = 0;           // Its request's sequence.
  bool streaming_ = false;  // The stream's head is written out; its bytes go straight to output.
  int64_t stream_unwritten_bytes_ = 0;     // Stream bytes in the output buffers.
  bool continue_sent_ = false;     // "100 Continue" written for the request being received.
  bool reading_closed_ = false;    // No further requests are read (error, close, EOF, shutdown).
  bool closing_ = false;           // Close once output is written and nothing is in flight.
  int64_t request_started_ms_ = 0;
  int64_t idle_since_ms_ = 0;
  int64_t write_progress_ms_ = 0;
  int64_t linger_deadline_ms_ = kNoDeadline;
};

// Serializes status line, headers, Content-Length (none for 204) and, when `close`,
// Connection: close; the body unless `omit_body` (HEAD). REQUIRES: 200 <= status <= 999 and an
// empty body for 204.
void serialize_response(const HttpResponse& response, unsigned version, bool close,
                        bool omit_body, std::string& out);
// The head of a streamed response: status line, headers and Connection: close, no
// Content-Length (the body ends with the connection). REQUIRES: 200 <= status <= 999.
void serialize_stream_head(const HttpResponse& head, std::string& out);

}  // namespace rsvpd::http::detail
