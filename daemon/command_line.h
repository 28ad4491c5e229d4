// The daemon's command line (API.md, "The daemon's command line"), for the rsvpd executable only:
// this file sits above both daemon/ and http/ and is not part of the rsvpd_daemon library.
//
// Every flag can come from three places; the first one that sets it wins:
//   1. the command line, 2. an RSVPD_* environment variable (--listen → RSVPD_LISTEN,
//   --max-connections → RSVPD_MAX_CONNECTIONS), 3. the --config FILE (ini style, key = value,
//   keys spelled like the flags without dashes: `listen = 0.0.0.0:8080`, `cors-origin = ...`,
//   repeatable keys for repeatable flags).
// Repeatable flags (--cors-origin) take the union of the first source that sets them; in the
// environment variable several origins are separated by commas.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "daemon/status.h"
#include "http/event_hub.h"
#include "http/json_log.h"
#include "http/server.h"

namespace rsvpd {

inline constexpr uint32_t kShutdownDeadlineMsDefault = 5'000;
inline constexpr uint32_t kShutdownDeadlineMsMax = 600'000;

struct DaemonConfig {
  std::string data_dir = "./rsvpd-data";
  std::string shm_name = "rsvpd";
  std::string jwt_secret_file;  // Empty: <data_dir>/jwt.secret, created on first start.
  uint32_t max_activities = 10'000;
  std::vector<std::string> cors_origins;
  http::LogLevel log_level = http::LogLevel::kInfo;
  http::ServerOptions server;  // listen, threads, io mode, connection limits and timeouts.
  uint32_t shutdown_deadline_ms = kShutdownDeadlineMsDefault;
  http::EventHubOptions events;  // max-sse-clients, sse-heartbeat-ms.
};

struct CommandLine {
  bool exit_now = false;  // --help or --version was printed: exit 0 without starting.
  DaemonConfig config;
};

// Parses argv, the environment (`envp`, NULL-terminated) and the --config file. --help and
// --version print to stdout. Errors: kInvalidArgument naming the flag and what is wrong (an
// unknown flag, a value out of range, an unreadable config file); the caller prints it and
// exits 2.
Result<CommandLine> parse_command_line(int argc, const char* const* argv, const char* const* envp);

// "HOST:PORT", "[v6]:PORT" → host and port. Errors: kInvalidArgument.
Status parse_listen_address(const std::string& text, http::ServerOptions& server);

}  // namespace rsvpd
