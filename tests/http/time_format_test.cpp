#include "http/time_format.h"

#include <gtest/gtest.h>

namespace rsvpd::http {
namespace {

constexpr int64_t kExampleMs = 1796322195123;  // 2026-12-03T18:23:15.123Z

int64_t parse_ok(std::string_view text) {
  Result<int64_t> parsed = parse_time_ms(text);
  EXPECT_TRUE(parsed.is_ok()) << text << ": " << parsed.status().to_string();
  return parsed.is_ok() ? parsed.value() : 0;
}

TEST(TimeFormatTest, FormatsUtcWithMilliseconds) {
  EXPECT_EQ(format_time_ms(kExampleMs), "2026-12-03T18:23:15.123Z");
  EXPECT_EQ(format_time_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time_ms(951782400000), "2000-02-29T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(kTimeMsMin), "0000-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(kTimeMsMax), "9999-12-31T23:59:59.999Z");
}

TEST(TimeFormatTest, ParsesWhatItFormats) {
  for (const int64_t ms : {kExampleMs, int64_t{0}, int64_t{-1}, int64_t{951782400000}, kTimeMsMin,
                           kTimeMsMax, int64_t{1234567890001}}) {
    EXPECT_EQ(parse_ok(format_time_ms(ms)), ms) << ms;
  }
}

TEST(TimeFormatTest, AcceptsOffsetsFractionsAndLowercase) {
  EXPECT_EQ(parse_ok("2026-12-03T18:23:15Z"), kExampleMs - 123);
  EXPECT_EQ(parse_ok("2026-12-03T18:23:15.1Z"), kExampleMs - 23);
  EXPECT_EQ(parse_ok("2026-12-03T18:23:15.12Z"), kExampleMs - 3);
  EXPECT_EQ(parse_ok("2026-12-03T18:23:15.123999999Z"), kExampleMs);  // Truncated, not rounded.
  EXPECT_EQ(parse_ok("2026-12-03t18:23:15.123z"), kExampleMs);
  EXPECT_EQ(parse_ok("2026-12-03T19:23:15.123+01:00"), kExampleMs);
  EXPECT_EQ(parse_ok("2026-12-03T13:53:15.123-04:30"), kExampleMs);
  EXPECT_EQ(parse_ok("2026-12-04T00:23:15.123+06:00"), kExampleMs);  // Crosses midnight.
  EXPECT_EQ(parse_ok("2026-12-03T18:23:15.123-00:00"), kExampleMs);
}

TEST(TimeFormatTest, RejectsGarbageAndImpossibleValues) {
  for (const char* bad : {"",
                          "now",
                          "2026-12-03",
                          "2026-12-03T18:23Z",
                          "2026-12-03 18:23:15Z",
                          "2026-12-03T18:23:15",
                          "2026-12-03T18:23:15.Z",
                          "2026-12-03T18:23:15.1234567890Z",
                          "2026-12-03T18:23:15+0100",
                          "2026-12-03T18:23:15+01",
                          "2026-12-03T18:23:15+24:00",
                          "2026-12-03T18:23:15+01:60",
                          "2026-13-03T18:23:15Z",
                          "2026-00-03T18:23:15Z",
                          "2026-02-29T00:00:00Z",
                          "2026-04-31T00:00:00Z",
                          "2026-12-00T00:00:00Z",
                          "2026-12-03T24:00:00Z",
                          "2026-12-03T18:60:00Z",
                          "2026-12-03T18:23:60Z",
                          "2026-12-03T18:23:15ZZ",
                          "2026-12-03T18:23:15Z ",
                          " 2026-12-03T18:23:15Z",
                          "+2026-12-03T18:23:15Z",
                          "26-12-03T18:23:15Z",
                          "2026-1-03T18:23:15Z",
                          "2026-12-03T18:23:1.5Z",
                          "2026-12-03T18:23:15,123Z",
                          "２026-12-03T18:23:15Z",
                          "0000-01-01T00:00:00+00:01",
                          "9999-12-31T23:59:59-00:01"}) {
    Result<int64_t> parsed = parse_time_ms(bad);
    EXPECT_FALSE(parsed.is_ok()) << bad;
    if (!parsed.is_ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
    }
  }
  EXPECT_FALSE(parse_time_ms(std::string(kTimeTextBytesMax + 1, '1')).is_ok());
}

TEST(TimeFormatTest, AcceptsLeapDaysAndCenturyRules) {
  EXPECT_TRUE(parse_time_ms("2024-02-29T00:00:00Z").is_ok());
  EXPECT_TRUE(parse_time_ms("2000-02-29T00:00:00Z").is_ok());
  EXPECT_FALSE(parse_time_ms("1900-02-29T00:00:00Z").is_ok());
}

}  // namespace
}  // namespace rsvpd::http
