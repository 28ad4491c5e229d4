#include "http/detail/listener.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace rsvpd::http::detail {

namespace {

Status errno_status(const char* what, int error) {
  return Status(StatusCode::kIoError, std::string(what) + ": " + std::strerror(error));
}

Result<int> bind_and_listen(const addrinfo& info) {
  const int fd = ::socket(info.ai_family, info.ai_socktype | SOCK_CLOEXEC,
                          info.ai_protocol);
  if (fd < 0) return errno_status("socket", errno);
  const int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    const int error = errno;
    ::close(fd);
    return errno_status("setsockopt", error);
  }
  if (::bind(fd, info.ai_addr, info.ai_addrlen) != 0) {
    const int error = errno;
    ::close(fd);
    return errno_status("bind", error);
  }
  if (::listen(fd, kListenBacklogMax) != 0) {
    const int error = errno;
    ::close(fd);
    return errno_status("listen", error);
  }
  return fd;
}

}  // namespace

Result<int> open_listener(const std::string& host, uint16_t port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints,
                               &found);
  if (rc != 0) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot resolve listen host '" + host + "': " + ::gai_strerror(rc));
  }
  Result<int> result = Status(StatusCode::kInvalidArgument, "no address for " + host);
  for (addrinfo* info = found; info != nullptr; info = info->ai_next) {
    result = bind_and_listen(*info);
    if (result.is_ok()) break;
  }
  ::freeaddrinfo(found);
  return result;
}

uint16_t bound_port(int fd) noexcept {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return 0;
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

std::string peer_address(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return {};
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(v6->sin6_port));
  }
  const auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
  return std::string(text) + ":" + std::to_string(ntohs(v4->sin_port));
}

void set_no_delay(int fd) noexcept {
  const int one = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

void bound_stream_send_buffer(int fd) noexcept {
  // Best effort: without it a slow stream reader is still dropped by the write timeout, only
  // later.
  (void)::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &kStreamSendBufferBytes,
                     sizeof kStreamSendBufferBytes);
}

}  // namespace rsvpd::http::detail
