// A picojson parse context that builds values like picojson::default_parse_context but rejects
// duplicate object keys and nesting deeper than a limit (DESIGN.md §4: picojson keeps the last
// duplicate; its default context also never counts object depth). Internal to json_body.cpp.
#pragma once

#include <picojson.h>

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>

namespace rsvpd::http::detail {

// Why a parse stopped, beyond what picojson reports. Shared by the contexts of one parse.
struct StrictJsonFailure {
  bool duplicate_key = false;
  bool too_deep = false;
  std::string key;  // The duplicate key, for the log reason.
};

class StrictJsonContext {
 public:
  // `depth_remaining`: how many more arrays/objects may open below this value.
  StrictJsonContext(picojson::value* out, std::size_t depth_remaining, StrictJsonFailure* failure)
      : out_(out), depth_remaining_(depth_remaining), failure_(failure) {}
  StrictJsonContext(const StrictJsonContext&) = delete;
  StrictJsonContext& operator=(const StrictJsonContext&) = delete;

  bool set_null() {
    *out_ = picojson::value();
    return true;
  }
  bool set_bool(bool b) {
    *out_ = picojson::value(b);
    return true;
  }
  bool set_int64(int64_t i) {
    *out_ = picojson::value(i);
    return true;
  }
  // Numbers that are not int64 literals: fractions, exponents and integers beyond int64.
  // picojson::value throws on infinities, so values beyond double's range (1e999) are kept as
  // ±max double: no integer field accepts any double, so they still fail as "not an integer".
  bool set_number(double f) {
    if (std::isnan(f)) return false;
    if (std::isinf(f)) f = std::copysign(std::numeric_limits<double>::max(), f);
    *out_ = picojson::value(f);
    return true;
  }
  template <typename Iter>
  bool parse_string(picojson::input<Iter>& in) {
    *out_ = picojson::value(picojson::string_type, false);
    return picojson::_parse_string(out_->get<std::string>(), in);
  }
  bool parse_array_start() {
    if (!enter()) return false;
    *out_ = picojson::value(picojson::array_type, false);
    return true;
  }
  template <typename Iter>
  bool parse_array_item(picojson::input<Iter>& in, std::size_t) {
    picojson::array& array = out_->get<picojson::array>();
    array.push_back(picojson::value());
    StrictJsonContext child(&array.back(), depth_remaining_, failure_);
    return picojson::_parse(child, in);
  }
  bool parse_array_stop(std::size_t) { return true; }
  bool parse_object_start() {
    if (!enter()) return false;
    *out_ = picojson::value(picojson::object_type, false);
    return true;
  }
  template <typename Iter>
  bool parse_object_item(picojson::input<Iter>& in, const std::string& key) {
    picojson::object& object = out_->get<picojson::object>();
    const auto [slot, inserted] = object.try_emplace(key);
    if (!inserted) {
      failure_->duplicate_key = true;
      failure_->key = key;
      return false;
    }
    StrictJsonContext child(&slot->second, depth_remaining_, failure_);
    return picojson::_parse(child, in);
  }
  bool parse_object_stop() { return true; }

 private:
  // Each context is one value, so the depth is consumed once per container and never restored.
  bool enter() {
    if (depth_remaining_ == 0) {
      failure_->too_deep = true;
      return false;
    }
    --depth_remaining_;
    return true;
  }

  picojson::value* out_;
  std::size_t depth_remaining_;
  StrictJsonFailure* failure_;
};

}  // namespace rsvpd::http::detail
