// StreamWriter: the producer's end of a streamed response (Server-Sent Events).
//
// ResponseSink::start_stream() queues a response head without Content-Length and hands back a
// StreamWriter. Each write() appends bytes to the body; close() ends the body and with it the
// connection: a streamed body is delimited by the connection's close (RFC 9112 §6.3), so a
// stream is always the last response on its connection and requests pipelined behind it are
// dropped unanswered.
//
// Back-pressure: unwritten_bytes() counts bytes written here that the socket has not taken yet,
// so a producer can coalesce or drop instead of queueing without bound. peer_gone() turns true
// once the connection closed (peer left, write timeout, server stopped).
//
// Thread safety: movable to any thread; one writer must not be used by two threads at once.
// peer_gone() and unwritten_bytes() are safe from any thread.
// Lifetime: may outlive the connection and the server; writes then are dropped.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace rsvpd::http {

namespace detail {
class Inbox;
class SinkAccess;

// Shared by the writer (producer) and the connection (consumer).
struct StreamControl {
  // Release on set, acquire on read: a producer that sees it stops touching the stream.
  std::atomic<bool> gone{false};
  // Added by write(), taken off as the socket accepts bytes. Relaxed: a figure for
  // back-pressure decisions, ordered with nothing else.
  std::atomic<int64_t> unwritten_bytes{0};
};
}  // namespace detail

class StreamWriter {
 public:
  StreamWriter() = default;  // An empty writer: valid() is false.
  StreamWriter(StreamWriter&& other) noexcept = default;
  // Assigning over an open writer closes its stream first.
  StreamWriter& operator=(StreamWriter&& other) noexcept;
  StreamWriter(const StreamWriter&) = delete;
  StreamWriter& operator=(const StreamWriter&) = delete;
  // Closes the stream (and the connection) when still open.
  ~StreamWriter();

  // Queues `bytes` for the body. Returns false, dropping them, once the connection is gone.
  // REQUIRES: valid().
  bool write(std::string bytes);
  // Ends the body; the connection closes once what was queued is written. Idempotent.
  void close();

  bool valid() const noexcept { return inbox_ != nullptr; }
  bool peer_gone() const noexcept;
  int64_t unwritten_bytes() const noexcept;

 private:
  friend class detail::SinkAccess;
  StreamWriter(std::shared_ptr<detail::Inbox> inbox, uint32_t slot, uint32_t generation,
               uint64_t sequence, std::shared_ptr<detail::StreamControl> control) noexcept;

  std::shared_ptr<detail::Inbox> inbox_;
  uint32_t slot_ = 0;
  uint32_t generation_ = 0;
  uint64_t sequence_ = 0;
  std::shared_ptr<detail::StreamControl> control_;
};

}  // namespace rsvpd::http
