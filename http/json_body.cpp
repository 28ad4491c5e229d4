#include "http/json_body.h"

#include <algorithm>
#include <cassert>
#include <string>

#include "http/detail/strict_json_context.h"
#include "http/detail/utf8.h"
#include "http/time_format.h"

namespace rsvpd::http {
namespace {

Status malformed(std::string reason) {
  return Status(StatusCode::kInvalidArgument, std::move(reason));
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The characters picojson gathers into one number token (picojson::_parse_number).
bool is_number_token_char(char c) {
  return is_digit(c) || c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.';
}

std::size_t skip_digits(std::string_view text, std::size_t i) {
  while (i < text.size() && is_digit(text[i])) ++i;
  return i;
}

// RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
bool is_json_number(std::string_view token) {
  std::size_t i = 0;
  if (i < token.size() && token[i] == '-') ++i;
  if (i >= token.size() || !is_digit(token[i])) return false;
  i = token[i] == '0' ? i + 1 : skip_digits(token, i);
  if (i < token.size() && token[i] == '.') {
    const std::size_t start = ++i;
    i = skip_digits(token, i);
    if (i == start) return false;
  }
  if (i < token.size() && (token[i] == 'e' || token[i] == 'E')) {
    ++i;
    if (i < token.size() && (token[i] == '+' || token[i] == '-')) ++i;
    const std::size_t start = i;
    i = skip_digits(token, i);
    if (i == start) return false;
  }
  return i == token.size();
}

// Checks every number token outside strings against the JSON grammar, because picojson hands
// the token to strtoimax/strtod, which accept "01" and "1.". In valid JSON a number is never
// followed by one of its own token characters, so the maximal run is exactly the token.
bool number_tokens_are_strict(std::string_view body) {
  bool in_string = false;
  std::size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\')
        ++i;  // Skip the escaped character; a dangling one fails in picojson.
      else if (c == '"')
        in_string = false;
      ++i;
    } else if (c == '"') {
      in_string = true;
      ++i;
    } else if (c == '-' || is_digit(c)) {
      const std::size_t start = i;
      while (i < body.size() && is_number_token_char(body[i])) ++i;
      if (!is_json_number(body.substr(start, i - start))) return false;
    } else {
      ++i;
    }
  }
  return true;
}

bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string int_range_message(int64_t min, int64_t max) {
  return "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

}  // namespace

Result<picojson::value> parse_json_object(std::string_view body) {
  if (body.size() > kJsonBodyBytesMax) return malformed("too-large");
  if (!detail::is_valid_utf8(body)) return malformed("bad-utf8");
  if (!number_tokens_are_strict(body)) return malformed("bad-number");
  picojson::value value;
  detail::StrictJsonFailure failure;
  detail::StrictJsonContext context(&value, kJsonDepthMax, &failure);
  picojson::input<std::string_view::const_iterator> input(body.begin(), body.end());
  if (!picojson::_parse(context, input)) {
    if (failure.duplicate_key) return malformed("duplicate-key");
    if (failure.too_deep) return malformed("too-deep");
    return malformed("syntax");
  }
  const auto rest = body.substr(static_cast<std::size_t>(input.cur() - body.begin()));
  if (!std::all_of(rest.begin(), rest.end(), is_json_whitespace)) {
    return malformed("trailing-garbage");
  }
  if (!value.is<picojson::object>()) return malformed("not-an-object");
  return value;
}

const picojson::value* FieldReader::find(std::string_view name) const {
  const auto it = object_->find(std::string(name));
  return it == object_->end() ? nullptr : &it->second;
}

void FieldReader::add_error(std::string_view field, std::string_view message) {
  errors_.push_back(FieldError{std::string(field), std::string(message)});
}

std::optional<std::string> FieldReader::string_of(std::string_view name,
                                                  const picojson::value& value,
                                                  const StringRule& rule) {
  assert(rule.code_points_max > 0 && rule.code_points_min <= rule.code_points_max);
  if (!value.is<std::string>()) {
    add_error(name, "must be a string");
    return std::nullopt;
  }
  const std::string& text = value.get<std::string>();
  const std::size_t length = detail::utf8_code_points(text);
  if (length < rule.code_points_min || length > rule.code_points_max) {
    add_error(name, "must be " + std::to_string(rule.code_points_min) + " to " +
                        std::to_string(rule.code_points_max) + " characters long");
    return std::nullopt;
  }
  if (rule.is_valid != nullptr && !rule.is_valid(text)) {
    add_error(name, rule.invalid_message);
    return std::nullopt;
  }
  return text;
}

std::optional<int64_t> FieldReader::int_of(std::string_view name, const picojson::value& value,
                                           int64_t min, int64_t max) {
  // is<int64_t> holds only for integer literals that fit; doubles (fractions, exponents,
  // integers beyond int64) fail here like strings and booleans do.
  if (!value.is<int64_t>()) {
    add_error(name, int_range_message(min, max));
    return std::nullopt;
  }
  const int64_t number = value.get<int64_t>();
  if (number < min || number > max) {
    add_error(name, int_range_message(min, max));
    return std::nullopt;
  }
  return number;
}

std::optional<int64_t> FieldReader::time_of(std::string_view name, const picojson::value& value) {
  if (!value.is<std::string>()) {
    add_error(name, "must be an RFC 3339 time string");
    return std::nullopt;
  }
  Result<int64_t> time_ms = parse_time_ms(value.get<std::string>());
  if (!time_ms.is_ok()) {
    add_error(name, "must be an RFC 3339 time: " + time_ms.status().message());
    return std::nullopt;
  }
  return time_ms.value();
}

std::optional<std::string> FieldReader::required_string(std::string_view name,
                                                        const StringRule& rule) {
  const picojson::value* value = find(name);
  if (value == nullptr) {
    add_error(name, "is required");
    return std::nullopt;
  }
  return string_of(name, *value, rule);
}

std::optional<std::string> FieldReader::optional_string(std::string_view name,
                                                        const StringRule& rule) {
  const picojson::value* value = find(name);
  if (value == nullptr) return std::nullopt;
  return string_of(name, *value, rule);
}

std::optional<std::string> FieldReader::optional_enum(
    std::string_view name, std::initializer_list<std::string_view> allowed) {
  const picojson::value* value = find(name);
  if (value == nullptr) return std::nullopt;
  if (value->is<std::string>()) {
    const std::string& text = value->get<std::string>();
    if (std::find(allowed.begin(), allowed.end(), text) != allowed.end()) return text;
  }
  std::string message = "must be one of";
  const char* separator = " \"";
  for (const std::string_view option : allowed) {
    message += separator;
    message += option;
    message += '"';
    separator = ", \"";
  }
  add_error(name, message);
  return std::nullopt;
}

std::optional<int64_t> FieldReader::required_int(std::string_view name, int64_t min, int64_t max) {
  const picojson::value* value = find(name);
  if (value == nullptr) {
    add_error(name, "is required");
    return std::nullopt;
  }
  return int_of(name, *value, min, max);
}

std::optional<int64_t> FieldReader::optional_int(std::string_view name, int64_t min, int64_t max) {
  const picojson::value* value = find(name);
  if (value == nullptr) return std::nullopt;
  return int_of(name, *value, min, max);
}

NullableField<int64_t> FieldReader::nullable_int(std::string_view name, int64_t min, int64_t max) {
  const picojson::value* value = find(name);
  if (value == nullptr) return {};
  if (value->is<picojson::null>()) return {.present = true, .value = std::nullopt};
  return {.present = true, .value = int_of(name, *value, min, max)};
}

std::optional<bool> FieldReader::optional_bool(std::string_view name) {
  const picojson::value* value = find(name);
  if (value == nullptr) return std::nullopt;
  if (!value->is<bool>()) {
    add_error(name, "must be true or false");
    return std::nullopt;
  }
  return value->get<bool>();
}

std::optional<int64_t> FieldReader::optional_time(std::string_view name) {
  const picojson::value* value = find(name);
  if (value == nullptr) return std::nullopt;
  return time_of(name, *value);
}

NullableField<int64_t> FieldReader::nullable_time(std::string_view name) {
  const picojson::value* value = find(name);
  if (value == nullptr) return {};
  if (value->is<picojson::null>()) return {.present = true, .value = std::nullopt};
  return {.present = true, .value = time_of(name, *value)};
}

void FieldReader::reject_unknown(std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : *object_) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      add_error(key, "unknown field");
    }
  }
}

}  // namespace rsvpd::http

