// Server-Sent Events against the real rsvpd binary, over both transports: capacity streams follow
// every committed change in order; user streams carry the caller's transitions only; a burst
// coalesces to the final state; a client that stops reading is dropped while others go on;
// Last-Event-ID replays across a restart with no gap and no duplicate; the client cap, auth and
// input errors; SIGTERM with open streams.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <set>
#include <thread>

#include "http/detail/uring_loop.h"
#include "tests/http/api_test_support.h"
#include "tests/http/daemon_process.h"

namespace rsvpd::http::testing {
namespace {

constexpr int kReadTimeoutMs = 20000;
constexpr int kBurstChanges = 10'000;
constexpr int kBurstConnections = 8;
constexpr auto kEventualDeadline = std::chrono::seconds(20);

struct Event {
  uint64_t id = 0;
  std::string name;
  picojson::object data;
};

// Parses one SSE block; comments (": ping") come back with an empty name.
Event parse_event(const std::string& block) {
  Event event;
  std::size_t start = 0;
  while (start < block.size()) {
    std::size_t end = block.find('\n', start);
    if (end == std::string::npos) end = block.size();
    const std::string line = block.substr(start, end - start);
    start = end + 1;
    if (line.rfind("id: ", 0) == 0) event.id = std::stoull(line.substr(4));
    if (line.rfind("event: ", 0) == 0) event.name = line.substr(7);
    if (line.rfind("data: ", 0) == 0) {
      picojson::value value;
      const std::string error = picojson::parse(value, line.substr(6));
      EXPECT_TRUE(error.empty()) << error << " in " << line;
      if (value.is<picojson::object>()) event.data = value.get<picojson::object>();
    }
  }
  return event;
}

int64_t number(const picojson::object& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->second.is<int64_t>() ? found->second.get<int64_t>() : -1;
}

// One open event stream on its own connection.
class Stream {
 public:
  Stream(uint16_t port, const std::string& target, const std::string& headers = {},
         int receive_buffer_bytes = 0)
      : client_(port, kReadTimeoutMs, receive_buffer_bytes) {
    EXPECT_TRUE(client_.valid());
    EXPECT_TRUE(client_.send_all(TestClient::request("GET", target, {}, headers)));
  }
  ClientResponse head() {
    std::optional<ClientResponse> response = client_.read_response();
    EXPECT_TRUE(response.has_value());
    return response.value_or(ClientResponse{});
  }
  // The next event that is not a comment; nullopt at EOF or timeout.
  std::optional<Event> next() {
    while (std::optional<std::string> block = client_.read_event()) {
      Event event = parse_event(*block);
      if (!event.name.empty()) return event;
    }
    return std::nullopt;
  }
  TestClient& client() { return client_; }

 private:
  TestClient client_;
};

class EventsBinaryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "uring") {
      Status probe = detail::probe_uring();
      if (!probe.is_ok()) GTEST_SKIP() << "io_uring is not permitted here: " << probe.message();
    }
    daemon_.set_base_args({"--io", GetParam(), "--sse-heartbeat-ms", "200"});
  }
  void start(std::vector<std::string> args = {}) {
    ASSERT_TRUE(daemon_.start(std::move(args))) << daemon_.log();
    admin_ = daemon_.auth("root", {"admin"});
  }

  ClientResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view headers = {}) {
    return call_port(daemon_.port(), kReadTimeoutMs, method, target, body, headers);
  }
  void create_activity(const std::string& id, int capacity) {
    const ClientResponse response =
        call("POST", "/api/v1/activities",
             "{\"id\":\"" + id + "\",\"capacity\":" + std::to_string(capacity) + "}", admin_);
    ASSERT_EQ(response.status, 201) << response.body;
  }
  // An RSVP by the admin on behalf of `user`; returns its id.
  std::string rsvp(const std::string& activity, const std::string& user) {
    const ClientResponse response =
        call("POST", "/api/v1/rsvps",
             "{\"activity_id\":\"" + activity + "\",\"user_id\":\"" + user + "\"}", admin_);
    EXPECT_EQ(response.status, 201) << response.body;
    return json_of(response)["id"].to_str();
  }
  void cancel(const std::string& rsvp_id) {
    EXPECT_EQ(call("DELETE", "/api/v1/rsvps/" + rsvp_id, {}, admin_).status, 200);
  }
  int64_t metric(const std::string& name) {
    const std::string text = call("GET", "/metrics").body;
    const std::size_t at = text.find("\n" + name + " ");
    return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
  }
  bool eventually(const std::function<bool()>& condition) {
    const auto deadline = std::chrono::steady_clock::now() + kEventualDeadline;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return condition();
  }
  // `user`'s RSVP transitions after `after_seq` as the audit trail of `activity` lists them.
  std::vector<uint64_t> audit_seqs_of(const std::string& activity, const std::string& user,
                                      uint64_t after_seq) {
    std::vector<uint64_t> seqs;
    const ClientResponse response =
        call("GET", "/api/v1/activities/" + activity + "/audit?limit=500", {}, admin_);
    // Held by name: iterating a member of the temporary json_of() returns would dangle.
    picojson::object body = json_of(response);
    for (const picojson::value& item : body["entries"].get<picojson::array>()) {
      const picojson::object& entry = item.get<picojson::object>();
      const uint64_t seq = static_cast<uint64_t>(number(entry, "seq"));
      if (entry.at("user_id").is<std::string>() && entry.at("user_id").to_str() == user &&
          seq > after_seq) {
        seqs.push_back(seq);
      }
    }
    return seqs;
  }

  DaemonProcess daemon_;
  std::string admin_;
};

