// The rsvpd binary with the real engine: lifecycle (secret file, second daemon, SIGTERM), the
// contract end to end, and the invariants under concurrency and crashes: no overbooking with
// 2,000 simultaneous RSVPs, one live RSVP per user, one RSVP per Idempotency-Key, and every
// acknowledged RSVP surviving SIGKILL.
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "http/detail/uring_loop.h"
#include "tests/http/api_test_support.h"
#include "tests/http/daemon_process.h"
#include "tests/http/kill_cycle_load.h"

namespace rsvpd::http::testing {
namespace {

constexpr int kOversubscribedRequests = 2000;
constexpr int kOversubscribedSeats = 150;
constexpr int kSameUserRequests = 50;
constexpr int kSameKeyRequests = 30;
constexpr int kCrashRequests = 400;
constexpr int kReadTimeoutMs = 60000;
constexpr int kKillCycles = 6;
constexpr int kKillLoadThreads = 8;
constexpr int kKillSeats = 25;

// Every test runs once per transport (--io=uring, --io=epoll): the same contract over both.
class ApiBinaryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "uring") {
      Status probe = detail::probe_uring();
      if (!probe.is_ok()) GTEST_SKIP() << "io_uring is not permitted here: " << probe.message();
    }
    daemon_.set_base_args({"--io", GetParam()});
    ASSERT_TRUE(daemon_.start()) << daemon_.log();
    admin_ = daemon_.auth("root", {"admin"});
    host_ = daemon_.auth("hana", {"host"});
  }

  ClientResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view headers = {}) {
    return call_port(daemon_.port(), kReadTimeoutMs, method, target, body, headers);
  }

  void create_activity(const std::string& id, int capacity, std::string extra = "") {
    ClientResponse response = call("POST", "/api/v1/activities",
                                   "{\"id\":\"" + id + "\",\"capacity\":" +
                                       std::to_string(capacity) + extra + "}",
                                   host_);
    ASSERT_EQ(response.status, 201) << response.body;
  }

  // Sends one request per header set on its own connection, all before reading any answer.
  std::vector<ClientResponse> concurrently(const std::string& target, const std::string& body,
                                           const std::vector<std::string>& headers) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (std::size_t i = 0; i < headers.size(); ++i) {
      clients.push_back(std::make_unique<TestClient>(daemon_.port(), kReadTimeoutMs));
      EXPECT_TRUE(clients.back()->valid()) << "connection " << i;
    }
    for (std::size_t i = 0; i < headers.size(); ++i) {
      EXPECT_TRUE(clients[i]->send_all(TestClient::request("POST", target, body, headers[i])));
    }
    std::vector<ClientResponse> responses;
    for (auto& client : clients) {
      responses.push_back(client->read_response().value_or(ClientResponse{}));
    }
    return responses;
  }

  // Every participant of `activity` (all pages), in the listed order.
  std::vector<picojson::object> all_participants(const std::string& activity) {
    std::vector<picojson::object> out;
    std::string cursor;
    for (int page = 0; page < 100; ++page) {
      ClientResponse response =
          call("GET", "/api/v1/activities/" + activity + "/participants?limit=500" +
                          (cursor.empty() ? "" : "&cursor=" + cursor),
               "", admin_);
      EXPECT_EQ(response.status, 200) << response.body;
      picojson::object body = json_of(response);
      for (const picojson::value& item : body["participants"].get<picojson::array>()) {
        out.push_back(item.get<picojson::object>());
      }
      if (!body["next_cursor"].is<std::string>()) break;
      cursor = body["next_cursor"].get<std::string>();
    }
    return out;
  }

  std::vector<picojson::object> all_audit(const std::string& activity) {
    std::vector<picojson::object> out;
    int64_t after = 0;
    for (int page = 0; page < 100; ++page) {
      ClientResponse response = call("GET", "/api/v1/activities/" + activity +
                                                "/audit?limit=500&after=" + std::to_string(after),
                                     "", admin_);
      EXPECT_EQ(response.status, 200) << response.body;
      picojson::object body = json_of(response);
      for (const picojson::value& item : body["entries"].get<picojson::array>()) {
        out.push_back(item.get<picojson::object>());
      }
      if (!body["next_after"].is<int64_t>()) break;
      after = body["next_after"].get<int64_t>();
    }
    return out;
  }

  // Checks no overbooking and consistent positions; replays the audit through a reference model
  // and compares it with the listed state. Returns the confirmed seats.
  int64_t check_activity_state(const std::string& activity, int64_t capacity) {
    const std::vector<picojson::object> participants = all_participants(activity);
    std::vector<std::string> confirmed;
    std::vector<std::string> waiting;
    int64_t confirmed_seats = 0;
    for (const picojson::object& rsvp : participants) {
      const std::string status = rsvp.at("status").to_str();
      if (status == "confirmed") {
        confirmed.push_back(rsvp.at("id").to_str());
        confirmed_seats += rsvp.at("party_size").get<int64_t>();
      } else {
        EXPECT_EQ(status, "waitlisted");
        waiting.push_back(rsvp.at("id").to_str());
        EXPECT_EQ(rsvp.at("waitlist_position").get<int64_t>(),
                  static_cast<int64_t>(waiting.size()));
      }
    }
    EXPECT_LE(confirmed_seats, capacity) << "overbooking";
    picojson::object view = json_of(call("GET", "/api/v1/activities/" + activity));
    EXPECT_EQ(view["confirmed_seats"].get<int64_t>(), confirmed_seats);
    EXPECT_EQ(view["waitlist_length"].get<int64_t>(), static_cast<int64_t>(waiting.size()));

    std::set<std::string> model_confirmed;
    std::deque<std::string> model_waiting;
    for (const picojson::object& entry : all_audit(activity)) {
      const std::string op = entry.at("op").to_str();
      const std::string id = entry.at("rsvp_id").is<std::string>() ? entry.at("rsvp_id").to_str() : "";
      if (op == "rsvp.confirmed") model_confirmed.insert(id);
      if (op == "rsvp.waitlisted") model_waiting.push_back(id);
      if (op == "rsvp.promoted") {
        EXPECT_FALSE(model_waiting.empty());
        EXPECT_EQ(model_waiting.front(), id) << "promotion out of FIFO order";
        std::erase(model_waiting, id);
        model_confirmed.insert(id);
      }
      if (op == "rsvp.cancelled") {
        model_confirmed.erase(id);
        std::erase(model_waiting, id);
      }
    }
    EXPECT_EQ(model_confirmed, std::set<std::string>(confirmed.begin(), confirmed.end()));
    EXPECT_EQ(std::vector<std::string>(model_waiting.begin(), model_waiting.end()), waiting);
    return confirmed_seats;
  }

  void expect_no_overbooking_metric() {
    ClientResponse metrics = call("GET", "/metrics");
    EXPECT_NE(metrics.body.find("rsvpd_overbooking_detected_total 0\n"), std::string::npos);
  }

  DaemonProcess daemon_;
  std::string admin_;
  std::string host_;
};