namespace rsvpd::http {
namespace {

bool arrays_equal(const picojson::array& left, const picojson::array& right) {
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i) {
    if (!json_equal(left[i], right[i])) return false;
  }
  return true;
}

bool objects_equal(const picojson::object& left, const picojson::object& right) {
  if (left.size() != right.size()) return false;
  auto l = left.begin();
  auto r = right.begin();
  for (; l != left.end(); ++l, ++r) {  // std::map: both iterate in key order.
    if (l->first != r->first || !json_equal(l->second, r->second)) return false;
  }
  return true;
}

}  // namespace

bool json_equal(const picojson::value& left, const picojson::value& right) {
  // is<int64_t>() is exact; is<double>() is also true for int64, so test int64 first.
  if (left.is<int64_t>() || right.is<int64_t>()) {
    return left.is<int64_t>() && right.is<int64_t>() && left.get<int64_t>() == right.get<int64_t>();
  }
  if (left.is<picojson::null>()) return right.is<picojson::null>();
  if (left.is<bool>()) return right.is<bool>() && left.get<bool>() == right.get<bool>();
  if (left.is<double>()) return right.is<double>() && left.get<double>() == right.get<double>();
  if (left.is<std::string>()) {
    return right.is<std::string>() && left.get<std::string>() == right.get<std::string>();
  }
  if (left.is<picojson::array>()) {
    return right.is<picojson::array>() &&
           arrays_equal(left.get<picojson::array>(), right.get<picojson::array>());
  }
  return right.is<picojson::object>() &&
         objects_equal(left.get<picojson::object>(), right.get<picojson::object>());
}

}  // namespace rsvpd::http
