// Listening sockets and small socket helpers shared by both transports.
#pragma once

#include "daemon/status.h"

#include <cstdint>
#include <string>

namespace rsvpd::http::detail {

inline constexpr int kListenBacklogMax = 4096;

// A blocking (io_uring wants that; Asio switches it itself), close-on-exec TCP socket bound with SO_REUSEADDR and SO_REUSEPORT and listening.
// Errors: kInvalidArgument (host does not resolve), kIoError (errno named in the message).
// Ownership: the caller owns the returned descriptor.
Result<int> open_listener(const std::string& host, uint16_t port);

// The port a bound socket listens on.
uint16_t bound_port(int fd) noexcept;

// "ip:port" (IPv6 as "[ip]:port") of the socket's peer; "" when unknown.
std::string peer_address(int fd);

// TCP_NODELAY: responses are written whole, so Nagle only adds latency.
void set_no_delay(int fd) noexcept;

// The kernel's send buffer for a streamed response (Server-Sent Events). Left to autotuning, a
// loopback socket takes megabytes, so a client that stops reading would queue a long backlog in
// the kernel instead of being coalesced to the latest state by its producer, which only sees the
// bytes the socket has not taken. The kernel doubles the value for its bookkeeping.
inline constexpr int kStreamSendBufferBytes = 32 * 1024;
void bound_stream_send_buffer(int fd) noexcept;

}  // namespace rsvpd::http::detail