TEST_P(ApiBinaryTest, LifecycleSecretFileSecondDaemonAndSigterm) {
  struct stat info{};
  ASSERT_EQ(::stat((daemon_.data_dir() + "/jwt.secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 200);

  DaemonProcess second;
  ASSERT_FALSE(second.start({"--data-dir", daemon_.data_dir()}));
  EXPECT_NE(second.exit_status_code(), 0);

  create_activity("life", 3);
  EXPECT_EQ(daemon_.stop(), 0) << daemon_.log();
  ASSERT_TRUE(daemon_.start()) << daemon_.log();
  EXPECT_EQ(call("GET", "/api/v1/activities/life").status, 200);
}

TEST_P(ApiBinaryTest, ContractEndToEnd) {
  create_activity("e2e", 2, ",\"max_guests\":1");
  EXPECT_EQ(slug_of(call("POST", "/api/v1/activities", R"({"id":"e2e","capacity":1})", host_)),
            "activity-exists");
  const std::string ulla = daemon_.auth("ulla");
  const std::string wim = daemon_.auth("wim");
  const std::string xia = daemon_.auth("xia");
  ClientResponse pair = call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e","guests":1})", ulla);
  ASSERT_EQ(pair.status, 201) << pair.body;
  EXPECT_EQ(json_of(pair)["status"].to_str(), "confirmed");
  const std::string pair_id = json_of(pair)["id"].to_str();
  ClientResponse waiting = call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e"})", wim);
  EXPECT_EQ(json_of(waiting)["status"].to_str(), "waitlisted");
  EXPECT_EQ(json_of(waiting)["waitlist_position"].get<int64_t>(), 1);
  const std::string waiting_id = json_of(waiting)["id"].to_str();

  const std::size_t audit_before = all_audit("e2e").size();
  // Rejected requests, one per status, none of which may change anything.
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e"})").status, 401);
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e","activity_id":"x"})", xia).status, 400);
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e","guests":2})", xia).status, 422);
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e","guests":1.0})", xia).status, 422);
  EXPECT_EQ(slug_of(call("POST", "/api/v1/rsvps", R"({"activity_id":"nope"})", xia)), "activity-not-found");
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e","user_id":"zed"})", xia).status, 403);
  EXPECT_EQ(slug_of(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e"})", ulla)), "already-rsvped");
  EXPECT_EQ(call("PATCH", "/api/v1/activities/e2e", R"({"capacity":1})", host_).status, 409);
  EXPECT_EQ(call("PATCH", "/api/v1/activities/e2e", R"({"title":"x"})", host_ + "If-Match: \"5\"\r\n").status, 412);
  EXPECT_EQ(call("PATCH", "/api/v1/activities/e2e", R"({"title":"x"})", xia).status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/rsvps/" + pair_id, "", xia).status, 403);
  EXPECT_EQ(call("POST", "/api/v1/rsvps", std::string(17000, ' '), xia).status, 413);
  EXPECT_EQ(all_audit("e2e").size(), audit_before);

  // Cancel the confirmed pair: the waiting party is promoted in the same commit.
  ClientResponse cancelled = call("DELETE", "/api/v1/rsvps/" + pair_id, "", ulla);
  EXPECT_EQ(json_of(cancelled)["status"].to_str(), "cancelled");
  ClientResponse promoted = call("GET", "/api/v1/rsvps/" + waiting_id, "", wim);
  EXPECT_EQ(json_of(promoted)["status"].to_str(), "confirmed");
  EXPECT_TRUE(json_of(promoted)["waitlist_position"].is<picojson::null>());
  ClientResponse capacity = call("POST", "/api/v1/activities/e2e/capacity/check", R"({"guests":1})");
  EXPECT_EQ(json_of(capacity)["would_confirm"].get<bool>(), false);
  EXPECT_EQ(json_of(capacity)["available_seats"].get<int64_t>(), 1);
  ClientResponse listed = call("GET", "/api/v1/rsvps/user/ulla", "", ulla);
  EXPECT_EQ(json_of(listed)["rsvps"].get<picojson::array>().size(), 1u);

  ClientResponse archived = call("PATCH", "/api/v1/activities/e2e", R"({"status":"archived"})",
                                 host_ + "If-Match: \"1\"\r\n");
  EXPECT_EQ(archived.status, 200) << archived.body;
  EXPECT_EQ(archived.headers["etag"], "\"2\"");
  EXPECT_EQ(slug_of(call("POST", "/api/v1/rsvps", R"({"activity_id":"e2e"})", xia)), "activity-archived");
  EXPECT_EQ(call("GET", "/api/v1/activities/e2e/capacity").status, 200);
  check_activity_state("e2e", 2);
}

