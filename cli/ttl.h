// Token lifetimes on the command line: "90s", "30m", "1h", "7d".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace rsvpd::cli {

inline constexpr int64_t kTtlSecondsMax = int64_t{365} * 86400;
inline constexpr size_t kTtlTextBytesMax = 12;

// Seconds for a positive decimal number followed by one unit (s, m, h, d); nullopt for anything
// else, zero, or more than kTtlSecondsMax.
std::optional<int64_t> parse_ttl_s(std::string_view text) noexcept;

}  // namespace rsvpd::cli
