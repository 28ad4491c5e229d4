// fuzz_json_body: the strict JSON body check (http/json_body.*, detail/strict_json_context.h,
// detail/utf8.*) on arbitrary bytes.
//
// Properties:
//   - parse_json_object agrees with an independent reference parser written here from RFC 8259
//     and RFC 3629 plus the documented extras (one object at the top, no duplicate keys after
//     unescaping, depth <= kJsonDepthMax, at most kJsonBodyBytesMax bytes; an integer literal
//     that fits int64 is an int64, every other number a double, ±inf kept as ±max double): the
//     same accept/reject decision and, when accepted, the same value (json_equal).
//   - a failure reason is one of the documented ones;
//   - the canonical text (to_json_text, what the idempotency fingerprint is) parses back to the
//     same value, except that an integral double may come back as the equal int64 (picojson
//     prints 1.0 as "1"), and printing that again is a fixed point;
//   - FieldReader's typed getters agree with the value's type and range on every key, and its
//     errors render as a problem body (json_string asserts UTF-8) that is strict JSON again;
//   - utf8_code_points counts what the reference decoder counts; a time string that parses
//     formats back to the same instant.
#include <picojson.h>

#include <cerrno>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "http/detail/utf8.h"
#include "http/json_body.h"
#include "http/json_writer.h"
#include "http/problem.h"
#include "http/time_format.h"
#include "tests/fuzz/fuzz_check.h"

namespace rsvpd::http {
namespace {

// ---- Reference: an independent strict parser ------------------------------------------------

// Decodes one UTF-8 sequence by arithmetic (not by the lead-byte table of detail/utf8.cpp) and
// returns its length, or 0 when it is malformed, overlong, a surrogate or above U+10FFFF.
std::size_t reference_utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[i + k]); };
  std::size_t length = 0;
  uint32_t code_point = 0;
  if (byte(0) < 0x80) return 1;
  if ((byte(0) & 0xE0) == 0xC0) {
    length = 2;
    code_point = byte(0) & 0x1F;
  } else if ((byte(0) & 0xF0) == 0xE0) {
    length = 3;
    code_point = byte(0) & 0x0F;
  } else if ((byte(0) & 0xF8) == 0xF0) {
    length = 4;
    code_point = byte(0) & 0x07;
  } else {
    return 0;
  }
  if (text.size() - i < length) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(k) & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code_point < kSmallest[length]) return 0;  // Overlong.
  if (code_point >= 0xD800 && code_point <= 0xDFFF) return 0;
  if (code_point > 0x10FFFF) return 0;
  return length;
}

std::optional<std::size_t> reference_code_points(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    const std::size_t length = reference_utf8_sequence(text, i);
    if (length == 0) return std::nullopt;
    i += length;
  }
  return count;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

class ReferenceParser {
 public:
  explicit ReferenceParser(std::string_view text) : text_(text) {}

  // The value of `text` under the documented rules, or nullopt when it must be refused.
  std::optional<picojson::value> parse() {
    if (text_.size() > kJsonBodyBytesMax) return std::nullopt;
    if (!reference_code_points(text_)) return std::nullopt;
    skip_whitespace();
    if (peek() != '{') return std::nullopt;
    picojson::value value;
    if (!parse_value(value, 0)) return std::nullopt;
    skip_whitespace();
    if (position_ != text_.size()) return std::nullopt;
    return value;
  }

