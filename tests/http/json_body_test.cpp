#include "http/json_body.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "http/identifiers.h"

namespace rsvpd::http {
namespace {

std::string reason_of(std::string_view body) {
  Result<picojson::value> parsed = parse_json_object(body);
  if (parsed.is_ok()) return "ok";
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  return parsed.status().message();
}

std::string nested_arrays(std::size_t depth) {
  return "{\"a\":" + std::string(depth - 1, '[') + std::string(depth - 1, ']') + "}";
}

TEST(ParseJsonObjectTest, AcceptsAnObjectWithSurroundingWhitespace) {
  Result<picojson::value> parsed = parse_json_object(" \r\n\t{\"a\": [1, {\"b\": null}]}\n ");
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_TRUE(parsed->is<picojson::object>());
}

TEST(ParseJsonObjectTest, RejectsDuplicateKeysAtEveryLevel) {
  EXPECT_EQ(reason_of(R"({"guests":1,"guests":2})"), "duplicate-key");
  EXPECT_EQ(reason_of(R"({"a":{"x":1,"y":2,"x":1}})"), "duplicate-key");
  EXPECT_EQ(reason_of(R"({"a":[{"k":1},{"k":2,"k":3}]})"), "duplicate-key");
  // The same key spelled with an escape is the same key once decoded.
  EXPECT_EQ(reason_of(R"({"id":"a","\u0069d":"b"})"), "duplicate-key");
  EXPECT_EQ(reason_of(R"({"a":{"k":1},"b":{"k":1}})"), "ok");
}

TEST(ParseJsonObjectTest, RejectsInvalidUtf8OfEveryClass) {
  EXPECT_EQ(reason_of("{\"t\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\x89\"}"), "ok");
  const char* bad_strings[] = {
      "\x80",              // A lone continuation byte.
      "\xc3",              // Truncated 2-byte sequence.
      "\xe2\x82",          // Truncated 3-byte sequence.
      "\xc0\xaf",          // Overlong '/' (2 bytes).
      "\xc1\xbf",          // Overlong (C1 lead).
      "\xe0\x80\xaf",      // Overlong '/' (3 bytes).
      "\xf0\x80\x80\xaf",  // Overlong '/' (4 bytes).
      "\xed\xa0\x80",      // UTF-16 surrogate U+D800.
      "\xed\xbf\xbf",      // UTF-16 surrogate U+DFFF.
      "\xf4\x90\x80\x80",  // U+110000, beyond Unicode.
      "\xf5\x80\x80\x80",  // F5 lead.
      "\xff",              // Never valid.
      "\xc3\x28",          // Bad continuation.
  };
  for (const char* bad : bad_strings) {
    EXPECT_EQ(reason_of(std::string("{\"t\":\"") + bad + "\"}"), "bad-utf8") << bad;
  }
  EXPECT_EQ(reason_of("{\"k\xff\":1}"), "bad-utf8");  // In a key.
  EXPECT_EQ(reason_of("{\"k\":1}\xff"), "bad-utf8");  // Outside any string.
}

TEST(ParseJsonObjectTest, RejectsEscapedLoneSurrogates) {
  EXPECT_EQ(reason_of(R"({"t":"\ud83c\udf89"})"), "ok");
  EXPECT_EQ(reason_of(R"({"t":"\ud800"})"), "syntax");
  EXPECT_EQ(reason_of(R"({"t":"\udc00"})"), "syntax");
  EXPECT_EQ(reason_of(R"({"t":"\ud800\u0041"})"), "syntax");
}

TEST(ParseJsonObjectTest, RejectsWhatIsNotOneObject) {
  EXPECT_EQ(reason_of(""), "syntax");
  EXPECT_EQ(reason_of("   "), "syntax");
  EXPECT_EQ(reason_of("nope"), "syntax");
  EXPECT_EQ(reason_of("[1,2]"), "not-an-object");
  EXPECT_EQ(reason_of("\"text\""), "not-an-object");
  EXPECT_EQ(reason_of("42"), "not-an-object");
  EXPECT_EQ(reason_of("null"), "not-an-object");
  EXPECT_EQ(reason_of("{\"a\":1"), "syntax");
  EXPECT_EQ(reason_of("{\"a\":1,}"), "syntax");
  EXPECT_EQ(reason_of("{'a':1}"), "syntax");
  EXPECT_EQ(reason_of("{\"a\":\"raw\ttab\"}"), "syntax");
  EXPECT_EQ(reason_of("\xef\xbb\xbf{}"), "syntax");  // A byte order mark is not whitespace.
}

TEST(ParseJsonObjectTest, RejectsTrailingGarbage) {
  EXPECT_EQ(reason_of("{} {}"), "trailing-garbage");
  EXPECT_EQ(reason_of("{}x"), "trailing-garbage");
  EXPECT_EQ(reason_of(std::string("{}\0", 3)), "trailing-garbage");
  EXPECT_EQ(reason_of("{}\n"), "ok");
}

TEST(ParseJsonObjectTest, LimitsNestingDepth) {
  EXPECT_EQ(reason_of(nested_arrays(kJsonDepthMax)), "ok");
  EXPECT_EQ(reason_of(nested_arrays(kJsonDepthMax + 1)), "too-deep");
  std::string objects;
  for (std::size_t i = 0; i < kJsonDepthMax; ++i) objects += "{\"a\":";
  EXPECT_EQ(reason_of(objects + "1" + std::string(kJsonDepthMax, '}')), "ok");
  EXPECT_EQ(reason_of("{\"a\":" + objects + "1" + std::string(kJsonDepthMax + 1, '}')), "too-deep");
  // Siblings do not add up: depth is per path, not per document.
  std::string siblings = "{\"a\":[";
  for (int i = 0; i < 100; ++i) siblings += std::string(i ? "," : "") + "[[]]";
  EXPECT_EQ(reason_of(siblings + "]}"), "ok");
}

TEST(ParseJsonObjectTest, RejectsNumbersOutsideTheJsonGrammar) {
  for (const char* bad : {"01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "1.e3", "--1", "0x10",
                          "1e5e5", "Infinity", "NaN"}) {
    EXPECT_NE(reason_of(std::string("{\"n\":") + bad + "}"), "ok") << bad;
  }
  for (const char* good : {"0", "-0", "10", "1.5", "1e3", "1E+3", "-2.5e-3", "0.0"}) {
    EXPECT_EQ(reason_of(std::string("{\"n\":") + good + "}"), "ok") << good;
  }
  // Digits inside strings are not number tokens.
  EXPECT_EQ(reason_of(R"({"n":"01.","m":"\"1."})"), "ok");
}

TEST(ParseJsonObjectTest, RefusesBodiesOverTheSizeLimit) {
  const std::string padding(kJsonBodyBytesMax, ' ');
  EXPECT_EQ(reason_of("{}" + padding.substr(2)), "ok");
  EXPECT_EQ(reason_of("{}" + padding), "too-large");
}

TEST(ParseJsonObjectTest, ShowsWhatPicojsonMakesOfNumbers) {
  Result<picojson::value> parsed = parse_json_object(
      R"({"int":9223372036854775807,"min":-9223372036854775808,"over":9223372036854775808,)"
      R"("under":-9223372036854775809,"frac":1.0,"exp":1e3,"huge":1e999})");
  ASSERT_TRUE(parsed.is_ok());
  const picojson::object& object = parsed->get<picojson::object>();
  EXPECT_TRUE(object.at("int").is<int64_t>());
  EXPECT_EQ(object.at("int").get<int64_t>(), INT64_MAX);
  EXPECT_TRUE(object.at("min").is<int64_t>());
  // Beyond int64, strtoimax reports ERANGE and picojson falls back to strtod: a double.
  EXPECT_FALSE(object.at("over").is<int64_t>());
  EXPECT_FALSE(object.at("under").is<int64_t>());
  EXPECT_FALSE(object.at("frac").is<int64_t>());
  EXPECT_FALSE(object.at("exp").is<int64_t>());
  EXPECT_FALSE(object.at("huge").is<int64_t>());  // Would throw in picojson; we clamp.
}

picojson::value parse_ok(std::string_view body) {
  Result<picojson::value> parsed = parse_json_object(body);
  EXPECT_TRUE(parsed.is_ok()) << body << ": " << parsed.status().to_string();
  return parsed.is_ok() ? parsed.value() : picojson::value(picojson::object());
}

TEST(FieldReaderTest, ReadsValidFields) {
  const picojson::value body =
      parse_ok(R"({"id":"yoga-1","title":"Caf\u00e9 yoga","capacity":20,"waitlist":false,)"
               R"("status":"closed","rsvp_opens_at":"2026-12-03T18:23:15.123Z"})");
  FieldReader reader(body.get<picojson::object>());
  EXPECT_EQ(reader.optional_string(
                "id", {.code_points_min = 1, .code_points_max = 64, .is_valid = is_valid_id}),
            "yoga-1");
  EXPECT_EQ(reader.optional_string("title", {.code_points_max = 10}), "Caf\xc3\xa9 yoga");
  EXPECT_EQ(reader.required_int("capacity", 1, 1000000), 20);
  EXPECT_EQ(reader.optional_bool("waitlist"), false);
  EXPECT_EQ(reader.optional_enum("status", {"open", "closed", "archived"}), "closed");
  EXPECT_EQ(reader.optional_time("rsvp_opens_at"), 1796322195123);
  EXPECT_EQ(reader.optional_int("max_guests", 0, 100), std::nullopt);
  reader.reject_unknown({"id", "title", "capacity", "waitlist", "status", "rsvp_opens_at"});
  EXPECT_TRUE(reader.ok());
}

TEST(FieldReaderTest, IntFieldsRejectEverythingButIntegerLiteralsInRange) {
  const picojson::value body =
      parse_ok(R"({"string":"1","fraction":1.5,"whole_double":1.0,"exponent":1e3,"bool":true,)"
               R"("null":null,"array":[1],"object":{},"over":9223372036854775808,)"
               R"("huge":123456789012345678901234567890,"low":0,"high":101,"ok":100,"neg":-1})");
  FieldReader reader(body.get<picojson::object>());
  for (const char* name : {"string", "fraction", "whole_double", "exponent", "bool", "null",
                           "array", "object", "over", "huge", "low", "high"}) {
    EXPECT_EQ(reader.optional_int(name, 1, 100), std::nullopt) << name;
  }
  EXPECT_EQ(reader.optional_int("ok", 1, 100), 100);
  EXPECT_EQ(reader.optional_int("neg", -1, 0), -1);
  ASSERT_EQ(reader.errors().size(), 12u);
  EXPECT_EQ(reader.errors()[0], (FieldError{"string", "must be an integer from 1 to 100"}));
  EXPECT_EQ(reader.errors()[8].field, "over");
  EXPECT_EQ(reader.errors()[9].field, "huge");
}

TEST(FieldReaderTest, RequiredFieldsReportAbsence) {
  const picojson::value body = parse_ok("{}");
  FieldReader reader(body.get<picojson::object>());
  EXPECT_EQ(reader.required_int("capacity", 1, 10), std::nullopt);
  EXPECT_EQ(reader.required_string("activity_id", {.code_points_min = 1, .code_points_max = 64}),
            std::nullopt);
  EXPECT_EQ(reader.errors(),
            (std::vector<FieldError>{{"capacity", "is required"}, {"activity_id", "is required"}}));
}

TEST(FieldReaderTest, StringRulesCheckTypeLengthInCodePointsAndFormat) {
  const picojson::value body =
      parse_ok(R"({"n":5,"empty":"","long":"ééé","bad_id":"a b","null":null,"ok":"ééé"})");
  FieldReader reader(body.get<picojson::object>());
  const StringRule rule{.code_points_min = 1,
                        .code_points_max = 3,
                        .is_valid = is_valid_id,
                        .invalid_message = "must match ^[A-Za-z0-9._:-]{1,64}$"};
  const StringRule title_rule{.code_points_min = 1, .code_points_max = 3};
  EXPECT_EQ(reader.optional_string("n", rule), std::nullopt);
  EXPECT_EQ(reader.optional_string("empty", rule), std::nullopt);
  EXPECT_EQ(reader.optional_string("long", {.code_points_max = 2}), std::nullopt);
  EXPECT_EQ(reader.optional_string("bad_id", rule), std::nullopt);
  EXPECT_EQ(reader.optional_string("null", rule), std::nullopt);
  EXPECT_EQ(reader.optional_string("ok", title_rule), "ééé");  // 3 code points, 6 bytes.
  ASSERT_EQ(reader.errors().size(), 5u);
  EXPECT_EQ(reader.errors()[0].message, "must be a string");
  EXPECT_EQ(reader.errors()[1].message, "must be 1 to 3 characters long");
  EXPECT_EQ(reader.errors()[3].message, "must match ^[A-Za-z0-9._:-]{1,64}$");
  EXPECT_EQ(reader.errors()[4].message, "must be a string");
}

TEST(FieldReaderTest, NullableFieldsTellAbsentFromNullFromValue) {
  const picojson::value body =
      parse_ok(R"({"limit_null":null,"limit":5,"limit_bad":0,"time_null":null,)"
               R"("time":"2026-12-03T19:23:15.123+01:00","time_bad":"tomorrow","time_num":5})");
  FieldReader reader(body.get<picojson::object>());
  const NullableField<int64_t> absent = reader.nullable_int("missing", 1, 10);
  EXPECT_FALSE(absent.present);
  EXPECT_FALSE(absent.is_null());
  const NullableField<int64_t> null_limit = reader.nullable_int("limit_null", 1, 10);
  EXPECT_TRUE(null_limit.is_null());
  EXPECT_EQ(reader.nullable_int("limit", 1, 10).value, 5);
  const NullableField<int64_t> bad_limit = reader.nullable_int("limit_bad", 1, 10);
  EXPECT_TRUE(bad_limit.present);
  EXPECT_FALSE(bad_limit.value.has_value());
  EXPECT_TRUE(reader.nullable_time("time_null").is_null());
  EXPECT_EQ(reader.nullable_time("time").value, 1796322195123);
  EXPECT_FALSE(reader.nullable_time("missing").present);
  EXPECT_EQ(reader.nullable_time("time_bad").value, std::nullopt);
  EXPECT_EQ(reader.optional_time("time_num"), std::nullopt);
  // A plain optional field does not take null.
  EXPECT_EQ(reader.optional_time("time_null"), std::nullopt);
  ASSERT_EQ(reader.errors().size(), 4u);
  EXPECT_EQ(reader.errors()[0].field, "limit_bad");
  EXPECT_EQ(reader.errors()[1].field, "time_bad");
  EXPECT_EQ(reader.errors()[2], (FieldError{"time_num", "must be an RFC 3339 time string"}));
  EXPECT_EQ(reader.errors()[3].field, "time_null");
}

TEST(FieldReaderTest, BoolAndEnumFieldsAreExact) {
  const picojson::value body =
      parse_ok(R"({"b_int":1,"b_str":"true","b_null":null,"e_case":"Open","e_int":1})");
  FieldReader reader(body.get<picojson::object>());
  EXPECT_EQ(reader.optional_bool("b_int"), std::nullopt);
  EXPECT_EQ(reader.optional_bool("b_str"), std::nullopt);
  EXPECT_EQ(reader.optional_bool("b_null"), std::nullopt);
  EXPECT_EQ(reader.optional_enum("e_case", {"open", "closed"}), std::nullopt);
  EXPECT_EQ(reader.optional_enum("e_int", {"open", "closed"}), std::nullopt);
  ASSERT_EQ(reader.errors().size(), 5u);
  EXPECT_EQ(reader.errors()[0].message, "must be true or false");
  EXPECT_EQ(reader.errors()[3].message, "must be one of \"open\", \"closed\"");
}

TEST(FieldReaderTest, UnknownFieldsAreReportedByName) {
  const picojson::value body = parse_ok(R"({"activity_id":"a","guests":1,"seats":2,"Guests":3})");
  FieldReader reader(body.get<picojson::object>());
  reader.reject_unknown({"activity_id", "guests", "user_id"});
  EXPECT_EQ(reader.errors(),
            (std::vector<FieldError>{{"Guests", "unknown field"}, {"seats", "unknown field"}}));
  reader.add_error("guests", "exceeds max_guests");
  EXPECT_EQ(reader.errors().size(), 3u);
  EXPECT_FALSE(reader.ok());
}

// Random byte mutations of a realistic body: the parser must never throw or crash (picojson
// throws on values it cannot hold), and whatever it accepts must round-trip through the writer.
TEST(ParseJsonObjectTest, SurvivesRandomMutations) {
  const std::string seed =
      R"({"activity_id":"yoga-1","guests":2,"t":"caf\u00e9 \ud83c\udf89","n":[1,-2.5e3,null,)"
      R"(true,{"k":"v"}],"z":0})";
  std::mt19937 random(20261203);  // Fixed seed: failures must reproduce.
  const std::string alphabet = "{}[]\":,.-+eE0123456789tfnul \\\x80\xc3\xed\xf4\xff";
  int accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string body = seed;
    const int edits = 1 + static_cast<int>(random() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t at = random() % body.size();
      const char c = alphabet[random() % alphabet.size()];
      switch (random() % 3) {
        case 0:
          body[at] = c;
          break;
        case 1:
          body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), c);
          break;
        default:
          body.erase(at, 1);
          break;
      }
    }
    Result<picojson::value> parsed = parse_json_object(body);
    if (!parsed.is_ok()) continue;
    ++accepted;
    ASSERT_TRUE(parsed->is<picojson::object>()) << body;
    Result<picojson::value> again = parse_json_object(parsed->serialize());
    ASSERT_TRUE(again.is_ok()) << body;
    // Serialization is a fixed point: what we write parses back to the same text.
    EXPECT_EQ(parsed->serialize(), again->serialize()) << body;
  }
  EXPECT_GT(accepted, 0);
}

TEST(JsonEqualTest, ComparesWithoutConvertingNumbers) {
  const picojson::value a = parse_ok(R"({"x":[1,"s",null,true,{"y":9007199254740993}]})");
  const picojson::value b = parse_ok(R"({ "x" : [1, "s", null, true, {"y": 9007199254740993}] })");
  const picojson::value c = parse_ok(R"({"x":[1,"s",null,true,{"y":9007199254740992}]})");
  const picojson::value d = parse_ok(R"({"x":[1.0,"s",null,true,{"y":9007199254740993}]})");
  EXPECT_TRUE(json_equal(a, b));
  EXPECT_FALSE(json_equal(a, c));  // picojson's operator== says equal (both round to 2^53).
  EXPECT_FALSE(json_equal(a, d));
  EXPECT_FALSE(json_equal(parse_ok(R"({"a":1})"), parse_ok(R"({"b":1})")));
  EXPECT_FALSE(json_equal(parse_ok(R"({"a":1})"), parse_ok(R"({"a":1,"b":1})")));
  EXPECT_TRUE(a.get<picojson::object>().at("x").get<picojson::array>()[0].is<int64_t>());
}

}  // namespace
}  // namespace rsvpd::http
