#include "http/json_writer.h"

#include <gtest/gtest.h>

#include "http/json_body.h"

namespace rsvpd::http {
namespace {

TEST(JsonWriterTest, BuildsCompactObjectsWithNullableFields) {
  const std::string text = to_json_text(JsonObjectBuilder()
                                            .set("id", json_string("r1"))
                                            .set("guests", json_int(2))
                                            .set("waitlist", json_bool(true))
                                            .set("waitlist_position", json_nullable_int({}))
                                            .set("confirmed_at", json_nullable_time(0))
                                            .set("cancelled_at", json_nullable_time({}))
                                            .set("title", json_nullable_string({}))
                                            .set("host_id", json_nullable_string("h"))
                                            .set("big", json_int(INT64_MIN))
                                            .build());
  EXPECT_EQ(text, R"({"big":-9223372036854775808,"cancelled_at":null,)"
                  R"("confirmed_at":"1970-01-01T00:00:00.000Z","guests":2,"host_id":"h","id":"r1",)"
                  R"("title":null,"waitlist":true,"waitlist_position":null})");
}

TEST(JsonWriterTest, EscapesEverythingThatCouldBreakOut) {
  const std::string hostile = "\"},\"admin\":true,\"x\":\"\\\n\r\t\x01\x7f</script>é";
  const std::string text =
      to_json_text(JsonObjectBuilder().set("title", json_string(hostile)).build());
  // What we wrote parses back, strictly, to exactly the one field we set.
  Result<picojson::value> parsed = parse_json_object(text);
  ASSERT_TRUE(parsed.is_ok()) << text;
  const picojson::object& object = parsed->get<picojson::object>();
  ASSERT_EQ(object.size(), 1u);
  EXPECT_EQ(object.at("title").get<std::string>(), hostile);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.find('\x01'), std::string::npos);
}

TEST(JsonWriterTest, NullAndTimeHelpers) {
  EXPECT_EQ(to_json_text(json_null()), "null");
  EXPECT_EQ(to_json_text(json_time(1796322195123)), "\"2026-12-03T18:23:15.123Z\"");
  EXPECT_EQ(to_json_text(json_nullable_int(7)), "7");
}

}  // namespace
}  // namespace rsvpd::http