 private:
  int peek() const {
    return position_ < text_.size() ? static_cast<unsigned char>(text_[position_]) : -1;
  }
  bool take(char expected) {
    if (peek() != static_cast<unsigned char>(expected)) return false;
    ++position_;
    return true;
  }
  void skip_whitespace() {
    while (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r') ++position_;
  }
  bool take_word(std::string_view word) {
    if (text_.substr(position_, word.size()) != word) return false;
    position_ += word.size();
    return true;
  }

  // `depth`: containers already open around this value.
  bool parse_value(picojson::value& out, std::size_t depth) {
    skip_whitespace();
    const int c = peek();
    if (c == '{') return parse_object(out, depth + 1);
    if (c == '[') return parse_array(out, depth + 1);
    if (c == '"') {
      std::string text;
      if (!parse_string(text)) return false;
      out = picojson::value(std::move(text));
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(out);
    if (take_word("true")) return out = picojson::value(true), true;
    if (take_word("false")) return out = picojson::value(false), true;
    if (take_word("null")) return out = picojson::value(), true;
    return false;
  }

  bool parse_object(picojson::value& out, std::size_t depth) {
    if (depth > kJsonDepthMax) return false;
    ++position_;  // '{'
    picojson::object object;
    skip_whitespace();
    if (!take('}')) {
      while (true) {
        skip_whitespace();
        std::string key;
        if (peek() != '"' || !parse_string(key)) return false;
        skip_whitespace();
        if (!take(':')) return false;
        if (object.count(key) != 0) return false;  // Duplicate after unescaping.
        if (!parse_value(object[key], depth)) return false;
        skip_whitespace();
        if (take('}')) break;
        if (!take(',')) return false;
      }
    }
    out = picojson::value(std::move(object));
    return true;
  }

  bool parse_array(picojson::value& out, std::size_t depth) {
    if (depth > kJsonDepthMax) return false;
    ++position_;  // '['
    picojson::array array;
    skip_whitespace();
    if (!take(']')) {
      while (true) {
        array.emplace_back();
        if (!parse_value(array.back(), depth)) return false;
        skip_whitespace();
        if (take(']')) break;
        if (!take(',')) return false;
      }
    }
    out = picojson::value(std::move(array));
    return true;
  }

  std::optional<uint32_t> hex4() {
    if (text_.size() - position_ < 4) return std::nullopt;
    uint32_t value = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = text_[position_++];
      uint32_t digit = 0;
      if (c >= '0' && c <= '9') {
        digit = static_cast<uint32_t>(c - '0');
      } else if (c >= 'a' && c <= 'f') {
        digit = static_cast<uint32_t>(c - 'a' + 10);
      } else if (c >= 'A' && c <= 'F') {
        digit = static_cast<uint32_t>(c - 'A' + 10);
      } else {
        return std::nullopt;
      }
      value = value * 16 + digit;
    }
    return value;
  }

  bool parse_string(std::string& out) {
    ++position_;  // '"'
    while (true) {
      const int c = peek();
      if (c < 0x20) return false;  // End of input or a raw control character.
      ++position_;
      if (c == '"') return true;
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      const int escape = peek();
      ++position_;
      switch (escape) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const std::optional<uint32_t> unit = hex4();
          if (!unit) return false;
          uint32_t code_point = *unit;
          if (code_point >= 0xDC00 && code_point <= 0xDFFF) return false;  // Lone low half.
          if (code_point >= 0xD800 && code_point <= 0xDBFF) {
            if (!take('\\') || !take('u')) return false;
            const std::optional<uint32_t> low = hex4();
            if (!low || *low < 0xDC00 || *low > 0xDFFF) return false;
            code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
          }
          append_utf8(out, code_point);
          break;
        }
        default: return false;
      }
    }
  }

  bool digits() {
    const std::size_t start = position_;
    while (peek() >= '0' && peek() <= '9') ++position_;
    return position_ > start;
  }

  bool parse_number(picojson::value& out) {
    const std::size_t start = position_;
    take('-');
    if (take('0')) {
      // No leading zeros: a digit may not follow.
    } else if (!digits()) {
      return false;
    }
    bool integer = true;
    if (take('.')) {
      integer = false;
      if (!digits()) return false;
    }
    if (take('e') || take('E')) {
      integer = false;
      if (!take('+')) take('-');
      if (!digits()) return false;
    }
    // JSON never lets a number run into another number character ("01", "1.2.3", "1e5e5").
    const int next = peek();
    if ((next >= '0' && next <= '9') || next == '.' || next == 'e' || next == 'E' ||
        next == '+' || next == '-') {
      return false;
    }
    const std::string token(text_.substr(start, position_ - start));
    if (integer) {
      errno = 0;
      char* end = nullptr;
      const long long value = std::strtoll(token.c_str(), &end, 10);
      if (errno == 0 && end == token.c_str() + token.size()) {
        out = picojson::value(static_cast<int64_t>(value));
        return true;
      }
    }
    double value = std::strtod(token.c_str(), nullptr);
    if (std::isinf(value)) value = std::copysign(std::numeric_limits<double>::max(), value);
    out = picojson::value(value);
    return true;
  }

  std::string_view text_;
  std::size_t position_ = 0;
};

