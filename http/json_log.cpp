#include "http/json_log.h"

#include <string>

#include "http/json_writer.h"

namespace rsvpd::http {

std::optional<LogLevel> parse_log_level(std::string_view name) noexcept {
  if (name == "debug") return LogLevel::kDebug;
  if (name == "info") return LogLevel::kInfo;
  if (name == "warn" || name == "warning") return LogLevel::kWarn;
  if (name == "error") return LogLevel::kError;
  return std::nullopt;
}

std::string_view log_level_name(LogLevel level) noexcept {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
  }
  return "error";
}

void JsonLog::write(LogLevel level, std::string_view message, picojson::object fields) {
  if (!enabled(level)) return;
  fields["level"] = json_string(log_level_name(level));
  fields["time"] = json_time(clock_.now_ms());
  fields["msg"] = json_string(message);
  std::string line = to_json_text(picojson::value(std::move(fields)));
  line.push_back('\n');
  const std::lock_guard<std::mutex> lock(mutex_);
  std::fwrite(line.data(), 1, line.size(), out_);
  std::fflush(out_);
}

}  // namespace rsvpd::http
