// Building response bodies (DESIGN.md §4: all output through picojson, never pasted strings).
//
// picojson escapes quotes, backslashes and control bytes and passes other bytes through, so every
// string handed in must be valid UTF-8; ours are (request bodies are validated, ids match
// ^[A-Za-z0-9._:-]+$, times are formatted here). Never call picojson's get<double>() or
// operator== on values holding int64 from other threads: both convert int64 to double in place.
#pragma once

#include <picojson.h>

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "http/detail/utf8.h"
#include "http/time_format.h"

namespace rsvpd::http {

// REQUIRES: text is valid UTF-8 (checked by assertion).
inline picojson::value json_string(std::string_view text) {
  assert(detail::is_valid_utf8(text));
  return picojson::value(std::string(text));
}

inline picojson::value json_int(int64_t number) { return picojson::value(number); }

inline picojson::value json_bool(bool flag) { return picojson::value(flag); }

inline picojson::value json_null() { return picojson::value(); }

// An RFC 3339 UTC time with milliseconds. REQUIRES: kTimeMsMin <= unix_ms <= kTimeMsMax.
inline picojson::value json_time(int64_t unix_ms) {
  return picojson::value(format_time_ms(unix_ms));
}

// The nullable forms: null when empty, else as above.
inline picojson::value json_nullable_string(const std::optional<std::string>& text) {
  return text ? json_string(*text) : json_null();
}
inline picojson::value json_nullable_int(std::optional<int64_t> number) {
  return number ? json_int(*number) : json_null();
}
inline picojson::value json_nullable_time(std::optional<int64_t> unix_ms) {
  return unix_ms ? json_time(*unix_ms) : json_null();
}

// Builds one JSON object. Keys are our own literals. Thread safety: none (a per-response value).
class JsonObjectBuilder {
 public:
  // REQUIRES: `key` was not set before (a duplicate would silently replace the first value).
  JsonObjectBuilder& set(std::string_view key, picojson::value value) {
    [[maybe_unused]] const bool inserted =
        object_.emplace(std::string(key), std::move(value)).second;
    assert(inserted);
    return *this;
  }
  // Moves the object out; the builder is empty afterwards.
  picojson::value build() { return picojson::value(std::move(object_)); }

 private:
  picojson::object object_;
};

// Compact serialization (no whitespace). Keys come out in byte order (picojson::object is a map).
// picojson appends a byte at a time; reserving what most of our bodies need saves the string's
// growth steps (reallocations and copies showed in perf under rsvpd-load).
inline constexpr size_t kJsonTextReserveBytes = 512;
inline std::string to_json_text(const picojson::value& value) {
  std::string text;
  text.reserve(kJsonTextReserveBytes);
  value.serialize(std::back_inserter(text), false);
  return text;
}

}  // namespace rsvpd::http
