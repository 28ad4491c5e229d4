// Server-Sent Events with a real browser as the client: headless chromium loads a page from the
// test's own server (PageServer, one origin), the page opens EventSource on rsvpd (another
// origin) for the user stream (?access_token=) and an activity's capacity stream, and posts all
// it sees back to the page's origin. The browser enforces CORS itself, so this checks what the
// socket-level tests (events_binary_test) cannot: that a browser accepts rsvpd's streams across
// origins, parses them into the events API.md promises, and refuses them when rsvpd does not
// allow the page's origin.
//
// The steps run in lockstep with the browser: each change through the API waits until the page
// reported the event it causes, so every change gets its own event and the expected sequence is
// exact (no coalescing can merge two changes). Waits are bounded only against hangs; the
// assertions on what the browser reported decide the outcome.
#include <gtest/gtest.h>
#include <picojson.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "http/detail/uring_loop.h"
#include "http/jwt_auth.h"
#include "tests/http/api_test_support.h"
#include "tests/http/chromium_process.h"
#include "tests/http/daemon_process.h"
#include "tests/http/page_server.h"

namespace rsvpd::http::testing {
namespace {

constexpr int kReadTimeoutMs = 20000;
// Chromium's start on a busy two-core machine takes seconds; this bounds a hang, nothing else.
constexpr auto kBrowserDeadline = std::chrono::seconds(60);
constexpr int kReadyStateClosed = 2;  // EventSource.CLOSED
constexpr char kActivity[] = "browser-concert";

// One thing the page reported: an event, or a stream's open/error.
struct Report {
  std::string stream;  // "user" | "capacity"
  int64_t n = -1;      // Per stream, in the order the browser saw them.
  std::string type;    // An event name, or "open", "error", "message" (an unnamed event).
  int64_t ready_state = -1;
  std::string id;    // The event's lastEventId.
  std::string data;  // The event's data as the browser decoded it.
};

// What each stream reported, in the browser's order; only the gap-free prefix (a report still
// in flight holds back the ones after it).
using Observed = std::map<std::string, std::vector<Report>>;

Observed observed(const std::vector<std::string>& bodies) {
  std::map<std::string, std::map<int64_t, Report>> numbered;
  for (const std::string& body : bodies) {
    picojson::value value;
    const std::string error = picojson::parse(value, body);
    if (!error.empty() || !value.is<picojson::object>()) {
      ADD_FAILURE() << "unreadable report: " << body;
      continue;
    }
    const picojson::object& object = value.get<picojson::object>();
    Report report;
    auto text = [&](const char* key) {
      const auto found = object.find(key);
      return found != object.end() && found->second.is<std::string>()
                 ? found->second.get<std::string>()
                 : std::string();
    };
    auto number = [&](const char* key) {
      const auto found = object.find(key);
      return found != object.end() && found->second.is<int64_t>() ? found->second.get<int64_t>()
                                                                  : int64_t{-1};
    };
    report.stream = text("stream");
    report.n = number("n");
    report.type = text("type");
    report.ready_state = number("ready_state");
    report.id = text("id");
    report.data = text("data");
    numbered[report.stream][report.n] = std::move(report);
  }
  Observed result;
  for (auto& [stream, by_number] : numbered) {
    std::vector<Report>& list = result[stream];
    for (auto& [n, report] : by_number) {
      if (n != static_cast<int64_t>(list.size())) break;
      list.push_back(std::move(report));
    }
  }
  return result;
}

size_t count_of(const Observed& seen, const std::string& stream,
                const std::function<bool(const Report&)>& which) {
  const auto found = seen.find(stream);
  if (found == seen.end()) return 0;
  return static_cast<size_t>(std::count_if(found->second.begin(), found->second.end(), which));
}

bool is_type(const Report& report, const std::string& type) { return report.type == type; }
bool is_user_event(const Report& report) { return report.type.rfind("rsvp.", 0) == 0; }
bool is_error(const Report& report) { return report.type == "error"; }
bool is_capacity_event(const Report& report) { return report.type == "capacity"; }

// A stream failed: no wait for more events needs to go on, the assertions will tell.
bool any_error(const Observed& seen) {
  return count_of(seen, "user", is_error) + count_of(seen, "capacity", is_error) > 0;
}

std::string describe(const Observed& seen) {
  std::ostringstream text;
  for (const auto& [stream, reports] : seen) {
    for (const Report& report : reports) {
      text << "  " << stream << " #" << report.n << " " << report.type
           << " ready_state=" << report.ready_state << " id=" << report.id << " " << report.data
           << "\n";
    }
  }
  return text.str();
}

picojson::object parse_object(const std::string& text) {
  picojson::value value;
  const std::string error = picojson::parse(value, text);
  EXPECT_TRUE(error.empty()) << error << " in " << text;
  return value.is<picojson::object>() ? value.get<picojson::object>() : picojson::object();
}

std::string read_page() {
  std::ifstream file(RSVPD_BROWSER_EVENTS_PAGE);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// What the capacity stream must carry after one step: the event id and its data.
struct CapacityState {
  uint64_t id = 0;
  picojson::object data;
};

// One audit entry of the user the page listens as.
struct Transition {
  uint64_t seq = 0;
  std::string op;
  std::string rsvp_id;
};

class BrowserEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    chromium_binary_ = find_chromium();
    if (!chromium_binary_) {
      GTEST_SKIP() << "no chromium binary (RSVPD_CHROMIUM, else `chromium` on PATH): the "
                      "browser test needs Debian's chromium package, which "
                      "scripts/install-deps.sh installs";
    }
    page_html_ = read_page();
    ASSERT_FALSE(page_html_.empty()) << "cannot read " << RSVPD_BROWSER_EVENTS_PAGE;
    page_ = std::make_unique<PageServer>(page_html_);
  }

