// SystemdNotify: the daemon's side of systemd's notification protocol (sd_notify(3)).
//
// rsvpd runs as a Type=notify service (systemd/rsvpd.service): it says READY=1 once the store is
// open, the segment rebuilt and the listeners bound; STATUS= lines show in `systemctl status`;
// WATCHDOG=1 must come at least every watchdog_interval() or systemd restarts the daemon; and
// STOPPING=1 starts a clean shutdown. Outside systemd (NOTIFY_SOCKET unset) every call is a
// no-op that succeeds, so the daemon needs no special case for tests or a terminal.
//
// Errors: notify_* return false when NOTIFY_SOCKET is set but the message could not be sent
// (the socket is gone or unreachable: systemd went away). The caller logs it and carries on; a
// missed watchdog ping is then systemd's to act on.
//
// Thread safety: every method may be called from any thread (sd_notify opens a fresh socket per
// call and reads NOTIFY_SOCKET each time).
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace rsvpd {

class SystemdNotify {
 public:
  // STATUS= text beyond this is cut (systemd shows one line; keep it short).
  static constexpr size_t kStatusBytesMax = 256;

  // True when NOTIFY_SOCKET is set (we run under systemd with Type=notify or NotifyAccess).
  static bool enabled() noexcept;

  bool notify_ready() const noexcept;                     // READY=1 (and STATUS=ready).
  bool notify_status(std::string_view text) const noexcept;  // STATUS=<text, one line>.
  bool notify_watchdog() const noexcept;                  // WATCHDOG=1.
  bool notify_stopping() const noexcept;                  // STOPPING=1.
  bool notify_reloading() const noexcept;                 // RELOADING=1 (SIGHUP handling).

  // The watchdog interval systemd expects pings within (WATCHDOG_USEC for this pid), or zero
  // when the watchdog is off. Ping at half of it.
  static std::chrono::microseconds watchdog_interval() noexcept;

 private:
  static bool send(const char* message) noexcept;
};

}  // namespace rsvpd
