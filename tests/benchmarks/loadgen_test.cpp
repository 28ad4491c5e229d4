// Tests of rsvpd-load's pure parts: the log-linear histogram and the response parser.
// (Registered from benchmarks/loadgen.cmake, so the benchmarks stay one optional folder.)
#include <gtest/gtest.h>

#include <string>

#include "benchmarks/loadgen/histogram.h"
#include "benchmarks/loadgen/http_response.h"

namespace rsvpd::loadgen {
namespace {

TEST(Histogram, SmallValuesAreExact) {
  for (uint64_t v = 0; v < Histogram::kSubBucketCount; ++v) {
    EXPECT_EQ(Histogram::lowest_in(Histogram::index_of(v)), v);
    EXPECT_EQ(Histogram::highest_in(Histogram::index_of(v)), v);
  }
}

TEST(Histogram, BucketsTileTheRangeWithBoundedError) {
  std::size_t previous_index = 0;
  for (uint64_t v = 1; v < (uint64_t{1} << 30); v = v + 1 + v / 97) {
    const std::size_t i = Histogram::index_of(v);
    ASSERT_GE(i, previous_index);
    ASSERT_LE(Histogram::lowest_in(i), v);
    ASSERT_GE(Histogram::highest_in(i), v);
    const uint64_t width = Histogram::highest_in(i) - Histogram::lowest_in(i) + 1;
    ASSERT_TRUE(width == 1 || width * Histogram::kSubBucketHalf <= v) << v;  // <= 1/128 error.
    previous_index = i;
  }
  EXPECT_EQ(Histogram::index_of(Histogram::kValueMax), Histogram::kBucketCount - 1);
  EXPECT_EQ(Histogram::highest_in(Histogram::kBucketCount - 1), Histogram::kValueMax);
}

TEST(Histogram, PercentilesOfAUniformRun) {
  Histogram h;
  for (uint64_t v = 1; v <= 100'000; ++v) h.record(v * 1000);  // 1 us .. 100 ms in ns.
  EXPECT_EQ(h.total(), 100'000u);
  EXPECT_EQ(h.max(), 100'000'000u);
  EXPECT_EQ(h.min(), 1000u);
  const auto near = [](uint64_t got, double want) {
    return got >= want && static_cast<double>(got) <= want * 1.01;
  };
  EXPECT_TRUE(near(h.value_at(0.50), 50'000'000.0)) << h.value_at(0.5);
  EXPECT_TRUE(near(h.value_at(0.99), 99'000'000.0)) << h.value_at(0.99);
  EXPECT_TRUE(near(h.value_at(0.999), 99'900'000.0)) << h.value_at(0.999);
  EXPECT_EQ(h.value_at(1.0), 100'000'000u);
}

TEST(Histogram, MergeAndClamp) {
  Histogram a, b;
  a.record(5);
  b.record(Histogram::kValueMax + 10);
  a.merge(b);
  EXPECT_EQ(a.total(), 2u);
  EXPECT_EQ(a.clamped(), 1u);
  EXPECT_EQ(a.max(), Histogram::kValueMax);
  EXPECT_EQ(a.value_at(0.5), 5u);
  EXPECT_EQ(Histogram().value_at(0.99), 0u);
}

ParseResult parse(const std::string& data, Response& r, std::string& chunked) {
  return parse_response(data, 1024, r, chunked);
}

TEST(ParseResponse, ContentLength) {
  const std::string wire = "HTTP/1.1 201 Created\r\ncontent-length: 5\r\nX: y\r\n\r\nhello";
  Response r;
  std::string chunked;
  for (std::size_t n = 0; n < wire.size(); ++n) {
    ASSERT_EQ(parse(wire.substr(0, n), r, chunked), ParseResult::kNeedMore) << n;
  }
  ASSERT_EQ(parse(wire, r, chunked), ParseResult::kComplete);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.consumed_bytes, wire.size());
  EXPECT_FALSE(r.connection_close);
}

TEST(ParseResponse, ChunkedWithTrailersAndClose) {
  const std::string wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, Close\r\n\r\n"
      "3\r\nabc\r\nA;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
  Response r;
  std::string chunked;
  for (std::size_t n = 0; n < wire.size(); ++n) {
    ASSERT_EQ(parse(wire.substr(0, n), r, chunked), ParseResult::kNeedMore) << n;
  }
  ASSERT_EQ(parse(wire + "HTTP/1.1", r, chunked), ParseResult::kComplete);
  EXPECT_EQ(r.body, "abc0123456789");
  EXPECT_EQ(r.consumed_bytes, wire.size());
  EXPECT_TRUE(r.connection_close);
}

TEST(ParseResponse, NoBodyStatuses) {
  Response r;
  std::string chunked;
  ASSERT_EQ(parse("HTTP/1.1 204 No Content\r\n\r\n", r, chunked), ParseResult::kComplete);
  EXPECT_EQ(r.status, 204);
  EXPECT_TRUE(r.body.empty());
}

TEST(ParseResponse, Refusals) {
  Response r;
  std::string chunked;
  // Framed by close, malformed status, bad length, body over the limit, not HTTP.
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\n\r\n", r, chunked), ParseResult::kError);
  EXPECT_EQ(parse("HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", r, chunked), ParseResult::kError);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n", r, chunked), ParseResult::kError);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n", r, chunked),
            ParseResult::kError);
  EXPECT_EQ(parse("SSH-2.0-OpenSSH\r\n\r\n", r, chunked), ParseResult::kError);
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", r, chunked),
            ParseResult::kError);
  EXPECT_EQ(parse(std::string(kResponseHeadBytesMax + 1, 'x'), r, chunked), ParseResult::kError);
}

}  // namespace
}  // namespace rsvpd::loadgen
