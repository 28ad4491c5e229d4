#include "benchmarks/loadgen/api_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "benchmarks/loadgen/http_response.h"

namespace rsvpd::loadgen {
namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits for `events` on fd until deadline; false on timeout or error.
bool wait_for(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - now_ms();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(left));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

ApiClient::ApiClient(std::string host, uint16_t port, std::string bearer_token)
    : host_(std::move(host)), port_(port), token_(std::move(bearer_token)) {}

ApiClient::~ApiClient() { disconnect(); }

void ApiClient::disconnect() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

bool ApiClient::ensure_connected() {
  if (fd_ >= 0) return true;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port_);
  if (::inet_pton(AF_INET, host_.c_str(), &address.sin_addr) != 1) {
    last_error_ = "not an IPv4 address: " + host_;
    return false;
  }
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    last_error_ = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    last_error_ = std::string("connect: ") + std::strerror(errno);
    disconnect();
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return true;
}

bool ApiClient::send_all(std::string_view bytes, int64_t deadline_ms) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!wait_for(fd_, POLLOUT, deadline_ms)) return false;
    } else {
      return false;
    }
  }
  return true;
}

std::optional<ApiReply> ApiClient::receive(int64_t deadline_ms, bool& got_nothing) {
  constexpr std::size_t kReadChunkBytes = 64 * 1024;
  std::string chunked;
  got_nothing = true;
  for (;;) {
    Response response;
    const ParseResult parsed = parse_response(buffer_, kApiBodyBytesMax, response, chunked);
    if (parsed == ParseResult::kError) {
      last_error_ = "unframeable response";
      return std::nullopt;
    }
    if (parsed == ParseResult::kComplete) {
      ApiReply reply{response.status, std::string(response.body)};
      buffer_.erase(0, response.consumed_bytes);
      if (response.connection_close) disconnect();
      return reply;
    }
    if (!wait_for(fd_, POLLIN, deadline_ms)) {
      last_error_ = "timeout";
      return std::nullopt;
    }
    const std::size_t old_size = buffer_.size();
    buffer_.resize(old_size + kReadChunkBytes);
    const ssize_t n = ::recv(fd_, buffer_.data() + old_size, kReadChunkBytes, MSG_DONTWAIT);
    buffer_.resize(old_size + (n > 0 ? static_cast<std::size_t>(n) : 0));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      last_error_ = n == 0 ? "connection closed" : std::string("recv: ") + std::strerror(errno);
      return std::nullopt;
    }
    if (n > 0) got_nothing = false;
  }
}

std::optional<ApiReply> ApiClient::call(std::string_view method, std::string_view target,
                                        std::string_view body) {
  std::string request;
  request.reserve(256 + token_.size() + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ");
  request.append(host_).append(":").append(std::to_string(port_)).append("\r\n");
  if (!token_.empty()) request.append("Authorization: Bearer ").append(token_).append("\r\n");
  if (!body.empty()) request.append("Content-Type: application/json\r\n");
  request.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n\r\n");
  request.append(body);
  constexpr int kAttemptsMax = 2;
  for (int attempt = 1; attempt <= kAttemptsMax; ++attempt) {
    const int64_t deadline_ms = now_ms() + kApiCallTimeoutMs;
    if (!ensure_connected()) return std::nullopt;
    bool got_nothing = true;
    if (send_all(request, deadline_ms)) {
      auto reply = receive(deadline_ms, got_nothing);
      if (reply) return reply;
    } else {
      last_error_ = "send failed";
    }
    disconnect();
    if (!(got_nothing && method == "GET")) return std::nullopt;
  }
  return std::nullopt;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(c);
    } else {
      const auto byte = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 15]);
    }
  }
  return out;
}

}  // namespace rsvpd::loadgen