  void start_daemon(const std::string& cors_origin, const std::string& io = "auto") {
    ASSERT_TRUE(daemon_.start({"--io", io, "--cors-origin", cors_origin})) << daemon_.log();
    admin_ = daemon_.auth("root", {"admin"});
  }

  ClientResponse call(std::string_view method, const std::string& target,
                      std::string_view body = {}, std::string_view headers = {}) {
    TestClient client(daemon_.port(), kReadTimeoutMs);
    EXPECT_TRUE(client.send_all(TestClient::request(method, target, body, headers)));
    std::optional<ClientResponse> response = client.read_response();
    EXPECT_TRUE(response.has_value()) << method << " " << target;
    return response.value_or(ClientResponse{});
  }
  std::string rsvp(const std::string& user) {
    const ClientResponse response =
        call("POST", "/api/v1/rsvps",
             std::string("{\"activity_id\":\"") + kActivity + "\",\"user_id\":\"" + user + "\"}",
             admin_);
    EXPECT_EQ(response.status, 201) << response.body;
    return json_of(response)["id"].to_str();
  }
  void cancel(const std::string& rsvp_id) {
    const ClientResponse response = call("DELETE", "/api/v1/rsvps/" + rsvp_id, {}, admin_);
    EXPECT_EQ(response.status, 200) << response.body;
  }

  // The activity's audit trail (the test writes far fewer entries than one page holds).
  std::vector<picojson::object> audit() {
    const ClientResponse response = call(
        "GET", std::string("/api/v1/activities/") + kActivity + "/audit?limit=500", {}, admin_);
    EXPECT_EQ(response.status, 200) << response.body;
    picojson::object body = json_of(response);
    EXPECT_TRUE(body["next_after"].is<picojson::null>()) << "more than one page of audit";
    std::vector<picojson::object> entries;
    if (!body["entries"].is<picojson::array>()) return entries;
    for (const picojson::value& entry : body["entries"].get<picojson::array>()) {
      entries.push_back(entry.get<picojson::object>());
    }
    return entries;
  }

  // The committed state a capacity event must show now: the id is the activity's last audit
  // seq, the data is what GET /capacity reports plus the settings' version.
  CapacityState committed_capacity() {
    CapacityState state;
    const std::vector<picojson::object> entries = audit();
    if (!entries.empty()) {
      state.id = static_cast<uint64_t>(entries.back().at("seq").get<int64_t>());
    }
    const ClientResponse capacity =
        call("GET", std::string("/api/v1/activities/") + kActivity + "/capacity");
    EXPECT_EQ(capacity.status, 200) << capacity.body;
    state.data = json_of(capacity);
    const ClientResponse activity = call("GET", std::string("/api/v1/activities/") + kActivity);
    EXPECT_EQ(activity.status, 200) << activity.body;
    state.data["version"] = json_of(activity)["version"];
    return state;
  }

