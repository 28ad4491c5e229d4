#include "http/query_string.h"

#include <gtest/gtest.h>

namespace rsvpd::http {
namespace {

TEST(QueryReaderTest, ParsesAndDecodes) {
  QueryReader query("status=confirmed&limit=20&cursor=abc%3D%3D&note=caf%C3%A9+au+lait&flag");
  EXPECT_EQ(query.find("status"), "confirmed");
  EXPECT_EQ(query.find("limit"), "20");
  EXPECT_EQ(query.find("cursor"), "abc==");
  EXPECT_EQ(query.find("note"), "caf\xc3\xa9 au lait");
  EXPECT_EQ(query.find("flag"), "");
  EXPECT_EQ(query.find("missing"), std::nullopt);
  EXPECT_EQ(query.find("Status"), std::nullopt);  // Names are case-sensitive.
  EXPECT_TRUE(query.ok());
}

TEST(QueryReaderTest, EmptyQueriesAndEmptyPiecesAreFine) {
  EXPECT_TRUE(QueryReader("").ok());
  QueryReader query("&a=1&&b=2&");
  EXPECT_TRUE(query.ok());
  EXPECT_EQ(query.find("a"), "1");
  EXPECT_EQ(query.find("b"), "2");
  EXPECT_EQ(QueryReader("a=%41%2b%2B%25").find("a"), "A++%");
  EXPECT_EQ(QueryReader("a=x=y").find("a"), "x=y");  // Only the first '=' splits.
}

TEST(QueryReaderTest, RejectsMalformedPercentEscapes) {
  for (const char* bad : {"a=%", "a=%4", "a=%zz", "a=%4g", "a=1%", "a=%%41"}) {
    QueryReader query(bad);
    EXPECT_EQ(query.errors(),
              (std::vector<FieldError>{{"a", "has a malformed percent escape or is not UTF-8"}}))
        << bad;
    EXPECT_EQ(query.find("a"), std::nullopt) << bad;
  }
  QueryReader bad_name("%zz=1");
  EXPECT_EQ(bad_name.errors(),
            (std::vector<FieldError>{{"query", "has a malformed parameter name"}}));
}

TEST(QueryReaderTest, RejectsDecodedBytesThatAreNotUtf8) {
  EXPECT_FALSE(QueryReader("a=%C3").ok());        // Truncated sequence.
  EXPECT_FALSE(QueryReader("a=%C0%AF").ok());     // Overlong.
  EXPECT_FALSE(QueryReader("a=%ED%A0%80").ok());  // Surrogate.
  EXPECT_FALSE(QueryReader("%FF=1").ok());        // In a name.
  EXPECT_TRUE(QueryReader("a=%E2%82%AC").ok());
}

TEST(QueryReaderTest, RejectsDuplicatesOnceAndTreatsThemAsAbsent) {
  QueryReader query("limit=5&limit=6&limit=7");
  EXPECT_EQ(query.errors(), (std::vector<FieldError>{{"limit", "is given more than once"}}));
  EXPECT_EQ(query.find("limit"), std::nullopt);
  EXPECT_EQ(query.limit("limit", 50), 50);
  EXPECT_EQ(query.errors().size(), 1u);
  // Spelled differently but decoding to the same name is still a duplicate.
  EXPECT_FALSE(QueryReader("limit=5&%6Cimit=6").ok());
}

TEST(QueryReaderTest, RejectsEmptyNamesTooManyParametersAndLongQueries) {
  EXPECT_EQ(QueryReader("=1").errors(),
            (std::vector<FieldError>{{"query", "has a parameter without a name"}}));
  std::string many;
  for (std::size_t i = 0; i <= kQueryParamsMax; ++i) many += "p" + std::to_string(i) + "=1&";
  QueryReader too_many(many);
  ASSERT_EQ(too_many.errors().size(), 1u);
  EXPECT_EQ(too_many.errors()[0].field, "query");
  QueryReader too_long("a=" + std::string(kQueryBytesMax, 'x'));
  ASSERT_EQ(too_long.errors().size(), 1u);
  EXPECT_EQ(too_long.find("a"), std::nullopt);
}

TEST(QueryReaderTest, LimitIsAnIntegerInRangeWithADefault) {
  EXPECT_EQ(QueryReader("").limit("limit", 50), 50);
  EXPECT_EQ(QueryReader("limit=1").limit("limit", 50), 1);
  EXPECT_EQ(QueryReader("limit=500").limit("limit", 50), 500);
  EXPECT_EQ(QueryReader("limit=007").limit("limit", 50), 7);
  for (const char* bad :
       {"limit=0", "limit=501", "limit=-1", "limit=+5", "limit=1.5", "limit=1e2", "limit=", "limit",
        "limit=ten", "limit=%2010", "limit=99999999999999999999999"}) {
    QueryReader query(bad);
    EXPECT_EQ(query.limit("limit", 50), 50) << bad;
    ASSERT_EQ(query.errors().size(), 1u) << bad;
    EXPECT_EQ(query.errors()[0], (FieldError{"limit", "must be an integer from 1 to 500"})) << bad;
  }
  QueryReader audit("limit=100");
  EXPECT_EQ(audit.limit("limit", 100, 100), 100);
  EXPECT_TRUE(audit.ok());
}

TEST(QueryReaderTest, StatusIsOneOfTheAllowedValues) {
  QueryReader query("status=waitlisted");
  EXPECT_EQ(query.enum_value("status", {"confirmed", "waitlisted", "cancelled"}), "waitlisted");
  EXPECT_TRUE(query.ok());
  QueryReader wrong("status=Confirmed");
  EXPECT_EQ(wrong.enum_value("status", {"confirmed", "waitlisted", "all"}), std::nullopt);
  EXPECT_EQ(wrong.errors(),
            (std::vector<FieldError>{{"status", "must be one of confirmed, waitlisted, all"}}));
  EXPECT_EQ(QueryReader("").enum_value("status", {"all"}), std::nullopt);
}

TEST(QueryReaderTest, CursorIsOpaquePrintableAscii) {
  EXPECT_EQ(QueryReader("cursor=eyJrIjoiYSJ9").cursor("cursor"), "eyJrIjoiYSJ9");
  EXPECT_EQ(QueryReader("").cursor("cursor"), std::nullopt);
  for (const std::string& bad :
       {std::string("cursor="), std::string("cursor=a+b"), std::string("cursor=%C3%A9"),
        std::string("cursor=%0A"), "cursor=" + std::string(kCursorBytesMax + 1, 'c')}) {
    QueryReader query(bad);
    EXPECT_EQ(query.cursor("cursor"), std::nullopt) << bad;
    EXPECT_FALSE(query.ok()) << bad;
  }
  EXPECT_EQ(QueryReader("cursor=" + std::string(kCursorBytesMax, 'c')).cursor("cursor")->size(),
            kCursorBytesMax);
}

TEST(QueryReaderTest, AfterIsANonNegativeInteger) {
  EXPECT_EQ(QueryReader("after=0").non_negative_int("after"), 0);
  EXPECT_EQ(QueryReader("after=123456789012345678").non_negative_int("after"), 123456789012345678);
  EXPECT_EQ(QueryReader("").non_negative_int("after"), std::nullopt);
  for (const char* bad : {"after=-1", "after=x", "after=", "after=1234567890123456789"}) {
    QueryReader query(bad);
    EXPECT_EQ(query.non_negative_int("after"), std::nullopt) << bad;
    EXPECT_FALSE(query.ok()) << bad;
  }
}

TEST(QueryReaderTest, UnknownParametersAreReportedByName) {
  QueryReader query("limit=5&sort=asc&access_token=t");
  query.reject_unknown({"limit", "cursor", "access_token"});
  EXPECT_EQ(query.errors(), (std::vector<FieldError>{{"sort", "unknown parameter"}}));
}

}  // namespace
}  // namespace rsvpd::http
