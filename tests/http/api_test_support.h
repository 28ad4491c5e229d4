// Shared fixture for the API handler's in-process tests: an ApiHandler over a FakeService behind
// a real HttpServer on an ephemeral port (epoll, two io threads), and a blocking client.
#pragma once

#include <gtest/gtest.h>
#include <jwt.h>
#include <picojson.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "http/api_handler.h"
#include "http/json_body.h"
#include "http/jwt_auth.h"
#include "http/server.h"
#include "tests/http/fake_service.h"
#include "tests/http/test_client.h"

namespace rsvpd::http::testing {

inline const std::string kTestSecret = "0123456789abcdef0123456789abcdef";
inline constexpr int64_t kTestNowMs = 1796322195123;  // 2026-12-03T18:23:15.123Z
inline constexpr int64_t kTestNowS = kTestNowMs / 1000;
inline const std::string kTestOrigin = "https://app.example";

inline std::string token_for(std::string_view sub, std::vector<std::string> roles = {},
                             int64_t exp_s = kTestNowS + 3600,
                             std::optional<int64_t> nbf_s = std::nullopt) {
  Result<std::string> token = mint_token(kTestSecret, sub, roles, exp_s, nbf_s);
  EXPECT_TRUE(token.is_ok());
  return token.is_ok() ? token.value() : std::string();
}

inline std::string bearer(std::string_view token) {
  return "Authorization: Bearer " + std::string(token) + "\r\n";
}

// A token signed by libjwt with any algorithm and key (to show what the daemon refuses).
inline std::string token_signed_with(jwt_alg_t alg, const std::string& key,
                                     const std::string& claims_json) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  EXPECT_EQ(jwt_add_grants_json(jwt, claims_json.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* token = jwt_encode_str(jwt);
  std::string result = token ? token : "";
  std::free(token);
  jwt_free(jwt);
  return result;
}

inline picojson::object json_of(const ClientResponse& response) {
  picojson::value value;
  const std::string error = picojson::parse(value, response.body);
  EXPECT_TRUE(error.empty()) << error << " in " << response.body;
  return value.is<picojson::object>() ? value.get<picojson::object>() : picojson::object();
}

// The problem slug of a problem+json response ("" when it is not one).
// One request on a fresh connection to 127.0.0.1:`port`, and its response (empty, with a test
// failure, when none arrives within `receive_timeout_ms`).
inline ClientResponse call_port(uint16_t port, int receive_timeout_ms, std::string_view method,
                                std::string_view target, std::string_view body = {},
                                std::string_view headers = {}) {
  TestClient client(port, receive_timeout_ms);
  EXPECT_TRUE(client.valid());
  EXPECT_TRUE(client.send_all(TestClient::request(method, target, body, headers)));
  std::optional<ClientResponse> response = client.read_response();
  EXPECT_TRUE(response.has_value()) << method << " " << target;
  return response.value_or(ClientResponse{});
}

inline std::string slug_of(const ClientResponse& response) {
  const picojson::object body = json_of(response);
  auto type = body.find("type");
  if (type == body.end() || !type->second.is<std::string>()) return "";
  const std::string& text = type->second.get<std::string>();
  const std::string prefix = "https://rsvpd.dev/problems/";
  return text.rfind(prefix, 0) == 0 ? text.substr(prefix.size()) : "";
}

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ApiOptions options;
    options.cors_origins = {kTestOrigin};
    options.request_id_seed = 42;
    handler_ = std::make_unique<ApiHandler>(std::move(options), service_, verifier_, clock_, log_);
    ServerOptions server_options;
    server_options.port = 0;
    server_options.io_mode = IoMode::kEpoll;
    server_options.threads = 2;
    Result<std::unique_ptr<HttpServer>> server = HttpServer::start(server_options, *handler_);
    ASSERT_TRUE(server.is_ok()) << server.status().message();
    server_ = std::move(server).value();
    handler_->set_server(server_.get());
  }
  void TearDown() override {
    if (server_) server_->stop(std::chrono::seconds(2));
    if (handler_) handler_->set_server(nullptr);
  }

  ClientResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view headers = {}, bool head_only = false) {
    TestClient client(server_->port());
    EXPECT_TRUE(client.valid());
    EXPECT_TRUE(client.send_all(TestClient::request(method, target, body, headers)));
    // A 204 has no Content-Length, so it is read as a head.
    std::optional<ClientResponse> response =
        head_only ? client.read_response_head_only() : client.read_response();
    EXPECT_TRUE(response.has_value()) << method << " " << target;
    return response.value_or(ClientResponse{});
  }

  // Creates an activity as host "hana"; returns its id.
  std::string create_activity(std::string_view body = R"({"id":"a1","capacity":2,"max_guests":1})") {
    ClientResponse response =
        call("POST", "/api/v1/activities", body, bearer(token_for("hana", {"host"})));
    EXPECT_EQ(response.status, 201) << response.body;
    return json_of(response)["id"].to_str();
  }

  ManualClock clock_{kTestNowMs};
  JwtVerifier verifier_{clock_, kTestSecret};
  FakeService service_{clock_};
  JsonLog log_{LogLevel::kError, clock_};
  std::unique_ptr<ApiHandler> handler_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace rsvpd::http::testing
