// ApiHandler over a FakeService: routing, authentication, strict input, the order of checks,
// headers (X-Request-Id, CORS, ETag, Location, Cache-Control), problems and operations endpoints.
#include <gtest/gtest.h>

#include "tests/http/api_test_support.h"

namespace rsvpd::http::testing {
namespace {

const std::string kAdmin = bearer(token_for("root", {"admin"}));
const std::string kHost = bearer(token_for("hana", {"host"}));
const std::string kUser = bearer(token_for("ulla"));

using ApiRoutingTest = ApiFixture;
using ApiAuthTest = ApiFixture;
using ApiInputTest = ApiFixture;
using ApiActivityTest = ApiFixture;
using ApiRsvpTest = ApiFixture;
using ApiOperationsTest = ApiFixture;

TEST_F(ApiRoutingTest, UnknownRouteIs404NotFoundWithRequestId) {
  for (const char* target : {"/", "/api/v1", "/api/v2/activities", "/api/v1/activities/a/b",
                             "/api/v1/rsvps/user/u/x", "/api/v1//activities", "/healthz/x"}) {
    ClientResponse response = call("GET", target);
    EXPECT_EQ(response.status, 404) << target;
    EXPECT_EQ(slug_of(response), "not-found") << target;
    EXPECT_EQ(response.headers["content-type"], "application/problem+json");
    EXPECT_FALSE(response.headers["x-request-id"].empty());
    EXPECT_EQ(json_of(response)["request_id"].to_str(), response.headers["x-request-id"]);
  }
}

TEST_F(ApiRoutingTest, KnownRouteWithOtherMethodIs405WithAllow) {
  struct Case { const char* method; const char* target; const char* allow; };
  for (const Case& c : {Case{"GET", "/api/v1/activities", "POST, OPTIONS"},
                        Case{"DELETE", "/api/v1/activities/a1", "GET, PATCH, OPTIONS"},
                        Case{"PUT", "/api/v1/rsvps/r0000000000000001", "GET, DELETE, OPTIONS"},
                        Case{"POST", "/api/v1/activities/a1/capacity", "GET, OPTIONS"},
                        Case{"GET", "/api/v1/activities/a1/capacity/check", "POST, OPTIONS"},
                        Case{"POST", "/healthz", "GET, OPTIONS"}}) {
    ClientResponse response = call(c.method, c.target, "", kAdmin);
    EXPECT_EQ(response.status, 405) << c.method << " " << c.target;
    EXPECT_EQ(response.headers["allow"], c.allow);
    EXPECT_EQ(slug_of(response), "method-not-allowed");
  }
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(ApiRoutingTest, RequestIdIsEchoedWhenValidElseGenerated) {
  ClientResponse echoed = call("GET", "/healthz", "", "X-Request-Id: trace-123.abc\r\n");
  EXPECT_EQ(echoed.headers["x-request-id"], "trace-123.abc");
  ClientResponse replaced = call("GET", "/healthz", "", "X-Request-Id: has space\r\n");
  EXPECT_NE(replaced.headers["x-request-id"], "has space");
  EXPECT_FALSE(replaced.headers["x-request-id"].empty());
  ClientResponse first = call("GET", "/healthz");
  ClientResponse second = call("GET", "/healthz");
  EXPECT_NE(first.headers["x-request-id"], second.headers["x-request-id"]);
}

TEST_F(ApiRoutingTest, CorsHeadersForAllowedOriginsOnly) {
  ClientResponse allowed = call("GET", "/api/v1/activities/nope", "", "Origin: " + kTestOrigin + "\r\n");
  EXPECT_EQ(allowed.headers["access-control-allow-origin"], kTestOrigin);
  EXPECT_EQ(allowed.headers["vary"], "Origin");
  EXPECT_NE(allowed.headers["access-control-expose-headers"].find("Idempotent-Replayed"),
            std::string::npos);
  ClientResponse other = call("GET", "/healthz", "", "Origin: https://evil.example\r\n");
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(other.headers["vary"], "Origin");
}

TEST_F(ApiRoutingTest, PreflightNamesMethodsAndHeaders) {
  ClientResponse response = call("OPTIONS", "/api/v1/rsvps", "",
                                 "Origin: " + kTestOrigin +
                                     "\r\nAccess-Control-Request-Method: POST\r\n",
                                 /*head_only=*/true);
  EXPECT_EQ(response.status, 204);
  EXPECT_EQ(response.headers["access-control-allow-origin"], kTestOrigin);
  EXPECT_EQ(response.headers["access-control-allow-methods"], "POST, OPTIONS");
  const std::string headers = response.headers["access-control-allow-headers"];
  for (const char* name : {"Authorization", "Content-Type", "Idempotency-Key", "If-Match",
                           "X-Request-Id", "Last-Event-ID"}) {
    EXPECT_NE(headers.find(name), std::string::npos) << name;
  }
  EXPECT_EQ(call("OPTIONS", "/nowhere").status, 404);
}

TEST_F(ApiRoutingTest, EventStreamsAreRoutedAndAnswer501) {
  EXPECT_EQ(call("GET", "/api/v1/activities/a1/events").status, 501);
  EXPECT_EQ(call("GET", "/api/v1/users/me/events", "", kUser).status, 501);
  EXPECT_EQ(call("POST", "/api/v1/users/me/events").status, 405);
}

TEST_F(ApiAuthTest, EveryAuthFailureIs401AndChangesNothing) {
  const std::string claims =
      R"({"sub":"root","exp":)" + std::to_string(kTestNowS + 3600) + R"(,"roles":["admin"]})";
  const std::vector<std::string> bad_credentials = {
      "",  // missing
      "Authorization: Bearer not.a.token\r\n",
      "Authorization: Basic dXNlcjpwYXNz\r\n",
      bearer(token_signed_with(JWT_ALG_HS256, "another-secret-another-secret-xx", claims)),
      bearer(token_signed_with(JWT_ALG_HS512, kTestSecret, claims)),
      // alg none: header {"alg":"none"}, no signature.
      bearer("eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290IiwiZXhwIjo0MTAyNDQ0ODAwLCJyb2xlcyI6WyJhZG1pbiJdfQ."),
      bearer(token_for("root", {"admin"}, kTestNowS - 1)),               // expired
      bearer(token_for("root", {"admin"}, kTestNowS + 3600, kTestNowS + 60)),  // not yet valid
  };
  for (const std::string& credential : bad_credentials) {
    ClientResponse response =
        call("POST", "/api/v1/activities", R"({"capacity":5})", credential);
    EXPECT_EQ(response.status, 401) << credential;
    EXPECT_EQ(slug_of(response), "unauthenticated");
  }
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(ApiAuthTest, WrongRoleIs403AfterValidation) {
  ClientResponse forbidden = call("POST", "/api/v1/activities", R"({"capacity":5})", kUser);
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_EQ(slug_of(forbidden), "forbidden");
  // 422 comes before 403.
  EXPECT_EQ(call("POST", "/api/v1/activities", R"({"capacity":0})", kUser).status, 422);
  // host_id is for admins only.
  EXPECT_EQ(call("POST", "/api/v1/activities", R"({"capacity":5,"host_id":"x"})", kHost).status,
            403);
  EXPECT_EQ(service_.changes(), 0);
}

TEST_F(ApiInputTest, MalformedBodiesAre400) {
  for (const char* body : {"", "[]", "1", "{", R"({"capacity":5,"capacity":6})",
                           "{\"title\":\"\xff\",\"capacity\":5}", R"({"capacity":01})",
                           R"({"capacity":5} x)"}) {
    ClientResponse response = call("POST", "/api/v1/activities", body, kHost);
    EXPECT_EQ(response.status, 400) << body;
    EXPECT_EQ(slug_of(response), "malformed-json") << body;
  }
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(ApiInputTest, WrongTypesAndRangesAre422NamingTheField) {
  struct Case { const char* body; const char* field; };
  for (const Case& c : {Case{R"({"capacity":"5"})", "capacity"},
                        Case{R"({"capacity":5.0})", "capacity"},
                        Case{R"({"capacity":1.5})", "capacity"},
                        Case{R"({"capacity":true})", "capacity"},
                        Case{R"({"capacity":99999999999999999999})", "capacity"},
                        Case{R"({"capacity":1000001})", "capacity"},
                        Case{R"({})", "capacity"},
                        Case{R"({"capacity":5,"colour":"red"})", "colour"},
                        Case{R"({"capacity":5,"id":"bad id"})", "id"},
                        Case{R"({"capacity":5,"max_guests":101})", "max_guests"},
                        Case{R"({"capacity":5,"waitlist_limit":0})", "waitlist_limit"},
                        Case{R"({"capacity":5,"rsvp_opens_at":"yesterday"})", "rsvp_opens_at"}}) {
    ClientResponse response = call("POST", "/api/v1/activities", c.body, kHost);
    EXPECT_EQ(response.status, 422) << c.body;
    EXPECT_EQ(slug_of(response), "invalid-field");
    picojson::object body = json_of(response);
    ASSERT_TRUE(body["errors"].is<picojson::array>()) << response.body;
    EXPECT_EQ(body["errors"].get<picojson::array>()[0].get("field").to_str(), c.field) << c.body;
  }
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(ApiInputTest, OversizedBodyIs413AndHeadersAre431) {
  const std::string big(17 * 1024, ' ');
  ClientResponse body = call("POST", "/api/v1/activities", "{" + big + "}", kHost);
  EXPECT_EQ(body.status, 413);
  EXPECT_EQ(slug_of(body), "payload-too-large");
  ClientResponse headers = call("GET", "/healthz", "", "X-Big: " + big + "\r\n");
  EXPECT_EQ(headers.status, 431);
  EXPECT_EQ(service_.calls(), 0);
}

TEST_F(ApiInputTest, OrderOfChecks) {
  // 401 before 400: a bad token with a broken body.
  EXPECT_EQ(call("POST", "/api/v1/rsvps", "{", "Authorization: Bearer x\r\n").status, 401);
  // 400 before 422: duplicate keys and an unknown field.
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"x":1,"x":2})", kUser).status, 400);
  // 422 before 404: an unknown field on a missing activity.
  EXPECT_EQ(call("PATCH", "/api/v1/activities/missing", R"({"bogus":1})", kHost).status, 422);
  // 404 before 403 (the service's order): a user patching a missing activity.
  EXPECT_EQ(call("PATCH", "/api/v1/activities/missing", R"({"title":"t"})", kUser).status, 404);
  create_activity();
  // 403 before 412: a stranger with a stale If-Match.
  EXPECT_EQ(call("PATCH", "/api/v1/activities/a1", R"({"title":"t"})",
                 kUser + "If-Match: \"9\"\r\n").status,
            403);
  EXPECT_EQ(service_.changes(), 1);
}

TEST_F(ApiActivityTest, CreateGetPatchWithEtagAndLocation) {
  ClientResponse created = call("POST", "/api/v1/activities",
                                R"({"id":"a1","title":"Yoga","capacity":10,"waitlist_limit":null})",
                                kHost);
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.headers["location"], "/api/v1/activities/a1");
  EXPECT_EQ(created.headers["etag"], "\"1\"");
  EXPECT_EQ(created.headers["cache-control"], "no-store");
  picojson::object body = json_of(created);
  EXPECT_EQ(body["host_id"].to_str(), "hana");
  EXPECT_TRUE(body["waitlist_limit"].is<picojson::null>());
  EXPECT_TRUE(body["rsvp_opens_at"].is<picojson::null>());
  EXPECT_EQ(body["available_seats"].get<int64_t>(), 10);
  EXPECT_EQ(body["status"].to_str(), "open");
  EXPECT_EQ(body["created_at"].to_str(), "2026-12-03T18:23:15.123Z");
  for (const char* key : {"id", "title", "host_id", "capacity", "max_guests", "waitlist",
                          "waitlist_limit", "status", "rsvp_opens_at", "rsvp_closes_at",
                          "confirmed_seats", "available_seats", "waitlist_length",
                          "waitlisted_seats", "version", "created_at", "updated_at"}) {
    EXPECT_EQ(body.count(key), 1u) << key;
  }
  ClientResponse fetched = call("GET", "/api/v1/activities/a1");
  EXPECT_EQ(fetched.status, 200);
  EXPECT_EQ(fetched.headers["etag"], "\"1\"");
  EXPECT_EQ(call("GET", "/api/v1/activities/zz").status, 404);
  EXPECT_EQ(slug_of(call("GET", "/api/v1/activities/bad%20id")), "activity-not-found");
  EXPECT_EQ(slug_of(call("POST", "/api/v1/activities", R"({"id":"a1","capacity":1})", kHost)),
            "activity-exists");

  ClientResponse stale = call("PATCH", "/api/v1/activities/a1", R"({"capacity":12})",
                              kHost + "If-Match: \"7\"\r\n");
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(slug_of(stale), "version-mismatch");
  EXPECT_EQ(call("PATCH", "/api/v1/activities/a1", R"({"capacity":12})",
                 kHost + "If-Match: W/\"1\"\r\n").status,
            412);
  ClientResponse patched = call("PATCH", "/api/v1/activities/a1",
                                R"({"capacity":12,"waitlist_limit":null,"rsvp_closes_at":null})",
                                kHost + "If-Match: \"1\"\r\n");
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.headers["etag"], "\"2\"");
  const ActivityPatch patch = service_.last_patch();
  ASSERT_TRUE(patch.waitlist_limit.has_value());
  EXPECT_FALSE(patch.waitlist_limit->has_value());  // null clears
  ASSERT_TRUE(patch.rsvp_closes_at_ms.has_value());
  EXPECT_FALSE(patch.rsvp_opens_at_ms.has_value());  // absent keeps
}

TEST_F(ApiActivityTest, CapacityParticipantsAndAudit) {
  create_activity();
  ClientResponse capacity = call("GET", "/api/v1/activities/a1/capacity");
  EXPECT_EQ(capacity.status, 200);
  EXPECT_EQ(json_of(capacity).count("would_confirm"), 0u);
  ClientResponse check = call("POST", "/api/v1/activities/a1/capacity/check", R"({"guests":1})");
  EXPECT_EQ(check.status, 200);
  EXPECT_TRUE(json_of(check)["would_confirm"].get<bool>());
  EXPECT_EQ(call("POST", "/api/v1/activities/a1/capacity/check").status, 200);
  EXPECT_EQ(call("POST", "/api/v1/activities/a1/capacity/check", R"({"guests":-1})").status, 422);
  EXPECT_EQ(call("GET", "/api/v1/activities/a1/participants").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/activities/a1/participants", "", kUser).status, 403);
  ClientResponse participants = call("GET", "/api/v1/activities/a1/participants?status=confirmed&limit=5", "", kHost);
  EXPECT_EQ(participants.status, 200);
  EXPECT_TRUE(json_of(participants)["next_cursor"].is<picojson::null>());
  EXPECT_EQ(call("GET", "/api/v1/activities/a1/participants?limit=501", "", kHost).status, 422);
  EXPECT_EQ(call("GET", "/api/v1/activities/a1/participants?status=cancelled", "", kHost).status, 422);
  ClientResponse audit = call("GET", "/api/v1/activities/a1/audit?after=0&limit=10", "", kHost);
  EXPECT_EQ(audit.status, 200) << audit.body;
  picojson::object entry = json_of(audit)["entries"].get<picojson::array>()[0].get<picojson::object>();
  EXPECT_EQ(entry["op"].to_str(), "activity.created");
  EXPECT_TRUE(entry["rsvp_id"].is<picojson::null>());
  EXPECT_EQ(call("GET", "/api/v1/activities/a1/audit?after=-1", "", kHost).status, 422);
}

TEST_F(ApiRsvpTest, CreateGetCancelAndList) {
  create_activity();
  ClientResponse created = call("POST", "/api/v1/rsvps", R"({"activity_id":"a1","guests":1})", kUser);
  ASSERT_EQ(created.status, 201) << created.body;
  picojson::object rsvp = json_of(created);
  const std::string id = rsvp["id"].to_str();
  EXPECT_EQ(created.headers["location"], "/api/v1/rsvps/" + id);
  EXPECT_EQ(rsvp["party_size"].get<int64_t>(), 2);
  EXPECT_EQ(rsvp["status"].to_str(), "confirmed");
  EXPECT_TRUE(rsvp["waitlist_position"].is<picojson::null>());
  EXPECT_TRUE(rsvp["cancelled_at"].is<picojson::null>());
  ClientResponse again = call("POST", "/api/v1/rsvps", R"({"activity_id":"a1"})", kUser);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(slug_of(again), "already-rsvped");
  EXPECT_EQ(json_of(again)["rsvp_id"].to_str(), id);
  ClientResponse waiting = call("POST", "/api/v1/rsvps", R"({"activity_id":"a1"})",
                                bearer(token_for("wim")));
  EXPECT_EQ(json_of(waiting)["waitlist_position"].get<int64_t>(), 1);

  EXPECT_EQ(call("GET", "/api/v1/rsvps/" + id, "", kUser).status, 200);
  EXPECT_EQ(call("GET", "/api/v1/rsvps/" + id, "", bearer(token_for("wim"))).status, 403);
  EXPECT_EQ(slug_of(call("GET", "/api/v1/rsvps/nonsense", "", kUser)), "rsvp-not-found");
  EXPECT_EQ(slug_of(call("GET", "/api/v1/rsvps/r00000000000000ff", "", kUser)), "rsvp-not-found");
  ClientResponse listed = call("GET", "/api/v1/rsvps/user/ulla?status=confirmed", "", kUser);
  EXPECT_EQ(listed.status, 200);
  EXPECT_EQ(json_of(listed)["rsvps"].get<picojson::array>().size(), 1u);
  EXPECT_EQ(call("GET", "/api/v1/rsvps/user/ulla", "", bearer(token_for("wim"))).status, 403);
  EXPECT_EQ(call("GET", "/api/v1/rsvps/user/ulla?status=gone", "", kUser).status, 422);
  EXPECT_EQ(call("GET", "/api/v1/rsvps/user/ulla?cursor=zzz", "", kUser).status, 422);

  ClientResponse cancelled = call("DELETE", "/api/v1/rsvps/" + id, "", kUser);
  EXPECT_EQ(cancelled.status, 200);
  EXPECT_EQ(json_of(cancelled)["status"].to_str(), "cancelled");
  EXPECT_EQ(call("DELETE", "/api/v1/rsvps/" + id, "", kUser).status, 200);
}

TEST_F(ApiRsvpTest, IdempotencyKeyValidationReplayAndFingerprint) {
  create_activity();
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"a1"})",
                 kUser + "Idempotency-Key: " + std::string(129, 'k') + "\r\n").status,
            422);
  EXPECT_EQ(call("POST", "/api/v1/rsvps", R"({"activity_id":"a1"})",
                 kUser + "Idempotency-Key: caf\xc3\xa9\r\n").status,
            422);
  EXPECT_EQ(service_.calls(), 1);  // Only the activity.
  const std::string key = kUser + "Idempotency-Key: key-1\r\n";
  ClientResponse first = call("POST", "/api/v1/rsvps", R"({"guests":0, "activity_id":"a1"})", key);
  EXPECT_EQ(first.status, 201);
  EXPECT_EQ(first.headers.count("idempotent-replayed"), 0u);
  EXPECT_EQ(service_.last_rsvp().request_fingerprint, R"({"activity_id":"a1","guests":0})");
  ClientResponse replay = call("POST", "/api/v1/rsvps", R"({"activity_id":"a1","guests":0})", key);
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.headers["idempotent-replayed"], "true");
  EXPECT_EQ(json_of(replay)["id"].to_str(), json_of(first)["id"].to_str());
  ClientResponse reused = call("POST", "/api/v1/rsvps", R"({"activity_id":"a1","guests":1})", key);
  EXPECT_EQ(slug_of(reused), "idempotency-key-reused");
}

