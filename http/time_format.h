// RFC 3339 timestamps (API.md, Conventions).
//
// Output is always UTC with exactly three fraction digits: "2026-12-03T18:23:15.123Z".
// Input is strict RFC 3339 `date-time` (section 5.6):
//   YYYY-MM-DD "T" HH:MM:SS [ "." 1*9DIGIT ] ( "Z" / ("+" / "-") HH:MM )
// with "t" and "z" also accepted (RFC 3339 allows either case). Fractions beyond milliseconds
// are truncated toward the past; offsets are applied so the result is UTC. Rejected: a space
// instead of "T", missing seconds or offset, leap seconds (":60" — the daemon's clock never
// shows them), impossible dates (2026-02-29), more than 9 fraction digits, and results outside
// [kTimeMsMin, kTimeMsMax] (years 0000..9999 in UTC, what four year digits can print).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/status.h"

namespace rsvpd::http {

inline constexpr int64_t kTimeMsMin = -62167219200000;  // 0000-01-01T00:00:00.000Z
inline constexpr int64_t kTimeMsMax = 253402300799999;  // 9999-12-31T23:59:59.999Z
inline constexpr std::size_t kTimeFractionDigitsMax = 9;
inline constexpr std::size_t kTimeTextBytesMax = 40;  // Longest accepted input, with slack.

// Formats milliseconds since the Unix epoch. REQUIRES: kTimeMsMin <= unix_ms <= kTimeMsMax.
// Thread-safe.
std::string format_time_ms(int64_t unix_ms);

// Parses an RFC 3339 date-time into milliseconds since the Unix epoch (UTC).
// Errors: kInvalidArgument, message naming what is wrong. Thread-safe.
Result<int64_t> parse_time_ms(std::string_view text);

}  // namespace rsvpd::http
