// rsvpctl activity create|update against a one-shot HTTP server this test runs: the request it
// sends (method, target, JSON body, an admin token JwtVerifier accepts) and the exit code it maps
// each answer to.
#include <gtest/gtest.h>
#include <picojson.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "cli/http_client.h"
#include "daemon/clock.h"
#include "http/jwt_auth.h"
#include "tests/cli/test_world.h"

namespace rsvpd::testing {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace asio = boost::asio;

// Accepts one connection, records its request, answers with `status` and `body`.
class OneShotServer {
 public:
  OneShotServer(int status, std::string body)
      : acceptor_(context_, {asio::ip::make_address("127.0.0.1"), 0}) {
    thread_ = std::thread([this, status, body = std::move(body)] {
      asio::ip::tcp::socket socket(context_);
      acceptor_.accept(socket);
      beast::flat_buffer buffer;
      bhttp::read(socket, buffer, request_);
      bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
      response.set(bhttp::field::content_type,
                   status < 300 ? "application/json" : "application/problem+json");
      response.body() = body;
      response.prepare_payload();
      bhttp::write(socket, response);
    });
  }
  ~OneShotServer() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  const bhttp::request<bhttp::string_body>& request() {
    thread_.join();
    return request_;
  }

 private:
  asio::io_context context_;
  asio::ip::tcp::acceptor acceptor_;
  bhttp::request<bhttp::string_body> request_;
  std::thread thread_;
};

picojson::value parse_json(const std::string& text) {
  picojson::value value;
  EXPECT_EQ(picojson::parse(value, text), "") << text;
  return value;
}

TEST(ActivityCommandTest, CreatePostsTheBodyWithAnAdminToken) {
  TestWorld world;
  OneShotServer server(201, R"({"id":"yoga","capacity":12,"version":1})");
  const RunResult result = world.run("activity create --id yoga --capacity 12 --title Yoga "
                                     "--waitlist false --waitlist-limit none --url " + server.url());
  EXPECT_EQ(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("capacity: 12"), std::string::npos) << result.out;
  const auto& request = server.request();
  EXPECT_EQ(request.method(), bhttp::verb::post);
  EXPECT_EQ(request.target(), "/api/v1/activities");
  const picojson::value body = parse_json(request.body());
  EXPECT_EQ(body.get("id").get<std::string>(), "yoga");
  EXPECT_EQ(body.get("capacity").get<int64_t>(), 12);
  EXPECT_EQ(body.get("title").get<std::string>(), "Yoga");
  EXPECT_FALSE(body.get("waitlist").get<bool>());
  EXPECT_TRUE(body.get("waitlist_limit").is<picojson::null>());
  SystemClock clock;
  http::JwtVerifier verifier(clock, "0123456789abcdef0123456789abcdef");
  const Result<http::Principal> principal =
      verifier.verify(std::string(request[bhttp::field::authorization]));
  ASSERT_TRUE(principal.is_ok()) << principal.status().to_string();
  EXPECT_TRUE(principal->admin);
  EXPECT_EQ(principal->sub, "rsvpctl");
}

TEST(ActivityCommandTest, UpdatePatchesOnlyTheGivenFieldsWithIfMatch) {
  TestWorld world;
  OneShotServer server(200, R"({"id":"yoga","capacity":20,"version":2})");
  const RunResult result = world.run("activity update yoga --capacity 20 --status closed "
                                     "--if-match 1 --json --url " + server.url());
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_EQ(parse_json(result.out).get("version").get<int64_t>(), 2);
  const auto& request = server.request();
  EXPECT_EQ(request.method(), bhttp::verb::patch);
  EXPECT_EQ(request.target(), "/api/v1/activities/yoga");
  EXPECT_EQ(request[bhttp::field::if_match], "\"1\"");
  const picojson::object body = parse_json(request.body()).get<picojson::object>();
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body.at("status").get<std::string>(), "closed");
}

struct ProblemCase {
  int status;
  int exit_code;
};

TEST(ActivityCommandTest, ProblemResponsesMapToExitCodes) {
  TestWorld world;
  for (const ProblemCase c : {ProblemCase{409, 8}, ProblemCase{412, 8}, ProblemCase{422, 8},
                              ProblemCase{401, 7}, ProblemCase{403, 7}, ProblemCase{404, 4},
                              ProblemCase{503, 9}, ProblemCase{507, 9}}) {
    OneShotServer server(c.status, R"({"type":"https://rsvpd.dev/problems/x","title":"t",)"
                                   R"("status":)" + std::to_string(c.status) + "}");
    const RunResult result = world.run("activity update yoga --capacity 1 --url " + server.url());
    EXPECT_EQ(result.exit_code, c.exit_code) << c.status;
    server.request();
  }
}

TEST(ActivityCommandTest, UnreachableDaemonAndBadArgumentsExitCodes) {
  TestWorld world;
  // Port 1 on localhost: nothing listens there.
  EXPECT_EQ(world.run("activity create --capacity 3 --url http://127.0.0.1:1").exit_code, 9);
  EXPECT_EQ(world.run("activity create --url http://127.0.0.1:1").exit_code, 2);  // No capacity.
  EXPECT_EQ(world.run("activity frob --capacity 3").exit_code, 2);
  EXPECT_EQ(world.run("activity create --capacity 3 --url https://x").exit_code, 2);
  EXPECT_EQ(world.run("activity create --capacity 3 --waitlist maybe").exit_code, 2);
  EXPECT_EQ(world.run("activity create --capacity 3 --jwt-secret-file /nonexistent").exit_code, 7);
}

TEST(HttpUrlTest, ParsesHostAndPort) {
  EXPECT_EQ(cli::parse_http_url("http://127.0.0.1:8080")->port, "8080");
  EXPECT_EQ(cli::parse_http_url("http://localhost/")->port, "80");
  EXPECT_EQ(cli::parse_http_url("http://localhost")->host, "localhost");
  for (const char* bad : {"", "127.0.0.1:8080", "https://x", "http://", "http://x:", "http://x:y",
                          "http://x/path"}) {
    EXPECT_FALSE(cli::parse_http_url(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace rsvpd::testing