TEST_P(ApiBinaryTest, SighupReloadsTheSecret) {
  const std::string old_token = daemon_.auth("hana", {"host"});
  EXPECT_EQ(call("POST", "/api/v1/activities", R"({"id":"h1","capacity":1})", old_token).status, 201);
  {
    std::ofstream file(daemon_.data_dir() + "/jwt.secret", std::ios::trunc | std::ios::binary);
    file << "a-brand-new-secret-of-at-least-32-bytes!";
  }
  ::kill(daemon_.pid(), SIGHUP);
  DaemonProcess::Auth fresh = daemon_.fresh_auth();
  bool reloaded = false;
  for (int attempt = 0; attempt < 200 && !reloaded; ++attempt) {
    reloaded = call("POST", "/api/v1/activities", R"({"capacity":1})", old_token).status == 401;
    if (!reloaded) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(reloaded);
  EXPECT_EQ(call("POST", "/api/v1/activities", R"({"id":"h2","capacity":1})",
                 fresh("hana", {"host"})).status,
            201);
}

TEST_P(ApiBinaryTest, ExplicitSecretFileMustExist) {
  DaemonProcess other;
  EXPECT_FALSE(other.start({"--jwt-secret-file", "/nonexistent/rsvpd.secret"}));
  EXPECT_EQ(other.exit_status_code(), 1);
}

TEST_P(ApiBinaryTest, TransportLimitsRoutingHeadersAndMetrics) {
  const std::string big(17 * 1024, 'x');
  ClientResponse headers = call("GET", "/healthz", "", "X-Big: " + big + "\r\n");
  EXPECT_EQ(headers.status, 431);
  EXPECT_EQ(headers.headers["content-type"], "application/problem+json");
  ClientResponse method = call("PUT", "/api/v1/rsvps", "{}", host_);
  EXPECT_EQ(method.status, 405);
  EXPECT_EQ(method.headers["allow"], "POST, OPTIONS");
  EXPECT_EQ(slug_of(call("GET", "/api/v1/nothing")), "not-found");
  for (const std::string& token :
       {token_signed_with(JWT_ALG_HS512, daemon_.secret(), R"({"sub":"hana","exp":4102444800,"roles":["host"]})"),
        std::string("eyJhbGciOiJub25lIn0.eyJzdWIiOiJoYW5hIiwiZXhwIjo0MTAyNDQ0ODAwLCJyb2xlcyI6WyJob3N0Il19.")}) {
    EXPECT_EQ(call("POST", "/api/v1/activities", R"({"capacity":1})", bearer(token)).status, 401);
  }
  ClientResponse created = call("POST", "/api/v1/activities", R"({"id":"traced","capacity":1})",
                                host_ + "X-Request-Id: trace-me-42\r\n");
  EXPECT_EQ(created.headers["x-request-id"], "trace-me-42");
  const std::vector<picojson::object> audit = all_audit("traced");
  ASSERT_EQ(audit.size(), 1u);
  EXPECT_EQ(audit[0].at("request_id").to_str(), "trace-me-42");
  EXPECT_EQ(audit[0].at("op").to_str(), "activity.created");
  ClientResponse metrics = call("GET", "/metrics");
  for (const char* line : {"rsvpd_overbooking_detected_total 0",
                           "rsvpd_http_requests_total{route=\"/api/v1/activities\",status=\"201\"} 1",
                           "rsvpd_commits_total", "rsvpd_fdatasync_calls_total",
                           "rsvpd_connections_accepted_total"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line;
  }
}

TEST_P(ApiBinaryTest, CorsForConfiguredOrigins) {
  DaemonProcess cors;
  cors.set_base_args({"--io", GetParam()});
  ASSERT_TRUE(cors.start({"--cors-origin", "https://app.example"})) << cors.log();
  TestClient client(cors.port());
  ASSERT_TRUE(client.send_all(TestClient::request(
      "OPTIONS", "/api/v1/rsvps", {},
      "Origin: https://app.example\r\nAccess-Control-Request-Method: POST\r\n")));
  std::optional<ClientResponse> preflight = client.read_response_head_only();
  ASSERT_TRUE(preflight.has_value());
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->headers["access-control-allow-origin"], "https://app.example");
  EXPECT_NE(preflight->headers["access-control-allow-headers"].find("Idempotency-Key"),
            std::string::npos);
  TestClient other(cors.port());
  ASSERT_TRUE(other.send_all(TestClient::request("GET", "/healthz", {},
                                                 "Origin: https://evil.example\r\n")));
  std::optional<ClientResponse> refused = other.read_response();
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->headers.count("access-control-allow-origin"), 0u);
}

