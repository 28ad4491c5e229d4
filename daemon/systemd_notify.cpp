#include "daemon/systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

namespace rsvpd {

bool SystemdNotify::enabled() noexcept {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  return socket != nullptr && socket[0] != '\0';
}

bool SystemdNotify::send(const char* message) noexcept {
  if (!enabled()) return true;
  // unset_environment = 0: later calls must still find the socket.
  return sd_notify(0, message) > 0;
}

bool SystemdNotify::notify_ready() const noexcept { return send("READY=1\nSTATUS=ready"); }

bool SystemdNotify::notify_status(std::string_view text) const noexcept {
  char message[sizeof("STATUS=") + kStatusBytesMax] = "STATUS=";
  size_t length = sizeof("STATUS=") - 1;
  for (const char c : text.substr(0, kStatusBytesMax)) {
    message[length++] = (c == '\n' || c == '\0') ? ' ' : c;  // One line, no truncation by NUL.
  }
  message[length] = '\0';
  return send(message);
}

bool SystemdNotify::notify_watchdog() const noexcept { return send("WATCHDOG=1"); }
bool SystemdNotify::notify_stopping() const noexcept { return send("STOPPING=1"); }
bool SystemdNotify::notify_reloading() const noexcept { return send("RELOADING=1"); }

std::chrono::microseconds SystemdNotify::watchdog_interval() noexcept {
  uint64_t usec = 0;
  // unset_environment = 0; returns > 0 only when WATCHDOG_USEC applies to this pid.
  if (sd_watchdog_enabled(0, &usec) <= 0) return std::chrono::microseconds{0};
  return std::chrono::microseconds{static_cast<int64_t>(usec)};
}

}  // namespace rsvpd
