// Query parameters (API.md: list endpoints take `limit`, `cursor`, `status`; audit takes `after`;
// SSE takes `access_token`).
//
// Parsing: the raw query (the text after '?', without any '#fragment') is split at '&'; each
// piece is name[=value]; '+' means a space and %XX a byte (application/x-www-form-urlencoded).
// Empty pieces ("a=1&&b=2", a trailing '&') are skipped, as browsers and URL builders produce
// them. Errors, each a FieldError (answered 422 `invalid-field`) named by the parameter, or
// "query" when no name can be given: a malformed escape (%, %4, %zz), a decoded name or value that
// is not UTF-8, an empty name, the same name twice, more than kQueryParamsMax parameters, a
// query longer than kQueryBytesMax. A parameter that failed to parse is then treated as absent
// by the getters, so each problem is reported once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/field_error.h"

namespace rsvpd::http {

inline constexpr std::size_t kQueryBytesMax = 4096;
inline constexpr std::size_t kQueryParamsMax = 16;
inline constexpr int64_t kPageLimitMin = 1;
inline constexpr int64_t kPageLimitMax = 500;
inline constexpr std::size_t kCursorBytesMax = 512;
inline constexpr std::size_t kQueryIntDigitsMax = 18;  // Fits int64 without overflow checks.

// Parsed, validating access to a query string. Getters record at most one FieldError per
// parameter and return the default (or nullopt) when it is absent or invalid; check ok() once.
// Thread safety: none; one reader per request.
class QueryReader {
 public:
  explicit QueryReader(std::string_view raw_query);

  // The decoded value of `name`, nullopt when absent or malformed.
  std::optional<std::string_view> find(std::string_view name) const;

  // A page size: decimal digits within [kPageLimitMin, max]; `default_value` when absent.
  // REQUIRES: kPageLimitMin <= default_value <= max.
  int64_t limit(std::string_view name, int64_t default_value, int64_t max = kPageLimitMax);
  // An opaque cursor: 1..kCursorBytesMax bytes of printable ASCII without spaces. Whether it
  // names a real position is for the code that made it to decide.
  std::optional<std::string> cursor(std::string_view name);
  // Exactly one of `allowed`.
  std::optional<std::string> enum_value(std::string_view name,
                                        std::initializer_list<std::string_view> allowed);
  // A non-negative integer in decimal digits (e.g. the audit `after` seq).
  std::optional<int64_t> non_negative_int(std::string_view name);

  // Records "unknown parameter" for every name not in `allowed`.
  void reject_unknown(std::initializer_list<std::string_view> allowed);

  bool ok() const { return errors_.empty(); }
  const std::vector<FieldError>& errors() const { return errors_; }

 private:
  struct Param {
    std::string name;
    std::string value;
    bool failed = false;  // Reported already (e.g. given twice); getters treat it as absent.
  };

  void parse(std::string_view raw_query);
  void parse_piece(std::string_view piece);
  void add_error(std::string_view field, std::string_view message);
  std::optional<int64_t> digits_value(std::string_view name, std::string_view text, int64_t min,
                                      int64_t max);

  std::vector<Param> params_;
  std::vector<FieldError> errors_;
};

}  // namespace rsvpd::http
