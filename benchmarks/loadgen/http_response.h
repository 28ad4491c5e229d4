// A minimal HTTP/1.1 response parser for the load driver: fast, allocation-free for
// Content-Length bodies, and strict about what it does not support.
//
// Supported framing: Content-Length, Transfer-Encoding: chunked (decoded into a caller-owned
// string), and no body for 1xx/204/304. A response framed by connection close (neither header)
// is refused as kError, because the driver only speaks keep-alive. `Connection: close` is
// reported so the caller can reconnect.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace rsvpd::loadgen {

inline constexpr std::size_t kResponseHeadBytesMax = 16 * 1024;
inline constexpr std::size_t kChunkLineBytesMax = 1024;

enum class ParseResult {
  kNeedMore,  // `data` holds only part of a response: read more and call again.
  kComplete,  // A whole response is at the start of `data`; see Response.
  kError,     // Not a response we can frame: close the connection.
};

struct Response {
  int status = 0;
  std::size_t consumed_bytes = 0;  // Head + body (+ chunk framing) at the start of `data`.
  std::string_view body;           // Into `data`, or into `chunked_body` when chunked.
  bool connection_close = false;
};

// Parses the response at the start of `data`. On kComplete fills `out`; `out.body` points into
// `data` or, for chunked bodies, into `chunked_body` (cleared and refilled; the only allocation).
// `body_bytes_max` bounds the body (kError beyond). Pure: no state kept between calls, so after
// kNeedMore the caller simply calls again with more bytes (heads are re-scanned; they are small).
ParseResult parse_response(std::string_view data, std::size_t body_bytes_max, Response& out,
                           std::string& chunked_body);

}  // namespace rsvpd::loadgen