// ---- Properties -------------------------------------------------------------------------------

std::string describe(std::string_view body) {
  std::string text(body.substr(0, 200));
  return "body (" + std::to_string(body.size()) + " bytes): " + text;
}

// json_equal, except that an integral double on the left may be the equal int64 on the right.
bool equal_after_printing(const picojson::value& before, const picojson::value& after) {
  if (before.is<picojson::array>()) {
    if (!after.is<picojson::array>()) return false;
    const auto& left = before.get<picojson::array>();
    const auto& right = after.get<picojson::array>();
    if (left.size() != right.size()) return false;
    for (std::size_t i = 0; i < left.size(); ++i) {
      if (!equal_after_printing(left[i], right[i])) return false;
    }
    return true;
  }
  if (before.is<picojson::object>()) {
    if (!after.is<picojson::object>()) return false;
    const auto& left = before.get<picojson::object>();
    const auto& right = after.get<picojson::object>();
    if (left.size() != right.size()) return false;
    for (auto l = left.begin(), r = right.begin(); l != left.end(); ++l, ++r) {
      if (l->first != r->first || !equal_after_printing(l->second, r->second)) return false;
    }
    return true;
  }
  if (!before.is<int64_t>() && before.is<double>() && after.is<int64_t>()) {
    const double d = before.get<double>();
    const int64_t i = after.get<int64_t>();
    return std::fabs(d) < 9.2e18 && d == std::trunc(d) && static_cast<int64_t>(d) == i;
  }
  return json_equal(before, after);
}

void check_strings_are_utf8(const picojson::value& value, std::string_view body) {
  if (value.is<std::string>()) {
    FUZZ_CHECK(detail::is_valid_utf8(value.get<std::string>()), describe(body));
  } else if (value.is<picojson::array>()) {
    for (const picojson::value& item : value.get<picojson::array>()) {
      check_strings_are_utf8(item, body);
    }
  } else if (value.is<picojson::object>()) {
    for (const auto& [key, item] : value.get<picojson::object>()) {
      FUZZ_CHECK(detail::is_valid_utf8(key), describe(body));
      check_strings_are_utf8(item, body);
    }
  }
}

void check_round_trip(const picojson::value& value, std::string_view body) {
  const std::string text = to_json_text(value);
  if (text.size() > kJsonBodyBytesMax) return;  // "\/" and "\u007f" make the text longer.
  Result<picojson::value> again = parse_json_object(text);
  FUZZ_CHECK(again.is_ok(), describe(body) + "\ncanonical text refused: " + text);
  FUZZ_CHECK(equal_after_printing(value, again.value()),
             describe(body) + "\ncanonical text changed the value: " + text);
  const std::string text_again = to_json_text(again.value());
  Result<picojson::value> third = parse_json_object(text_again);
  FUZZ_CHECK(third.is_ok() && json_equal(again.value(), third.value()) &&
                 to_json_text(third.value()) == text_again,
             describe(body) + "\nprinting is not a fixed point: " + text_again);
}

