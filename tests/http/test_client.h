// A small blocking HTTP/1.1 client on POSIX sockets, for the server tests.
//
// Every call retries EINTR: with io_uring loops in the same process, blocking socket calls of
// the test thread have been seen to return EINTR.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace rsvpd::http::testing {

struct ClientResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lower-cased.
  std::string body;
};

class TestClient {
 public:
  // Connects to 127.0.0.1:port; valid() tells whether it worked.
  // A positive `receive_buffer_bytes` shrinks SO_RCVBUF before connecting (small TCP window).
  explicit TestClient(uint16_t port, int receive_timeout_ms = 5000, int receive_buffer_bytes = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer_bytes > 0) {
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer_bytes, sizeof receive_buffer_bytes);
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    timeval timeout{receive_timeout_ms / 1000, (receive_timeout_ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~TestClient() { close(); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool valid() const { return fd_ >= 0; }
  const std::string& unread() const { return buffer_; }
  int last_error() const { return last_error_; }  // errno of the last failed receive; 0 = EOF.
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // Reads one response (Content-Length framing); nullopt on EOF, timeout or garbage.
  std::optional<ClientResponse> read_response() { return read(true); }
  // Reads a status line and headers only (an interim 1xx answer).
  std::optional<ClientResponse> read_response_head_only() { return read(false); }

 private:
  std::optional<ClientResponse> read(bool with_body) {
    std::size_t header_end;
    while ((header_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    ClientResponse response;
    const std::string head = buffer_.substr(0, header_end + 2);
    buffer_.erase(0, header_end + 4);
    if (head.rfind("HTTP/1.1 ", 0) != 0) return std::nullopt;
    response.status = std::stoi(head.substr(9, 3));
    std::size_t line = head.find("\r\n") + 2;
    while (line < head.size() && head.find("\r\n", line) != std::string::npos) {
      const std::size_t end = head.find("\r\n", line);
      const std::string text = head.substr(line, end - line);
      const std::size_t colon = text.find(':');
      std::string name = text.substr(0, colon);
      for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      response.headers[name] = text.substr(text.find_first_not_of(' ', colon + 1));
      line = end + 2;
    }
    if (!with_body) return response;
    if (response.headers.count("content-length") == 0) {
      // A stream (Server-Sent Events): its body is read with read_event(). Else the body runs
      // to the connection's close.
      if (response.headers["content-type"].rfind("text/event-stream", 0) == 0) return response;
      while (fill()) {
      }
      response.body = std::move(buffer_);
      buffer_.clear();
      return response;
    }
    const std::size_t length = std::stoul(response.headers["content-length"]);
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

 public:
  // The next Server-Sent Events block (lines up to a blank line, without it) after a stream's
  // head; nullopt on EOF or timeout.
  std::optional<std::string> read_event() {
    std::size_t end;
    while ((end = buffer_.find("\n\n")) == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    std::string block = buffer_.substr(0, end);
    buffer_.erase(0, end + 2);
    return block;
  }

  // True when the server closed the connection (EOF or reset) with no further bytes.
  bool closed_by_peer() {
    if (!buffer_.empty()) return false;
    char byte;
    ssize_t n;
    do {
      n = ::recv(fd_, &byte, 1, 0);
    } while (n < 0 && errno == EINTR);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  // A request with optional body; "Content-Length" added when the body is not empty.
  static std::string request(std::string_view method, std::string_view target,
                             std::string_view body = {}, std::string_view extra_headers = {}) {
    std::string text = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\n";
    text += "Host: test\r\n";
    text += extra_headers;
    if (!body.empty()) text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    text += "\r\n";
    text += body;
    return text;
  }

 private:
  bool fill() {
    char chunk[16384];
    ssize_t n;
    do {
      n = ::recv(fd_, chunk, sizeof chunk, 0);
    } while (n < 0 && errno == EINTR);
    last_error_ = n < 0 ? errno : 0;
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  int last_error_ = 0;
  std::string buffer_;
};

}  // namespace rsvpd::http::testing