TEST_P(ApiBinaryTest, TwoThousandConcurrentRsvpsNeverOverbook) {
  ASSERT_GE(raise_open_files_limit(kOversubscribedRequests * 2 + 256),
            static_cast<rlim_t>(kOversubscribedRequests + 256));
  create_activity("rush", kOversubscribedSeats);
  std::vector<std::string> headers;
  for (int i = 0; i < kOversubscribedRequests; ++i) {
    headers.push_back(daemon_.auth("user" + std::to_string(i)));
  }
  const std::vector<ClientResponse> responses =
      concurrently("/api/v1/rsvps", R"({"activity_id":"rush"})", headers);
  int confirmed = 0;
  std::set<std::string> ids;
  for (const ClientResponse& response : responses) {
    ASSERT_EQ(response.status, 201) << response.body;
    picojson::object rsvp = json_of(response);
    ids.insert(rsvp["id"].to_str());
    confirmed += rsvp["status"].to_str() == "confirmed";
  }
  EXPECT_EQ(ids.size(), static_cast<std::size_t>(kOversubscribedRequests));
  EXPECT_EQ(confirmed, kOversubscribedSeats);
  EXPECT_EQ(check_activity_state("rush", kOversubscribedSeats), kOversubscribedSeats);
  expect_no_overbooking_metric();
}