TEST_F(ApiRsvpTest, ServiceFailuresMapToStatusesAndSlugs) {
  create_activity();
  struct Case { ServiceError error; int status; const char* slug; };
  for (const Case& c : {Case{ServiceError::kOverloaded, 503, "overloaded"},
                        Case{ServiceError::kStorageFull, 503, "storage-full"},
                        Case{ServiceError::kActivityTableFull, 507, "activity-table-full"},
                        Case{ServiceError::kRsvpClosed, 409, "rsvp-closed"},
                        Case{ServiceError::kActivityArchived, 409, "activity-archived"},
                        Case{ServiceError::kActivityFull, 409, "activity-full"},
                        Case{ServiceError::kIdempotencyKeyInFlight, 409, "idempotency-key-in-flight"},
                        Case{ServiceError::kInternal, 500, "internal"}}) {
    service_.fail_next(c.error);
    ClientResponse response = call("POST", "/api/v1/rsvps", R"({"activity_id":"a1"})", kUser);
    EXPECT_EQ(response.status, c.status) << c.slug;
    EXPECT_EQ(slug_of(response), c.slug);
    if (c.error == ServiceError::kOverloaded) {
      EXPECT_EQ(response.headers["retry-after"], "1");
    }
  }
  EXPECT_EQ(service_.changes(), 1);
}

TEST_F(ApiOperationsTest, HealthReadyAndMetrics) {
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  EXPECT_EQ(call("GET", "/readyz").status, 200);
  service_.set_ready(false);
  EXPECT_EQ(call("GET", "/readyz").status, 503);
  service_.mutable_metrics().promotions_total = 3;
  ClientResponse metrics = call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers["content-type"].find("text/plain"), std::string::npos);
  for (const char* line : {"rsvpd_overbooking_detected_total 0", "rsvpd_waitlist_promotions_total 3",
                           "rsvpd_http_requests_total{route=\"/readyz\",status=\"503\"} 1",
                           "rsvpd_http_request_duration_seconds_bucket{route=\"/healthz\",status=\"200\",le=\"+Inf\"} 1",
                           "rsvpd_connections_accepted_total"}) {
    EXPECT_NE(metrics.body.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace rsvpd::http::testing
