#include "http/time_format.h"

#include <cassert>
#include <chrono>
#include <cstdio>

namespace rsvpd::http {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr int64_t kMsPerDay = 24 * kMsPerHour;

Status invalid(std::string message) {
  return Status(StatusCode::kInvalidArgument, std::move(message));
}

// A cursor over the input that reads fixed-width decimal fields.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  // Reads exactly `width` digits; false (and nothing consumed) otherwise.
  bool digits(std::size_t width, int& value) {
    if (text_.size() - position_ < width) return false;
    int result = 0;
    for (std::size_t i = 0; i < width; ++i) {
      const char c = text_[position_ + i];
      if (c < '0' || c > '9') return false;
      result = result * 10 + (c - '0');
    }
    position_ += width;
    value = result;
    return true;
  }
  bool literal(char expected) {
    if (position_ >= text_.size() || text_[position_] != expected) return false;
    ++position_;
    return true;
  }
  bool either(char lower, char upper) { return literal(lower) || literal(upper); }
  bool at_end() const { return position_ == text_.size(); }
  int peek() const { return position_ < text_.size() ? text_[position_] : -1; }

 private:
  std::string_view text_;
  std::size_t position_ = 0;
};

// Milliseconds of the fraction after the '.', truncated; false for 0 or > 9 digits.
bool read_fraction_ms(Scanner& scanner, int64_t& fraction_ms) {
  int64_t ms = 0;
  std::size_t count = 0;
  int digit = 0;
  while (scanner.digits(1, digit)) {
    if (++count > kTimeFractionDigitsMax) return false;
    if (count <= 3) ms = ms * 10 + digit;
  }
  if (count == 0) return false;
  for (std::size_t i = count; i < 3; ++i) ms *= 10;
  fraction_ms = ms;
  return true;
}

// The UTC offset in milliseconds (east positive), from "Z" or "+HH:MM"/"-HH:MM".
bool read_offset_ms(Scanner& scanner, int64_t& offset_ms) {
  if (scanner.either('Z', 'z')) {
    offset_ms = 0;
    return true;
  }
  const int sign = scanner.peek() == '-' ? -1 : 1;
  if (!scanner.literal('+') && !scanner.literal('-')) return false;
  int hours = 0;
  int minutes = 0;
  if (!scanner.digits(2, hours) || !scanner.literal(':') || !scanner.digits(2, minutes)) {
    return false;
  }
  if (hours > 23 || minutes > 59) return false;
  offset_ms = sign * (hours * kMsPerHour + minutes * kMsPerMinute);
  return true;
}

}  // namespace

std::string format_time_ms(int64_t unix_ms) {
  assert(unix_ms >= kTimeMsMin && unix_ms <= kTimeMsMax);
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds(unix_ms)};
  const sys_days day = floor<days>(time);
  const year_month_day date{day};
  const hh_mm_ss<milliseconds> clock_time{time - day};
  char text[32];
  const int length = std::snprintf(
      text, sizeof(text), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<int>(clock_time.hours().count()), static_cast<int>(clock_time.minutes().count()),
      static_cast<int>(clock_time.seconds().count()),
      static_cast<int>(clock_time.subseconds().count()));
  assert(length == 24);
  return std::string(text, static_cast<std::size_t>(length));
}

Result<int64_t> parse_time_ms(std::string_view text) {
  if (text.size() > kTimeTextBytesMax) return invalid("too long for a time");
  Scanner scanner(text);
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  const bool date_ok = scanner.digits(4, year) && scanner.literal('-') &&
                       scanner.digits(2, month) && scanner.literal('-') && scanner.digits(2, day);
  const bool time_ok = date_ok && scanner.either('T', 't') && scanner.digits(2, hour) &&
                       scanner.literal(':') && scanner.digits(2, minute) && scanner.literal(':') &&
                       scanner.digits(2, second);
  if (!time_ok) return invalid("not an RFC 3339 date-time");
  int64_t fraction_ms = 0;
  if (scanner.literal('.') && !read_fraction_ms(scanner, fraction_ms)) {
    return invalid("bad fraction of a second");
  }
  int64_t offset_ms = 0;
  if (!read_offset_ms(scanner, offset_ms) || !scanner.at_end()) {
    return invalid("missing or bad UTC offset");
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return invalid("no such date");
  if (hour > 23 || minute > 59 || second > 59) return invalid("no such time of day");
  const int64_t days_since_epoch = sys_days(date).time_since_epoch().count();
  const int64_t local_ms = days_since_epoch * kMsPerDay + hour * kMsPerHour +
                           minute * kMsPerMinute + second * kMsPerSecond + fraction_ms;
  const int64_t utc_ms = local_ms - offset_ms;
  if (utc_ms < kTimeMsMin || utc_ms > kTimeMsMax) return invalid("outside years 0000..9999");
  return utc_ms;
}

}  // namespace rsvpd::http