void check_field_reader(const picojson::object& object, std::string_view body) {
  FieldReader reader(object);
  const StringRule rule{1, 8, nullptr, "is invalid"};
  std::size_t expected_errors = 0;
  for (const auto& [key, value] : object) {
    const std::optional<int64_t> number = reader.optional_int(key, -5, 1000);
    const bool int_ok =
        value.is<int64_t>() && value.get<int64_t>() >= -5 && value.get<int64_t>() <= 1000;
    FUZZ_CHECK(number.has_value() == int_ok, describe(body) + "\nkey " + key);
    if (number) FUZZ_CHECK(*number == value.get<int64_t>(), describe(body));
    expected_errors += int_ok ? 0 : 1;

    const std::optional<std::string> text = reader.optional_string(key, rule);
    bool string_ok = false;
    if (value.is<std::string>()) {
      const std::optional<std::size_t> count = reference_code_points(value.get<std::string>());
      FUZZ_CHECK(count.has_value(), describe(body));
      FUZZ_CHECK(detail::utf8_code_points(value.get<std::string>()) == *count, describe(body));
      string_ok = *count >= 1 && *count <= 8;
    }
    FUZZ_CHECK(text.has_value() == string_ok, describe(body) + "\nkey " + key);
    expected_errors += string_ok ? 0 : 1;

    const NullableField<int64_t> nullable = reader.nullable_int(key, 0, 10);
    FUZZ_CHECK(nullable.present, describe(body));
    if (value.is<picojson::null>()) {
      FUZZ_CHECK(nullable.is_null(), describe(body));
    } else {
      const bool small =
          value.is<int64_t>() && value.get<int64_t>() >= 0 && value.get<int64_t>() <= 10;
      FUZZ_CHECK(nullable.value.has_value() == small, describe(body) + "\nkey " + key);
      expected_errors += small ? 0 : 1;
    }

    const std::optional<int64_t> time = reader.optional_time(key);
    if (time) {
      FUZZ_CHECK(value.is<std::string>(), describe(body));
      FUZZ_CHECK(*time >= kTimeMsMin && *time <= kTimeMsMax, describe(body));
      const std::string formatted = format_time_ms(*time);
      Result<int64_t> back = parse_time_ms(formatted);
      FUZZ_CHECK(back.is_ok() && back.value() == *time, describe(body) + "\n" + formatted);
    } else {
      ++expected_errors;
    }

    const std::optional<bool> flag = reader.optional_bool(key);
    FUZZ_CHECK(flag.has_value() == value.is<bool>(), describe(body));
    expected_errors += flag ? 0 : 1;
  }
  reader.reject_unknown({"capacity", "guests"});
  expected_errors += object.size() - object.count("capacity") - object.count("guests");
  FUZZ_CHECK(reader.errors().size() == expected_errors, describe(body));
  if (reader.ok()) return;
  // What the endpoints do with the errors: a 422 body, which must be strict JSON again.
  const std::string problem = problem_body_json(invalid_field_problem(reader.errors()), "req-1");
  picojson::value parsed;
  FUZZ_CHECK(picojson::parse(parsed, problem).empty() && parsed.is<picojson::object>(),
             describe(body) + "\nproblem body: " + problem.substr(0, 200));
}

}  // namespace
}  // namespace rsvpd::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace rsvpd::http;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  rsvpd::Result<picojson::value> parsed = parse_json_object(body);
  const std::optional<picojson::value> expected = ReferenceParser(body).parse();
  FUZZ_CHECK(parsed.is_ok() == expected.has_value(),
             describe(body) + "\nlibrary: " +
                 (parsed.is_ok() ? std::string("accepted") : parsed.status().message()) +
                 ", reference: " + (expected ? "accepted" : "refused"));
  if (!parsed.is_ok()) {
    const std::string& reason = parsed.status().message();
    FUZZ_CHECK(parsed.status().code() == rsvpd::StatusCode::kInvalidArgument, reason);
    FUZZ_CHECK(reason == "too-large" || reason == "bad-utf8" || reason == "bad-number" ||
                   reason == "syntax" || reason == "duplicate-key" || reason == "too-deep" ||
                   reason == "trailing-garbage" || reason == "not-an-object",
               reason);
    return 0;
  }
  const picojson::value& value = parsed.value();
  FUZZ_CHECK(value.is<picojson::object>(), describe(body));
  FUZZ_CHECK(json_equal(value, *expected), describe(body) + "\nlibrary: " + to_json_text(value) +
                                               "\nreference: " + to_json_text(*expected));
  FUZZ_CHECK(json_equal(value, value), describe(body));
  check_strings_are_utf8(value, body);
  check_round_trip(value, body);
  check_field_reader(value.get<picojson::object>(), body);
  return 0;
}