  // `user`'s RSVP transitions in the activity's audit trail, in order.
  std::vector<Transition> transitions_of(const std::string& user) {
    std::vector<Transition> result;
    for (const picojson::object& entry : audit()) {
      const std::string op = entry.at("op").to_str();
      if (op.rfind("rsvp.", 0) != 0 || entry.at("user_id").to_str() != user) continue;
      result.push_back({static_cast<uint64_t>(entry.at("seq").get<int64_t>()), op,
                        entry.at("rsvp_id").to_str()});
    }
    return result;
  }

  std::string page_url(const std::string& user) {
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    Result<std::string> token = mint_token(daemon_.secret_cached(), user, {}, now_s + 3600);
    EXPECT_TRUE(token.is_ok());
    // The JWT is base64url and dots, and the origin only ':' and '/': nothing to escape.
    return page_->origin() + "/?daemon=http://127.0.0.1:" + std::to_string(daemon_.port()) +
           "&activity=" + kActivity + "&token=" + (token.is_ok() ? token.value() : "");
  }

  // Waits until the page's reports satisfy `done`; false when the browser died or the deadline
  // passed.
  bool wait_for_browser(const std::function<bool(const Observed&)>& done) {
    return page_->wait_for(
        [&](const std::vector<std::string>& bodies) { return done(observed(bodies)); },
        [&] { return chromium_->running(); }, kBrowserDeadline);
  }
  std::string diagnostics() {
    std::ostringstream text;
    text << "browser reports:\n" << describe(observed(page_->reports())) << "page server saw:\n";
    for (const std::string& line : page_->requests()) text << "  " << line << "\n";
    text << "chromium " << (chromium_ && chromium_->running() ? "running" : "not running")
         << ", log tail:\n"
         << (chromium_ ? chromium_->log_tail() : "") << "\n";
    return text.str();
  }

  // rsvpd_http_requests_total for a route and status (0 when never counted).
  int64_t requests_total(const std::string& route, int status) {
    const std::string text = call("GET", "/metrics").body;
    const std::string key = "rsvpd_http_requests_total{route=\"" + route + "\",status=\"" +
                            std::to_string(status) + "\"} ";
    const size_t at = text.find(key);
    return at == std::string::npos ? 0 : std::stoll(text.substr(at + key.size()));
  }

  std::optional<std::string> chromium_binary_;
  std::string page_html_;
  std::unique_ptr<PageServer> page_;
  std::unique_ptr<ChromiumProcess> chromium_;
  DaemonProcess daemon_;
  std::string admin_;
};

// Over both transports: each streams responses its own way.
class BrowserTransportTest : public BrowserEventsTest,
                             public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "uring") {
      Status probe = detail::probe_uring();
      if (!probe.is_ok()) GTEST_SKIP() << "io_uring is not permitted here: " << probe.message();
    }
    BrowserEventsTest::SetUp();
  }
};

