// Strict JSON request bodies (API.md, Conventions: "Strict input").
//
// parse_json_object() answers the 400 `malformed-json` question; FieldReader answers the 422
// `invalid-field` one. They are separate steps because API.md orders the checks: body syntax
// (400) before field validation (422).
//
// Numbers: with PICOJSON_USE_INT64 (defined for the whole build) an integer literal that fits
// int64 is stored as int64; every other number (a fraction "1.0", an exponent "1e3", an integer
// beyond int64 such as 9223372036854775808) is stored as a double, and no integer field accepts a
// double. The number grammar itself is checked strictly (RFC 8259): "01", "1.", "-" and "+1" are
// malformed, although picojson alone would accept some of them.
#pragma once

#include <picojson.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/status.h"
#include "http/field_error.h"

namespace rsvpd::http {

// Arrays and objects nested deeper than this are malformed. The top-level object counts as 1.
inline constexpr std::size_t kJsonDepthMax = 32;
// Bodies over this size are answered 413 `payload-too-large` by the transport before parsing.
inline constexpr std::size_t kJsonBodyBytesMax = 16 * 1024;

// Parses `body` as one JSON object. On success the value holds an object.
// Errors (all kInvalidArgument, all answered 400 `malformed-json`; the message is a machine
// reason for logs, never sent to clients verbatim): "too-large" (over kJsonBodyBytesMax — the
// transport should have answered 413 already), "bad-utf8", "bad-number", "syntax",
// "duplicate-key", "too-deep", "trailing-garbage", "not-an-object". Thread-safe.
Result<picojson::value> parse_json_object(std::string_view body);

// A field that distinguishes "absent" from "null" (PATCH: null clears, absent keeps).
template <typename T>
struct NullableField {
  bool present = false;    // The key was in the body.
  std::optional<T> value;  // Empty when absent, null, or invalid (then an error was recorded).

  bool is_null() const { return present && !value.has_value(); }
};

// Constraints on a string field. Lengths count Unicode code points (the body is valid UTF-8).
// REQUIRES: 0 < code_points_max and code_points_min <= code_points_max (every string has a limit).
struct StringRule {
  std::size_t code_points_min = 0;
  std::size_t code_points_max = 0;
  bool (*is_valid)(std::string_view) = nullptr;  // Optional extra check, e.g. is_valid_id.
  std::string_view invalid_message = "has an invalid format";
};

// Typed, validating access to the fields of a parsed body. Every getter records at most one
// FieldError for its field and returns an empty optional on error or absence; the caller
// collects the values, then checks ok() once and answers 422 with errors() if it is false.
// Thread safety: none; one reader per request. REQUIRES: the object outlives the reader.
class FieldReader {
 public:
  explicit FieldReader(const picojson::object& object) : object_(&object) {}

  std::optional<std::string> required_string(std::string_view name, const StringRule& rule);
  std::optional<std::string> optional_string(std::string_view name, const StringRule& rule);
  // One of `allowed` exactly (e.g. "open" | "closed" | "archived").
  std::optional<std::string> optional_enum(std::string_view name,
                                           std::initializer_list<std::string_view> allowed);
  // An integer literal within [min, max]; "1", 1.5, 1.0, 1e3, true and huge integers fail.
  std::optional<int64_t> required_int(std::string_view name, int64_t min, int64_t max);
  std::optional<int64_t> optional_int(std::string_view name, int64_t min, int64_t max);
  NullableField<int64_t> nullable_int(std::string_view name, int64_t min, int64_t max);
  std::optional<bool> optional_bool(std::string_view name);
  // An RFC 3339 time string (http/time_format.h), as milliseconds since the epoch.
  std::optional<int64_t> optional_time(std::string_view name);
  NullableField<int64_t> nullable_time(std::string_view name);

  // Records "unknown field" for every key not in `allowed`, in key order.
  void reject_unknown(std::initializer_list<std::string_view> allowed);

  // Records an error found by the caller (e.g. a cross-field rule like guests > max_guests).
  void add_error(std::string_view field, std::string_view message);

  bool ok() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }

 private:
  const picojson::value* find(std::string_view name) const;
  // Validations of a present, non-null value; each records its error and returns empty on failure.
  std::optional<std::string> string_of(std::string_view name, const picojson::value& value,
                                       const StringRule& rule);
  std::optional<int64_t> int_of(std::string_view name, const picojson::value& value, int64_t min,
                                int64_t max);
  std::optional<int64_t> time_of(std::string_view name, const picojson::value& value);

  const picojson::object* object_;
  std::vector<FieldError> errors_;
};

}  // namespace rsvpd::http

namespace rsvpd::http {

// Structural equality of two parsed values, for comparing idempotent retries "as parsed JSON".
// Unlike picojson's operator==, it never converts: int64 7 and double 7.0 differ, and it does not
// mutate its arguments (picojson's operator== turns int64 values into doubles in place, which
// also loses precision above 2^53 and races with concurrent readers). Thread-safe for values
// nobody writes concurrently.
bool json_equal(const picojson::value& left, const picojson::value& right);

}  // namespace rsvpd::http
