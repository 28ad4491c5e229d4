#include "benchmarks/loadgen/http_response.h"

#include <charconv>
#include <cstdint>

namespace rsvpd::loadgen {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

struct Head {
  int status = 0;
  std::size_t bytes = 0;  // Including the blank line.
  bool has_length = false;
  std::size_t content_length = 0;
  bool chunked = false;
  bool close = false;
};

// Parses "HTTP/1.x SSS ..." and the header fields; false on a malformed head.
bool parse_head(std::string_view head, Head& out) {
  if (head.size() < 12 || head.substr(0, 7) != "HTTP/1.") return false;
  const char* digits = head.data() + 9;
  if (std::from_chars(digits, digits + 3, out.status).ec != std::errc{}) return false;
  if (out.status < 100 || out.status > 599) return false;
  std::size_t line_end = head.find("\r\n");
  while (line_end != std::string_view::npos && line_end + 2 < head.size()) {
    const std::size_t start = line_end + 2;
    const std::size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos || end == start) break;
    const std::string_view line = head.substr(start, end - start);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      const auto r = std::from_chars(value.data(), value.data() + value.size(), out.content_length);
      if (r.ec != std::errc{} || r.ptr != value.data() + value.size()) return false;
      out.has_length = true;
    } else if (iequals(name, "transfer-encoding")) {
      out.chunked = contains_token(value, "chunked");
    } else if (iequals(name, "connection")) {
      out.close = contains_token(value, "close");
    }
    line_end = end;
  }
  return true;
}

// Decodes a chunked body starting at `data`; on kComplete sets `consumed`.
ParseResult parse_chunked(std::string_view data, std::size_t body_bytes_max, std::size_t& consumed,
                          std::string& body) {
  body.clear();
  std::size_t pos = 0;
  for (;;) {
    const std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      return data.size() - pos > kChunkLineBytesMax ? ParseResult::kError : ParseResult::kNeedMore;
    }
    std::size_t size = 0;
    const char* first = data.data() + pos;
    const auto r = std::from_chars(first, data.data() + eol, size, 16);
    if (r.ec != std::errc{} || r.ptr == first) return ParseResult::kError;
    pos = eol + 2;
    if (size == 0) break;
    if (size > body_bytes_max || body.size() + size > body_bytes_max) return ParseResult::kError;
    if (data.size() < pos + size + 2) return ParseResult::kNeedMore;
    if (data.substr(pos + size, 2) != "\r\n") return ParseResult::kError;
    body.append(data.substr(pos, size));
    pos += size + 2;
  }
  // Trailer fields (ignored) end with an empty line.
  for (;;) {
    const std::size_t eol = data.find("\r\n", pos);
    if (eol == std::string_view::npos) return ParseResult::kNeedMore;
    const bool empty = eol == pos;
    pos = eol + 2;
    if (empty) break;
  }
  consumed = pos;
  return ParseResult::kComplete;
}

}  // namespace

ParseResult parse_response(std::string_view data, std::size_t body_bytes_max, Response& out,
                           std::string& chunked_body) {
  const std::size_t head_end = data.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    return data.size() > kResponseHeadBytesMax ? ParseResult::kError : ParseResult::kNeedMore;
  }
  Head head;
  head.bytes = head_end + 4;
  if (head.bytes > kResponseHeadBytesMax || !parse_head(data.substr(0, head.bytes), head)) {
    return ParseResult::kError;
  }
  out.status = head.status;
  out.connection_close = head.close;
  const bool no_body = head.status < 200 || head.status == 204 || head.status == 304;
  if (no_body) {
    out.consumed_bytes = head.bytes;
    out.body = {};
    return ParseResult::kComplete;
  }
  if (head.chunked) {
    std::size_t consumed = 0;
    const ParseResult r =
        parse_chunked(data.substr(head.bytes), body_bytes_max, consumed, chunked_body);
    if (r != ParseResult::kComplete) return r;
    out.consumed_bytes = head.bytes + consumed;
    out.body = chunked_body;
    return ParseResult::kComplete;
  }
  if (!head.has_length || head.content_length > body_bytes_max) return ParseResult::kError;
  if (data.size() < head.bytes + head.content_length) return ParseResult::kNeedMore;
  out.consumed_bytes = head.bytes + head.content_length;
  out.body = data.substr(head.bytes, head.content_length);
  return ParseResult::kComplete;
}

}  // namespace rsvpd::loadgen