TEST_P(EventsBinaryTest, CapacityStreamStartsWithTheStateThenFollowsEveryChangeInOrder) {
  start();
  create_activity("climb", 1);
  Stream stream(daemon_.port(), "/api/v1/activities/climb/events");
  ClientResponse head = stream.head();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"], "text/event-stream; charset=utf-8");
  EXPECT_EQ(head.headers["cache-control"], "no-store");
  EXPECT_FALSE(head.headers["x-request-id"].empty());

  std::vector<Event> events;
  const auto expect_next = [&](int64_t confirmed, int64_t waiting, int64_t capacity,
                               int64_t version) {
    std::optional<Event> event = stream.next();
    ASSERT_TRUE(event.has_value());
    EXPECT_EQ(event->name, "capacity");
    EXPECT_EQ(event->data["activity_id"].to_str(), "climb");
    EXPECT_EQ(number(event->data, "confirmed_seats"), confirmed);
    EXPECT_EQ(number(event->data, "waitlist_length"), waiting);
    EXPECT_EQ(number(event->data, "capacity"), capacity);
    EXPECT_EQ(number(event->data, "available_seats"), capacity - confirmed);
    EXPECT_EQ(number(event->data, "version"), version);
    if (!events.empty()) {
      EXPECT_GT(event->id, events.back().id) << "ids must increase";
    }
    events.push_back(*event);
  };
  expect_next(0, 0, 1, 1);  // The current state first.
  const std::string alice = rsvp("climb", "alice");
  expect_next(1, 0, 1, 1);
  rsvp("climb", "bob");
  expect_next(1, 1, 1, 1);  // Bob waits.
  cancel(alice);
  expect_next(1, 0, 1, 1);  // Bob promoted in the same commit: one event.
  ASSERT_EQ(call("PATCH", "/api/v1/activities/climb", "{\"capacity\":3}", admin_).status, 200);
  expect_next(1, 0, 3, 2);
  // The ids are the audit seqs of the changes.
  const std::vector<uint64_t> seqs = audit_seqs_of("climb", "bob", 0);
  ASSERT_FALSE(seqs.empty());
  EXPECT_EQ(events[2].id, seqs.front());  // bob's rsvp.waitlisted
}

TEST_P(EventsBinaryTest, UserStreamCarriesOnlyTheCallersTransitions) {
  start();
  create_activity("yoga", 1);
  const std::string bob = rsvp("yoga", "bob");
  const std::string token = daemon_.auth("alice").substr(std::string("Authorization: Bearer ").size());
  Stream stream(daemon_.port(), "/api/v1/users/me/events?access_token=" +
                                    token.substr(0, token.size() - 2));
  ASSERT_EQ(stream.head().status, 200);
  // The hub registers a stream on its own thread: wait until it is counted before changing.
  ASSERT_TRUE(eventually([&] { return metric("rsvpd_sse_clients") == 1; }));
  const std::string alice = rsvp("yoga", "alice");
  cancel(bob);     // alice promoted
  cancel(alice);   // alice cancelled
  std::vector<std::string> names;
  uint64_t last_id = 0;
  for (int i = 0; i < 3; ++i) {
    std::optional<Event> event = stream.next();
    ASSERT_TRUE(event.has_value()) << "after " << i << " events";
    EXPECT_EQ(event->data["user_id"].to_str(), "alice");
    EXPECT_EQ(event->data["id"].to_str(), alice);
    EXPECT_GT(event->id, last_id);
    last_id = event->id;
    names.push_back(event->name + ":" + event->data["status"].to_str());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"rsvp.waitlisted:waitlisted",
                                             "rsvp.promoted:confirmed",
                                             "rsvp.cancelled:cancelled"}));
  EXPECT_EQ(audit_seqs_of("yoga", "alice", 0).back(), last_id);
}