TEST_P(BrowserTransportTest, BrowserFollowsCapacityAndItsUsersTransitionsAcrossOrigins) {
  start_daemon(page_->origin(), GetParam());
  const ClientResponse created =
      call("POST", "/api/v1/activities",
           std::string("{\"id\":\"") + kActivity + "\",\"capacity\":2}", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  // Before the browser comes: its first capacity event must show this state, not an empty one.
  std::string bob = rsvp("bob");

  chromium_ = std::make_unique<ChromiumProcess>(*chromium_binary_);
  chromium_->start(page_url("alice"));
  // The page opens the capacity stream after the user stream answered, so the first capacity
  // event means both streams are subscribed.
  ASSERT_TRUE(wait_for_browser([](const Observed& seen) {
    return count_of(seen, "capacity", is_capacity_event) >= 1 || any_error(seen);
  })) << diagnostics();
  ASSERT_FALSE(any_error(observed(page_->reports()))) << "a stream failed before any change:\n"
                                                      << diagnostics();

  std::vector<CapacityState> expected_capacity = {committed_capacity()};
  // Each step, then wait until the browser reported the capacity event it causes and, when it
  // concerns alice, her transition.
  auto step = [&](const std::function<void()>& change) {
    change();
    expected_capacity.push_back(committed_capacity());
    const size_t capacity_events = expected_capacity.size();
    const size_t user_events = transitions_of("alice").size();
    return wait_for_browser([&](const Observed& seen) {
      return (count_of(seen, "capacity", is_capacity_event) >= capacity_events &&
              count_of(seen, "user", is_user_event) >= user_events) ||
             any_error(seen);
    });
  };
  std::string alice_first;
  std::string dave;
  std::string alice_second;
  ASSERT_TRUE(step([&] { alice_first = rsvp("alice"); })) << diagnostics();   // Confirmed: 2/2.
  ASSERT_TRUE(step([&] { dave = rsvp("dave"); })) << diagnostics();           // Waitlisted.
  ASSERT_TRUE(step([&] { cancel(alice_first); })) << diagnostics();           // Dave promoted.
  ASSERT_TRUE(step([&] { alice_second = rsvp("alice"); })) << diagnostics();  // Waitlisted.
  ASSERT_TRUE(step([&] { cancel(bob); })) << diagnostics();                   // Alice promoted.
  ASSERT_TRUE(step([&] { cancel(dave); })) << diagnostics();                  // 1/2 confirmed.

  const Observed seen = observed(page_->reports());
  const std::vector<Report>& capacity = seen.at("capacity");
  const std::vector<Report>& user = seen.at("user");
  SCOPED_TRACE(describe(seen));

  // Both streams opened once, across origins, and never failed or reconnected.
  EXPECT_EQ(count_of(seen, "user", [](const Report& r) { return is_type(r, "open"); }), 1u);
  EXPECT_EQ(count_of(seen, "capacity", [](const Report& r) { return is_type(r, "open"); }), 1u);
  for (const std::string stream : {"user", "capacity"}) {
    EXPECT_EQ(count_of(seen, stream, is_error), 0u) << stream;
    EXPECT_EQ(count_of(seen, stream, [](const Report& r) { return is_type(r, "message"); }), 0u)
        << stream << ": an event without a name the page listens for";
  }

  // Capacity: the state at opening first, then one event per change, each exactly the
  // committed state after it, with increasing ids.
  std::vector<Report> capacity_events;
  for (const Report& report : capacity) {
    if (is_capacity_event(report)) capacity_events.push_back(report);
  }
  ASSERT_EQ(capacity_events.size(), expected_capacity.size());
  uint64_t previous_id = 0;
  for (size_t i = 0; i < capacity_events.size(); ++i) {
    SCOPED_TRACE("capacity event " + std::to_string(i));
    const uint64_t id = std::stoull(capacity_events[i].id);
    EXPECT_GT(id, previous_id);
    previous_id = id;
    EXPECT_EQ(id, expected_capacity[i].id);
    // picojson objects are sorted maps: equal objects serialize alike.
    EXPECT_EQ(picojson::value(parse_object(capacity_events[i].data)).serialize(),
              picojson::value(expected_capacity[i].data).serialize());
  }
  const picojson::object first = parse_object(capacity_events.front().data);
  EXPECT_EQ(first.at("confirmed_seats").get<int64_t>(), 1);  // Bob's, from before the browser.
  const picojson::object last = parse_object(capacity_events.back().data);
  EXPECT_EQ(last.at("confirmed_seats").get<int64_t>(), 1);  // Alice's, after all the changes.
  EXPECT_EQ(last.at("available_seats").get<int64_t>(), 1);
  EXPECT_EQ(last.at("waitlist_length").get<int64_t>(), 0);

  // User stream: exactly alice's transitions (none of bob's or dave's), ids = audit seqs, data =
  // her RSVP as it stood after the transition.
  const std::vector<Transition> transitions = transitions_of("alice");
  const std::vector<std::pair<std::string, std::string>> expected_user = {
      {"rsvp.confirmed", alice_first},
      {"rsvp.cancelled", alice_first},
      {"rsvp.waitlisted", alice_second},
      {"rsvp.promoted", alice_second}};
  ASSERT_EQ(transitions.size(), expected_user.size());
  std::vector<Report> user_events;
  for (const Report& report : user) {
    if (is_user_event(report)) user_events.push_back(report);
  }
  ASSERT_EQ(user_events.size(), transitions.size());
  const std::map<std::string, std::string> status_after = {{"rsvp.confirmed", "confirmed"},
                                                           {"rsvp.waitlisted", "waitlisted"},
                                                           {"rsvp.promoted", "confirmed"},
                                                           {"rsvp.cancelled", "cancelled"}};
  previous_id = 0;
  for (size_t i = 0; i < user_events.size(); ++i) {
    SCOPED_TRACE("user event " + std::to_string(i));
    EXPECT_EQ(transitions[i].op, expected_user[i].first);
    EXPECT_EQ(transitions[i].rsvp_id, expected_user[i].second);
    EXPECT_EQ(user_events[i].type, transitions[i].op);
    const uint64_t id = std::stoull(user_events[i].id);
    EXPECT_GT(id, previous_id);
    previous_id = id;
    EXPECT_EQ(id, transitions[i].seq);
    const picojson::object data = parse_object(user_events[i].data);
    EXPECT_EQ(data.at("id").to_str(), transitions[i].rsvp_id);
    EXPECT_EQ(data.at("user_id").to_str(), "alice");
    EXPECT_EQ(data.at("activity_id").to_str(), kActivity);
    EXPECT_EQ(data.at("status").to_str(), status_after.at(transitions[i].op));
  }
  EXPECT_TRUE(chromium_->stop()) << "a chromium process outlived stop()";
}

// rsvpd allows another origin than the page's (same port, but "localhost" is not
// "127.0.0.1"): it still answers both streams with 200, and the browser refuses to hand
// either to the page.
TEST_F(BrowserEventsTest, BrowserGetsNothingWhenItsOriginIsNotAllowed) {
  const std::string wrong_origin = "http://localhost:" + std::to_string(page_->port());
  start_daemon(wrong_origin);
  const ClientResponse created =
      call("POST", "/api/v1/activities",
           std::string("{\"id\":\"") + kActivity + "\",\"capacity\":2}", admin_);
  ASSERT_EQ(created.status, 201) << created.body;
  rsvp("bob");
  rsvp("alice");

  chromium_ = std::make_unique<ChromiumProcess>(*chromium_binary_);
  chromium_->start(page_url("alice"));
  // A CORS failure makes the browser fail the connection: an error with readyState CLOSED, and
  // no reconnection.
  auto closed_by_error = [](const Report& r) {
    return is_type(r, "error") && r.ready_state == kReadyStateClosed;
  };
  auto not_error = [](const Report& r) { return !is_error(r); };
  ASSERT_TRUE(wait_for_browser([&](const Observed& seen) {
    return (count_of(seen, "user", closed_by_error) >= 1 &&
            count_of(seen, "capacity", closed_by_error) >= 1) ||
           count_of(seen, "user", not_error) + count_of(seen, "capacity", not_error) > 0;
  })) << diagnostics();
  const Observed seen = observed(page_->reports());
  SCOPED_TRACE(describe(seen));
  for (const std::string stream : {"user", "capacity"}) {
    EXPECT_EQ(count_of(seen, stream, not_error), 0u)
        << stream << ": the browser let something through";
    EXPECT_EQ(count_of(seen, stream, closed_by_error), 1u) << stream;
    EXPECT_EQ(count_of(seen, stream, is_error), 1u) << stream << ": it tried again";
  }
  // rsvpd did answer both: the browser, not the daemon, refused them.
  EXPECT_GE(requests_total("/api/v1/users/me/events", 200), 1);
  EXPECT_GE(requests_total("/api/v1/activities/{id}/events", 200), 1);
  // And it answered without allowing the page's origin.
  TestClient client(daemon_.port(), kReadTimeoutMs);
  ASSERT_TRUE(client.send_all(
      TestClient::request("GET", std::string("/api/v1/activities/") + kActivity + "/events", {},
                          "Origin: " + page_->origin() + "\r\n")));
  const std::optional<ClientResponse> head = client.read_response();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->headers.count("access-control-allow-origin"), 0u);
  EXPECT_TRUE(chromium_->stop()) << "a chromium process outlived stop()";
}

INSTANTIATE_TEST_SUITE_P(Transports, BrowserTransportTest, ::testing::Values("epoll", "uring"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace
}  // namespace rsvpd::http::testing
