// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace rsvpd::http::detail {

// Returns true when `text` is well-formed UTF-8. Thread-safe, no allocation.
bool is_valid_utf8(std::string_view text) noexcept;

// Number of code points in `text`. REQUIRES: is_valid_utf8(text).
std::size_t utf8_code_points(std::string_view text) noexcept;

}  // namespace rsvpd::http::detail