TEST_P(ApiBinaryTest, SameUserFiftyTimesAtOnceGetsOneRsvp) {
  create_activity("same", 10);
  const std::vector<std::string> headers(kSameUserRequests, daemon_.auth("ulla"));
  const std::vector<ClientResponse> responses =
      concurrently("/api/v1/rsvps", R"({"activity_id":"same"})", headers);
  int created = 0;
  int already = 0;
  for (const ClientResponse& response : responses) {
    created += response.status == 201;
    already += response.status == 409 && slug_of(response) == "already-rsvped";
  }
  EXPECT_EQ(created, 1);
  EXPECT_EQ(already, kSameUserRequests - 1);
  EXPECT_EQ(check_activity_state("same", 10), 1);
  // Duplicates must be stopped by the claim table before they take a place (DESIGN.md §2.4).
  EXPECT_NE(call("GET", "/metrics").body.find("rsvpd_duplicate_admissions_total 0\n"),
            std::string::npos);
}

TEST_P(ApiBinaryTest, CancellationsPromoteStrictlyInTicketOrder) {
  create_activity("fifo", 4, ",\"max_guests\":2");
  auto rsvp = [&](const std::string& user, int guests) {
    ClientResponse response =
        call("POST", "/api/v1/rsvps",
             R"({"activity_id":"fifo","guests":)" + std::to_string(guests) + "}", daemon_.auth(user));
    EXPECT_EQ(response.status, 201) << response.body;
    return json_of(response)["id"].to_str();
  };
  auto status_of = [&](const std::string& id) {
    return json_of(call("GET", "/api/v1/rsvps/" + id, "", admin_))["status"].to_str();
  };
  std::vector<std::string> confirmed;
  for (int i = 0; i < 4; ++i) confirmed.push_back(rsvp("c" + std::to_string(i), 0));
  const std::string pair = rsvp("w0", 1);    // head, needs 2 seats
  const std::string single1 = rsvp("w1", 0);
  const std::string single2 = rsvp("w2", 0);
  const std::string triple = rsvp("w3", 2);  // needs 3 seats
  const std::string single4 = rsvp("w4", 0);
  EXPECT_EQ(status_of(pair), "waitlisted");

  EXPECT_EQ(call("DELETE", "/api/v1/rsvps/" + confirmed[0], "", admin_).status, 200);
  EXPECT_EQ(status_of(pair), "waitlisted");     // one seat free: the head does not fit
  EXPECT_EQ(status_of(single1), "waitlisted");  // and nobody behind it overtakes
  EXPECT_EQ(call("DELETE", "/api/v1/rsvps/" + confirmed[1], "", admin_).status, 200);
  EXPECT_EQ(status_of(pair), "confirmed");
  // Two cancellations at once free two seats: the two singles behind the pair are promoted, the
  // triple waits at the head, and the single behind it does not overtake it.
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 2; i < 4; ++i) {
    clients.push_back(std::make_unique<TestClient>(daemon_.port(), kReadTimeoutMs));
    ASSERT_TRUE(clients.back()->send_all(
        TestClient::request("DELETE", "/api/v1/rsvps/" + confirmed[i], {}, admin_)));
  }
  for (auto& client : clients) EXPECT_EQ(client->read_response().value_or(ClientResponse{}).status, 200);
  EXPECT_EQ(status_of(single1), "confirmed");
  EXPECT_EQ(status_of(single2), "confirmed");
  EXPECT_EQ(status_of(triple), "waitlisted");
  EXPECT_EQ(status_of(single4), "waitlisted");
  EXPECT_EQ(check_activity_state("fifo", 4), 4);
}