TEST_P(EventsBinaryTest, AuthNotFoundAndBadInputAreAnsweredBeforeAnyStream) {
  start();
  create_activity("a1", 5);
  EXPECT_EQ(call("GET", "/api/v1/users/me/events").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/users/me/events?access_token=not.a.token").status, 401);
  EXPECT_EQ(slug_of(call("GET", "/api/v1/activities/nope/events")), "activity-not-found");
  EXPECT_EQ(slug_of(call("GET", "/api/v1/activities/a1/events?x=1")), "invalid-field");
  const std::string alice = daemon_.auth("alice");
  EXPECT_EQ(slug_of(call("GET", "/api/v1/users/me/events", {}, alice + "Last-Event-ID: 12x\r\n")),
            "invalid-field");
  EXPECT_EQ(metric("rsvpd_sse_clients"), 0);
}

TEST_P(EventsBinaryTest, ABurstCoalescesToTheFinalStateAndAStalledReaderIsDropped) {
  start({"--write-timeout-ms", "1000"});
  create_activity("hot", kBurstChanges);
  Stream reader(daemon_.port(), "/api/v1/activities/hot/events");
  ASSERT_EQ(reader.head().status, 200);
  // Reads its head and nothing more, with a tiny receive window.
  Stream stalled(daemon_.port(), "/api/v1/activities/hot/events", {}, 1024);
  ASSERT_EQ(stalled.head().status, 200);
  ASSERT_TRUE(eventually([&] { return metric("rsvpd_sse_clients") == 2; }));

  // kBurstChanges RSVPs, one at a time on each of kBurstConnections connections: each commit then
  // holds a few RSVPs, so the burst is thousands of committed changes, enough events to fill the
  // stalled client's socket buffers.
  std::vector<std::thread> senders;
  for (int c = 0; c < kBurstConnections; ++c) {
    senders.emplace_back([&, c] {
      TestClient client(daemon_.port(), kReadTimeoutMs);
      const int per_connection = kBurstChanges / kBurstConnections;
      for (int i = 0; i < per_connection; ++i) {
        ASSERT_TRUE(client.send_all(TestClient::request(
            "POST", "/api/v1/rsvps",
            "{\"activity_id\":\"hot\",\"user_id\":\"u" + std::to_string(c) + "-" +
                std::to_string(i) + "\"}",
            admin_)));
        std::optional<ClientResponse> response = client.read_response();
        ASSERT_TRUE(response.has_value());
        ASSERT_EQ(response->status, 201) << response->body;
      }
    });
  }
  // The reader keeps reading meanwhile and must end on the final state.
  int received = 0;
  std::optional<Event> last;
  while (std::optional<Event> event = reader.next()) {
    if (last) {
      EXPECT_GT(event->id, last->id);
    }
    last = event;
    ++received;
    if (number(event->data, "confirmed_seats") == kBurstChanges) break;
  }
  for (auto& sender : senders) sender.join();
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(number(last->data, "confirmed_seats"), kBurstChanges);
  EXPECT_EQ(number(last->data, "available_seats"), 0);
  EXPECT_LE(received, kBurstChanges + 1);
  // The stalled client filled its window, was coalesced, then dropped by the write timeout;
  // the reader is still served.
  EXPECT_TRUE(eventually([&] { return metric("rsvpd_sse_clients") == 1; }))
      << metric("rsvpd_sse_clients");
  EXPECT_GT(metric("rsvpd_sse_events_coalesced_total"), 0);
  ASSERT_EQ(call("PATCH", "/api/v1/activities/hot", "{\"capacity\":10001}", admin_).status, 200);
  std::optional<Event> after = reader.next();
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(number(after->data, "capacity"), 10001);
}

TEST_P(EventsBinaryTest, LastEventIdReplaysAcrossARestartWithNoGapAndNoDuplicate) {
  start();
  create_activity("run", 1);
  const std::string alice_auth = daemon_.auth("alice");
  uint64_t seen = 0;
  {
    Stream stream(daemon_.port(), "/api/v1/users/me/events", alice_auth);
    ASSERT_EQ(stream.head().status, 200);
    ASSERT_TRUE(eventually([&] { return metric("rsvpd_sse_clients") == 1; }));
    cancel(rsvp("run", "alice"));
    for (int i = 0; i < 2; ++i) {
      std::optional<Event> event = stream.next();
      ASSERT_TRUE(event.has_value());
      seen = event->id;
    }
  }
  // Missed while disconnected, across a restart.
  cancel(rsvp("run", "alice"));
  ASSERT_EQ(daemon_.stop(), 0);
  ASSERT_TRUE(daemon_.start()) << daemon_.log();
  const std::string blocker = rsvp("run", "bob");
  const std::string waiting = rsvp("run", "alice");
  // Reconnect while more of alice's transitions are being committed, across the seam.
  std::thread more([&] {
    cancel(blocker);  // alice promoted
    cancel(waiting);
    cancel(rsvp("run", "alice"));
  });
  Stream stream(daemon_.port(), "/api/v1/users/me/events",
                alice_auth + "Last-Event-ID: " + std::to_string(seen) + "\r\n");
  ASSERT_EQ(stream.head().status, 200);
  more.join();
  const std::vector<uint64_t> expected = audit_seqs_of("run", "alice", seen);
  ASSERT_EQ(expected.size(), 7u);  // 2 missed + waitlisted, promoted, cancelled + 2.
  std::vector<uint64_t> got;
  while (got.size() < expected.size()) {
    std::optional<Event> event = stream.next();
    ASSERT_TRUE(event.has_value()) << "after " << got.size() << " events";
    got.push_back(event->id);
  }
  EXPECT_EQ(got, expected);
  // Nothing more: a duplicate would arrive before this next live event.
  cancel(rsvp("run", "alice"));
  std::optional<Event> next = stream.next();
  ASSERT_TRUE(next.has_value());
  EXPECT_EQ(next->name, "rsvp.confirmed");
  EXPECT_GT(next->id, expected.back());
}

TEST_P(EventsBinaryTest, TheClientCapAnswers503AndCorsReachesStreams) {
  start({"--max-sse-clients", "2", "--cors-origin", kTestOrigin});
  create_activity("cap", 3);
  const std::string origin = "Origin: " + kTestOrigin + "\r\n";
  Stream first(daemon_.port(), "/api/v1/activities/cap/events", origin);
  ClientResponse head = first.head();
  ASSERT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["access-control-allow-origin"], kTestOrigin);
  Stream second(daemon_.port(), "/api/v1/activities/cap/events");
  ASSERT_EQ(second.head().status, 200);
  ClientResponse third = call("GET", "/api/v1/activities/cap/events");
  EXPECT_EQ(third.status, 503);
  EXPECT_EQ(slug_of(third), "overloaded");
  EXPECT_FALSE(third.headers["retry-after"].empty());
  EXPECT_EQ(metric("rsvpd_sse_clients_rejected_total"), 1);
  // A place frees when a client leaves (found on its next heartbeat).
  second.client().close();
  EXPECT_TRUE(eventually([&] { return metric("rsvpd_sse_clients") == 1; }));
  Stream again(daemon_.port(), "/api/v1/activities/cap/events");
  EXPECT_EQ(again.head().status, 200);
}

TEST_P(EventsBinaryTest, SigtermClosesOpenStreamsAndExitsZero) {
  // A deadline far beyond the bound below: only closing the streams lets the daemon exit in time.
  start({"--shutdown-deadline-ms", "60000"});
  create_activity("end", 3);
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < 3; ++i) {
    streams.push_back(std::make_unique<Stream>(daemon_.port(), "/api/v1/activities/end/events"));
    ASSERT_EQ(streams.back()->head().status, 200);
    ASSERT_TRUE(streams.back()->next().has_value());
  }
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon_.stop(), 0);
  // Generous, and far inside the shutdown deadline: streams are closed, not waited out.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  for (auto& stream : streams) EXPECT_FALSE(stream->next().has_value());
}

INSTANTIATE_TEST_SUITE_P(Transports, EventsBinaryTest, ::testing::Values("uring", "epoll"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace rsvpd::http::testing
