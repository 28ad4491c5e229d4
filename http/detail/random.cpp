#include "http/detail/random.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace rsvpd::http::detail {

Status fill_random(std::span<std::uint8_t> out) {
  std::size_t filled = 0;
  // Bounded: each successful call makes progress; EINTR retries are bounded by signals delivered.
  while (filled < out.size()) {
    const ssize_t got = getrandom(out.data() + filled, out.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return Status(StatusCode::kIoError, std::string("getrandom: ") + std::strerror(errno));
    }
    filled += static_cast<std::size_t>(got);
  }
  return Status::ok();
}

}  // namespace rsvpd::http::detail
