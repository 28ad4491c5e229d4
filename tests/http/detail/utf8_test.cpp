#include "http/detail/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace rsvpd::http::detail {
namespace {

TEST(Utf8Test, AcceptsEveryBoundaryOfTheValidRanges) {
  for (const char* good : {
           "",                  // Empty.
           "\x7f",              // Last 1-byte.
           "\xc2\x80",          // First 2-byte (U+0080).
           "\xdf\xbf",          // Last 2-byte (U+07FF).
           "\xe0\xa0\x80",      // First 3-byte (U+0800).
           "\xed\x9f\xbf",      // U+D7FF, just below the surrogates.
           "\xee\x80\x80",      // U+E000, just above them.
           "\xef\xbf\xbf",      // U+FFFF.
           "\xf0\x90\x80\x80",  // First 4-byte (U+10000).
           "\xf4\x8f\xbf\xbf",  // U+10FFFF, the last code point.
       }) {
    EXPECT_TRUE(is_valid_utf8(good)) << testing::PrintToString(std::string(good));
  }
  EXPECT_TRUE(is_valid_utf8(std::string("a\0b", 3)));  // NUL is a valid code point.
}

TEST(Utf8Test, RejectsJustOutsideEachRange) {
  for (const char* bad : {
           "\x80",                  // Continuation without a lead.
           "\xc1\xbf",              // Overlong U+007F.
           "\xe0\x9f\xbf",          // Overlong U+07FF.
           "\xf0\x8f\xbf\xbf",      // Overlong U+FFFF.
           "\xed\xa0\x80",          // U+D800.
           "\xed\xbf\xbf",          // U+DFFF.
           "\xf4\x90\x80\x80",      // U+110000.
           "\xf5\x80\x80\x80",      // Lead beyond U+10FFFF.
           "\xf8\x88\x80\x80\x80",  // Old 5-byte form.
           "\xc2",                  // Truncated.
           "\xe0\xa0",              // Truncated.
           "\xf0\x90\x80",          // Truncated.
           "\xe0\xa0\x41",          // Bad third byte.
           "\xf0\x90\x80\x41",      // Bad fourth byte.
           "\xfe",
           "\xff",
       }) {
    EXPECT_FALSE(is_valid_utf8(bad)) << testing::PrintToString(std::string(bad));
  }
}

TEST(Utf8Test, CountsCodePoints) {
  EXPECT_EQ(utf8_code_points(""), 0u);
  EXPECT_EQ(utf8_code_points("abc"), 3u);
  EXPECT_EQ(utf8_code_points("caf\xc3\xa9"), 4u);
  EXPECT_EQ(utf8_code_points("\xe2\x82\xac\xf0\x9f\x8e\x89"), 2u);
}

}  // namespace
}  // namespace rsvpd::http::detail