TEST_P(ApiBinaryTest, OneIdempotencyKeyThirtyTimesGivesOneRsvp) {
  create_activity("keyed", 10);
  const std::vector<std::string> headers(kSameKeyRequests,
                                         daemon_.auth("ulla") + "Idempotency-Key: k-30\r\n");
  const std::vector<ClientResponse> responses =
      concurrently("/api/v1/rsvps", R"({"activity_id":"keyed"})", headers);
  std::set<std::string> ids;
  int fresh = 0;
  for (const ClientResponse& response : responses) {
    if (response.status == 409) {
      EXPECT_EQ(slug_of(response), "idempotency-key-in-flight");
      continue;
    }
    ASSERT_EQ(response.status, 201) << response.body;
    ids.insert(json_of(response)["id"].to_str());
    fresh += response.headers.count("idempotent-replayed") == 0;
  }
  EXPECT_EQ(ids.size(), 1u);
  EXPECT_EQ(fresh, 1);
  ClientResponse replay = call("POST", "/api/v1/rsvps", R"({"activity_id":"keyed"})", headers[0]);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.headers["idempotent-replayed"], "true");
  EXPECT_EQ(slug_of(call("POST", "/api/v1/rsvps", R"({"activity_id":"keyed","guests":0})", headers[0])),
            "idempotency-key-reused");
  EXPECT_EQ(check_activity_state("keyed", 10), 1);
}

TEST_P(ApiBinaryTest, EveryAcknowledgedRsvpSurvivesSigkill) {
  create_activity("crash", 40);
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kCrashRequests; ++i) {
    clients.push_back(std::make_unique<TestClient>(daemon_.port(), kReadTimeoutMs));
    ASSERT_TRUE(clients.back()->send_all(TestClient::request(
        "POST", "/api/v1/rsvps", R"({"activity_id":"crash"})",
        daemon_.auth("crasher" + std::to_string(i)))));
  }
  std::vector<std::string> acknowledged;
  for (int i = 0; i < kCrashRequests / 2; ++i) {
    std::optional<ClientResponse> response = clients[i]->read_response();
    if (response && response->status == 201) acknowledged.push_back(json_of(*response)["id"].to_str());
  }
  daemon_.kill_hard();
  clients.clear();
  ASSERT_FALSE(acknowledged.empty());
  ASSERT_TRUE(daemon_.start()) << daemon_.log();
  for (const std::string& id : acknowledged) {
    ClientResponse response = call("GET", "/api/v1/rsvps/" + id, "", admin_);
    EXPECT_EQ(response.status, 200) << id;
  }
  check_activity_state("crash", 40);
  expect_no_overbooking_metric();
}

// DESIGN.md §1 under crashes, against the binary: SIGKILL at a random moment of a mixed load,
// six times on one data dir. After each restart every acknowledged RSVP is there (an
// acknowledged cancel stays cancelled; an unacknowledged one may or may not have happened), the
// audit replays to the listed state and nothing is overbooked.
TEST_P(ApiBinaryTest, SigkillAtRandomMomentsUnderLoadLosesNothing) {
  create_activity("kill", kKillSeats);
  std::mt19937 random(std::random_device{}());
  KillCycleLedger ledger;
  for (int cycle = 0; cycle < kKillCycles; ++cycle) {
    EXPECT_GT(run_kill_cycle(daemon_, cycle, kKillLoadThreads, random, ledger), 0u)
        << "cycle " << cycle << " killed the daemon before any 201";
    ASSERT_TRUE(daemon_.start()) << daemon_.log();
    for (const auto& [id, cancel_acknowledged] : ledger.expected) {
      ClientResponse response = call("GET", "/api/v1/rsvps/" + id, "", admin_);
      ASSERT_EQ(response.status, 200) << "acknowledged RSVP " << id << " lost in cycle " << cycle;
      const std::string status = json_of(response)["status"].to_str();
      EXPECT_TRUE(ledger.status_is_legal(id, status)) << id << " " << status;
    }
    check_activity_state("kill", kKillSeats);
    expect_no_overbooking_metric();
  }
}

INSTANTIATE_TEST_SUITE_P(Transports, ApiBinaryTest, ::testing::Values("uring", "epoll"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace rsvpd::http::testing
