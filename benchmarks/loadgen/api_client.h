// A blocking HTTP/1.1 client over one keep-alive loopback connection, for the driver's setup
// (creating activities) and its verification pass. Not for the hot path: it uses plain POSIX
// sockets with poll() so that every call has a deadline.
//
// Thread safety: none; one client per thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsvpd::loadgen {

inline constexpr int kApiCallTimeoutMs = 10'000;
inline constexpr std::size_t kApiBodyBytesMax = 16 * 1024 * 1024;  // 500 RSVPs per page fit.

struct ApiReply {
  int status = 0;
  std::string body;
};

class ApiClient {
 public:
  // `bearer_token` may be empty (then no Authorization header is sent).
  ApiClient(std::string host, uint16_t port, std::string bearer_token);
  ~ApiClient();
  ApiClient(const ApiClient&) = delete;
  ApiClient& operator=(const ApiClient&) = delete;

  // Sends one request and waits for its response, at most kApiCallTimeoutMs. Connects (again)
  // when needed, and retries once when a kept-alive connection turns out to be closed before any
  // byte of the response arrived (only for GET, which is safe to repeat). Returns nullopt on a
  // transport error, a timeout or an unframeable response; last_error() says which.
  std::optional<ApiReply> call(std::string_view method, std::string_view target,
                               std::string_view body = {});
  const std::string& last_error() const noexcept { return last_error_; }

 private:
  bool ensure_connected();
  void disconnect();
  bool send_all(std::string_view bytes, int64_t deadline_ms);
  std::optional<ApiReply> receive(int64_t deadline_ms, bool& got_nothing);

  std::string host_;
  uint16_t port_;
  std::string token_;
  int fd_ = -1;
  std::string buffer_;
  std::string last_error_;
};

// Percent-encodes everything but RFC 3986 unreserved characters (for opaque cursors).
std::string url_encode(std::string_view text);

}  // namespace rsvpd::loadgen
