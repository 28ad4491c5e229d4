#include "cli/ttl.h"

namespace rsvpd::cli {

std::optional<int64_t> parse_ttl_s(std::string_view text) noexcept {
  if (text.size() < 2 || text.size() > kTtlTextBytesMax) return std::nullopt;
  int64_t unit_s = 0;
  switch (text.back()) {
    case 's': unit_s = 1; break;
    case 'm': unit_s = 60; break;
    case 'h': unit_s = 3600; break;
    case 'd': unit_s = 86400; break;
    default: return std::nullopt;
  }
  int64_t number = 0;
  for (const char c : text.substr(0, text.size() - 1)) {
    if (c < '0' || c > '9') return std::nullopt;
    number = number * 10 + (c - '0');
    if (number * unit_s > kTtlSecondsMax) return std::nullopt;  // Also stops any overflow.
  }
  if (number == 0) return std::nullopt;
  return number * unit_s;
}

}  // namespace rsvpd::cli
