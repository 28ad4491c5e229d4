// Ctrl-C for long-running commands (watch, audit --follow): SIGINT and SIGTERM set a flag and
// interrupt blocking waits (no SA_RESTART, so a futex wait returns EINTR). Loops check
// stop_requested() at least every wait timeout, then exit cleanly with kExitOk.
#pragma once

namespace rsvpd::cli {

void install_stop_handlers();
bool stop_requested();

}  // namespace rsvpd::cli
