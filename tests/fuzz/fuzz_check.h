// What the fuzz targets share: FUZZ_CHECK (a property that must hold; a failure aborts, which
// libFuzzer reports as a crash and saves the input), the test secret and the test clock.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace rsvpd::fuzz {

// The secret and "now" of tests/http/api_test_support.h, so seed tokens minted for the unit
// tests (sub/exp/roles, HS256) verify here too.
inline const std::string kSecret = "0123456789abcdef0123456789abcdef";
inline constexpr int64_t kNowMs = 1796322195123;  // 2026-12-03T18:23:15.123Z

[[noreturn]] inline void fail(const char* condition, const char* file, int line,
                              std::string_view detail) {
  std::fprintf(stderr, "\nFUZZ PROPERTY FAILED: %s\n  at %s:%d\n  %.*s\n", condition, file, line,
               static_cast<int>(detail.size()), detail.data());
  std::abort();
}

}  // namespace rsvpd::fuzz

// A property of the code under test. `detail` (a std::string expression) is only built on failure.
#define FUZZ_CHECK(condition, detail)                                         \
  do {                                                                        \
    if (!(condition)) ::rsvpd::fuzz::fail(#condition, __FILE__, __LINE__, (detail)); \
  } while (false)
