// JsonLog: structured log lines, one JSON object per line on stderr (or any FILE), e.g.
// {"level":"info","time":"2026-12-03T18:23:15.123Z","msg":"request","request_id":"...",...}
//
// Thread safety: write() may be called from any thread; each line is written with one fwrite
// under a mutex, so lines never interleave. It blocks on the stream: keep stderr a pipe or file
// that drains (journald does).
#pragma once

#include <picojson.h>

#include <cstdio>
#include <mutex>
#include <optional>
#include <string_view>

#include "daemon/clock.h"

namespace rsvpd::http {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// "debug", "info", "warn" (or "warning"), "error"; nullopt otherwise.
std::optional<LogLevel> parse_log_level(std::string_view name) noexcept;
std::string_view log_level_name(LogLevel level) noexcept;

class JsonLog {
 public:
  // REQUIRES: `clock` and `out` outlive the log.
  JsonLog(LogLevel level_min, const Clock& clock, std::FILE* out = stderr)
      : level_min_(level_min), clock_(clock), out_(out) {}

  bool enabled(LogLevel level) const noexcept { return level >= level_min_; }
  // Writes one line when `level` is enabled. `fields` must not use the keys level/time/msg
  // (they would be replaced). REQUIRES: every string in `fields` is valid UTF-8.
  void write(LogLevel level, std::string_view message, picojson::object fields = {});

 private:
  const LogLevel level_min_;
  const Clock& clock_;
  std::FILE* const out_;
  std::mutex mutex_;  // Guards out_ writes.
};

}  // namespace rsvpd::http
