// rsvpctl's exit codes: part of its interface (scripts test them); docs/OPERATIONS.md lists them.
#pragma once

namespace rsvpd::cli {

enum ExitCode : int {
  kExitOk = 0,
  kExitFailure = 1,       // Anything else: I/O error, unexpected reply, internal error.
  kExitUsage = 2,         // Bad command line (unknown command or option, bad value).
  kExitDaemonDown = 3,    // No segment, or the daemon behind it is dead, stopped or stalled.
  kExitNotFound = 4,      // The activity (or the store) does not exist; HTTP 404.
  kExitStore = 5,         // LMDB could not be opened or read (permissions, corruption).
  kExitFindings = 6,      // verify found at least one violated invariant.
  kExitAuth = 7,          // Secret file unreadable or too short; HTTP 401/403.
  kExitRejected = 8,      // The daemon refused the change: HTTP 400/409/412/413/422.
  kExitUnavailable = 9,   // The daemon's HTTP API cannot be reached, or answered 5xx.
};

}  // namespace rsvpd::cli
