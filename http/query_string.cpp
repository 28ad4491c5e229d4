#include "http/query_string.h"

#include <algorithm>
#include <cassert>

#include "http/detail/utf8.h"

namespace rsvpd::http {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text` ('+' → space); nullopt for a malformed escape or non-UTF-8 result.
std::optional<std::string> decode_component(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] != '%') {
      out.push_back(text[i]);
    } else {
      if (text.size() - i < 3) return std::nullopt;  // '%' needs two hex digits after it.
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  if (!detail::is_valid_utf8(out)) return std::nullopt;
  return out;
}

}  // namespace

QueryReader::QueryReader(std::string_view raw_query) { parse(raw_query); }

void QueryReader::add_error(std::string_view field, std::string_view message) {
  errors_.push_back(FieldError{std::string(field), std::string(message)});
}

void QueryReader::parse(std::string_view raw_query) {
  if (raw_query.size() > kQueryBytesMax) {
    add_error("query", "is longer than " + std::to_string(kQueryBytesMax) + " bytes");
    return;
  }
  while (!raw_query.empty()) {
    const std::size_t end = std::min(raw_query.find('&'), raw_query.size());
    if (end > 0) parse_piece(raw_query.substr(0, end));
    raw_query.remove_prefix(std::min(end + 1, raw_query.size()));
  }
}

void QueryReader::parse_piece(std::string_view piece) {
  const std::size_t equals = piece.find('=');
  const std::optional<std::string> name = decode_component(piece.substr(0, equals));
  if (!name) return add_error("query", "has a malformed parameter name");
  if (name->empty()) return add_error("query", "has a parameter without a name");
  const auto same = std::find_if(params_.begin(), params_.end(),
                                 [&](const Param& param) { return param.name == *name; });
  if (same != params_.end()) {
    if (!same->failed) add_error(*name, "is given more than once");
    same->failed = true;
    return;
  }
  if (params_.size() == kQueryParamsMax) {
    return add_error("query", "has more than " + std::to_string(kQueryParamsMax) + " parameters");
  }
  const std::string_view raw_value =
      equals == std::string_view::npos ? std::string_view() : piece.substr(equals + 1);
  std::optional<std::string> value = decode_component(raw_value);
  if (!value) add_error(*name, "has a malformed percent escape or is not UTF-8");
  params_.push_back(Param{*name, value ? std::move(*value) : std::string(), !value});
}

std::optional<std::string_view> QueryReader::find(std::string_view name) const {
  for (const Param& param : params_) {
    if (param.name == name) {
      if (param.failed) return std::nullopt;
      return std::string_view(param.value);
    }
  }
  return std::nullopt;
}

std::optional<int64_t> QueryReader::digits_value(std::string_view name, std::string_view text,
                                                 int64_t min, int64_t max) {
  const std::string message =
      "must be an integer from " + std::to_string(min) +
      (max == INT64_MAX ? std::string(" up") : " to " + std::to_string(max));
  const bool digits_only =
      !text.empty() && text.size() <= kQueryIntDigitsMax &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits_only) {
    add_error(name, message);
    return std::nullopt;
  }
  int64_t number = 0;
  for (const char c : text) number = number * 10 + (c - '0');
  if (number < min || number > max) {
    add_error(name, message);
    return std::nullopt;
  }
  return number;
}

int64_t QueryReader::limit(std::string_view name, int64_t default_value, int64_t max) {
  assert(kPageLimitMin <= default_value && default_value <= max);
  const std::optional<std::string_view> text = find(name);
  if (!text) return default_value;
  return digits_value(name, *text, kPageLimitMin, max).value_or(default_value);
}

std::optional<int64_t> QueryReader::non_negative_int(std::string_view name) {
  const std::optional<std::string_view> text = find(name);
  if (!text) return std::nullopt;
  return digits_value(name, *text, 0, INT64_MAX);
}

std::optional<std::string> QueryReader::cursor(std::string_view name) {
  const std::optional<std::string_view> text = find(name);
  if (!text) return std::nullopt;
  const bool printable =
      std::all_of(text->begin(), text->end(), [](char c) { return c > 0x20 && c < 0x7F; });
  if (text->empty() || text->size() > kCursorBytesMax || !printable) {
    add_error(name, "is not a cursor this server handed out");
    return std::nullopt;
  }
  return std::string(*text);
}

std::optional<std::string> QueryReader::enum_value(
    std::string_view name, std::initializer_list<std::string_view> allowed) {
  const std::optional<std::string_view> text = find(name);
  if (!text) return std::nullopt;
  if (std::find(allowed.begin(), allowed.end(), *text) != allowed.end()) return std::string(*text);
  std::string message = "must be one of";
  const char* separator = " ";
  for (const std::string_view option : allowed) {
    message += separator;
    message += option;
    separator = ", ";
  }
  add_error(name, message);
  return std::nullopt;
}

void QueryReader::reject_unknown(std::initializer_list<std::string_view> allowed) {
  for (const Param& param : params_) {
    if (std::find(allowed.begin(), allowed.end(), param.name) == allowed.end()) {
      add_error(param.name, "unknown parameter");
    }
  }
}

}  // namespace rsvpd::http
