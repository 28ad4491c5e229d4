// HttpServer against both transports: keep-alive, pipelining order, limits, timeouts, overload,
// thousands of connections, late sinks and graceful stop.
#include "http/server.h"

#include "http/detail/uring_loop.h"
#include "tests/http/test_client.h"

#include <gtest/gtest.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace rsvpd::http {
namespace {

using testing::ClientResponse;
using testing::TestClient;
using namespace std::chrono_literals;

// Answers sinks after a delay, from its own thread, to prove that the transports keep
// responses in request order when completions arrive out of order from another thread.
class Delayer {
 public:
  Delayer() : thread_([this] { run(); }) {}
  ~Delayer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_ = true;
    }
    wakeup_.notify_one();
    thread_.join();
  }
  void answer_later(std::chrono::milliseconds delay, ResponseSink sink, HttpResponse response) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto due = std::chrono::steady_clock::now() + delay;
    items_.push(Item{due, order_++, std::make_shared<ResponseSink>(std::move(sink)),
                     std::move(response), {}});
    wakeup_.notify_one();
  }
  // After `delay`, posts `task` through the sink (ResponseSink::post) to answer on the io thread.
  void post_later(std::chrono::milliseconds delay, ResponseSink sink,
                  std::function<void(ResponseSink&)> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto due = std::chrono::steady_clock::now() + delay;
    items_.push(Item{due, order_++, std::make_shared<ResponseSink>(std::move(sink)), {},
                     std::move(task)});
    wakeup_.notify_one();
  }

 private:
  struct Item {
    std::chrono::steady_clock::time_point due;
    uint64_t order;
    std::shared_ptr<ResponseSink> sink;
    HttpResponse response;
    std::function<void(ResponseSink&)> task;  // Set: post it instead of sending `response`.
    bool operator>(const Item& other) const {
      return due != other.due ? due > other.due : order > other.order;
    }
  };
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!done_) {
      if (items_.empty()) {
        wakeup_.wait(lock);
        continue;
      }
      // A copy: wait_until reads its deadline again after waking, when a push may have moved
      // the queue's elements.
      const auto due = items_.top().due;
      wakeup_.wait_until(lock, due);
      if (std::chrono::steady_clock::now() < items_.top().due) continue;
      Item item = items_.top();
      items_.pop();
      lock.unlock();
      if (item.task) {
        item.sink->post([sink = item.sink, task = std::move(item.task)] { task(*sink); });
      } else {
        item.sink->send(std::move(item.response));
      }
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wakeup_;
  std::priority_queue<Item, std::vector<Item>, std::greater<Item>> items_;
  uint64_t order_ = 0;
  bool done_ = false;
  std::thread thread_;
};

// Routes: "/delay/<ms>/<tag>" answers "<tag>" from the Delayer after <ms>; "/hold" parks the
// sink for the test; "/drop" destroys the sink unanswered; "/big/<KiB>" answers that many KiB;
// anything else echoes
// "<METHOD> <target> <body>" at once.
class TestHandler final : public RequestHandler {
 public:
  void handle(HttpRequest&& request, ResponseSink sink) override {
    handled_.fetch_add(1, std::memory_order_relaxed);  // Relaxed: a test statistic.
    if (request.target.rfind("/delay/", 0) == 0) {
      const std::size_t slash = request.target.find('/', 7);
      const int delay_ms = std::stoi(request.target.substr(7, slash - 7));
      const std::string tag = slash == std::string::npos ? "" : request.target.substr(slash + 1);
      delayer_.answer_later(std::chrono::milliseconds(delay_ms), std::move(sink),
                            HttpResponse{200, {}, tag, false});
      return;
    }
    if (request.target == "/posted") {
      // Answered by a task that the Delayer's thread posts back to this io thread.
      const std::thread::id io_thread = std::this_thread::get_id();
      delayer_.post_later(5ms, std::move(sink), [io_thread](ResponseSink& answer) {
        const bool here = std::this_thread::get_id() == io_thread;
        answer.send(HttpResponse{200, {}, here ? "on-io-thread" : "elsewhere", false});
      });
      return;
    }
    if (request.target == "/posted-inline") {
      bool ran = false;
      sink.post([&ran] { ran = true; });
      sink.send(HttpResponse{200, {}, ran ? "ran-at-once" : "queued", false});
      return;
    }
    if (request.target == "/hold") {
      std::lock_guard<std::mutex> lock(mutex_);
      held_.push_back(std::move(sink));
      return;
    }
    if (request.target == "/drop") return;
    if (request.target.rfind("/big/", 0) == 0) {
      const std::size_t bytes = std::stoul(request.target.substr(5)) * 1024;
      sink.send(HttpResponse{200, {}, std::string(bytes, 'z'), false});
      return;
    }
    HttpResponse response;
    response.headers.emplace_back("Content-Type", "text/plain");
    response.body = request.method_text + " " + request.target + " " + request.body;
    response.close_connection = request.target == "/close";
    sink.send(std::move(response));
  }
  HttpResponse reject(RejectReason reason) override {
    switch (reason) {
      case RejectReason::kHeaderTooLarge: return HttpResponse{431, {}, "header", true};
      case RejectReason::kBodyTooLarge: return HttpResponse{413, {}, "body", true};
      case RejectReason::kBadRequest: return HttpResponse{400, {}, "bad", true};
      case RejectReason::kOverloaded:
        return HttpResponse{503, {{"Retry-After", "1"}}, "overloaded", true};
    }
    return HttpResponse{500, {}, {}, true};
  }

  std::vector<ResponseSink> take_held() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::move(held_);
  }
  uint64_t handled() const { return handled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> handled_{0};
  std::mutex mutex_;
  std::vector<ResponseSink> held_;
  Delayer delayer_;  // Last: destroyed first, so its pending sinks fire while the rest lives.
};

template <typename Predicate>
bool eventually(Predicate predicate, std::chrono::milliseconds limit = 3s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (predicate()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return predicate();
}

class ServerTest : public ::testing::TestWithParam<IoMode> {
 protected:
  void SetUp() override {
    if (GetParam() == IoMode::kUring) {
      Status probe = detail::probe_uring();
      if (!probe.is_ok()) GTEST_SKIP() << "io_uring is not permitted here: " << probe.message();
    }
    options_.port = 0;
    options_.io_mode = GetParam();
    options_.threads = 2;
    options_.read_timeout_ms = 2000;
    options_.idle_timeout_ms = 5000;
  }
  void TearDown() override {
    if (server_) server_->stop(2s);
  }

  void start() {
    Result<std::unique_ptr<HttpServer>> started = HttpServer::start(options_, handler_);
    ASSERT_TRUE(started.is_ok()) << started.status().message();
    server_ = std::move(started).value();
    ASSERT_NE(server_->port(), 0);
    ASSERT_EQ(server_->mode(), GetParam());
  }
  uint16_t port() const { return server_->port(); }

  ServerOptions options_;
  TestHandler handler_;
  std::unique_ptr<HttpServer> server_;
};

TEST_P(ServerTest, KeepAliveServesManyRequestsOnOneConnection) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.valid());
  for (int i = 0; i < 200; ++i) {
    const std::string body = "n=" + std::to_string(i);
    ASSERT_TRUE(client.send_all(TestClient::request("POST", "/echo", body)));
    std::optional<ClientResponse> response = client.read_response();
    ASSERT_TRUE(response) << "request " << i;
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(response->body, "POST /echo " + body);
    EXPECT_EQ(response->headers.count("connection"), 0u);
  }
  EXPECT_EQ(server_->counters().connections_accepted, 1u);
}

TEST_P(ServerTest, PipelinedRequestsAnswerInOrderDespiteOutOfOrderCompletions) {
  start();
  TestClient client(port());
  std::string batch;
  constexpr int kRequests = 100;
  for (int i = 0; i < kRequests; ++i) {
    // Early requests finish last: delays fall from ~60 ms to 0 along the pipeline.
    const int delay_ms = (kRequests - 1 - i) * 60 / kRequests;
    batch += TestClient::request("GET", "/delay/" + std::to_string(delay_ms) + "/r" +
                                            std::to_string(i));
  }
  ASSERT_TRUE(client.send_all(batch));  // One write.
  for (int i = 0; i < kRequests; ++i) {
    std::optional<ClientResponse> response = client.read_response();
    ASSERT_TRUE(response) << "response " << i;
    EXPECT_EQ(response->body, "r" + std::to_string(i));
  }
}

TEST_P(ServerTest, HeaderOver16KiBAnswers431AndCloses) {
  start();
  TestClient client(port());
  const std::string big(17 * 1024, 'a');
  ASSERT_TRUE(client.send_all("GET / HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n"));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 431);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, HeaderJustUnder16KiBIsServed) {
  start();
  TestClient client(port());
  const std::string big(15 * 1024, 'a');
  ASSERT_TRUE(client.send_all("GET /ok HTTP/1.1\r\nX-Big: " + big + "\r\n\r\n"));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_P(ServerTest, BodyOver16KiBAnswers413AndCloses) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("POST", "/x", std::string(16385, 'b'))));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, ChunkedBodyOver16KiBAnswers413) {
  start();
  TestClient client(port());
  std::string request = "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) request += "1000\r\n" + std::string(4096, 'c') + "\r\n";
  request += "0\r\n\r\n";
  ASSERT_TRUE(client.send_all(request));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 413);
  EXPECT_TRUE(client.closed_by_peer());
}

// Boost 1.81's Beast asserted when the last chunk came in pieces ("0\r\n", then "\r"), and
// assertions are on in every build: one client could abort the daemon (found by
// tests/fuzz/fuzz_http_request; see ConnectionCore::do_parse).
TEST_P(ServerTest, LastChunkSentInPiecesIsServedAndTheServerLives) {
  start();
  TestClient client(port());
  // An empty body: after a data chunk Beast keeps its CRLF in front of "0\r\n", five bytes.
  for (const char* piece : {"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", "\r",
                            "\n"}) {
    ASSERT_TRUE(client.send_all(piece));
    std::this_thread::sleep_for(20ms);  // Separate reads on the server.
  }
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /x ");
  TestClient next(port());
  ASSERT_TRUE(next.send_all(TestClient::request("GET", "/ok")));
  ASSERT_TRUE(next.read_response());
}

TEST_P(ServerTest, BodyOfExactly16KiBIsServed) {
  start();
  TestClient client(port());
  const std::string body(16384, 'b');
  ASSERT_TRUE(client.send_all(TestClient::request("POST", "/x", body)));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "POST /x " + body);
}

TEST_P(ServerTest, GarbageRequestLineAnswers400AndCloses) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all("\x01\x02 garbage\r\n\r\n"));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 400);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, ResponsesBeforeABadRequestAreStillSentFirst) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/delay/50/first") + "BAD\r\n\r\n"));
  std::optional<ClientResponse> first = client.read_response();
  ASSERT_TRUE(first) << client.unread() << " errno " << client.last_error();
  EXPECT_EQ(first->body, "first");
  std::optional<ClientResponse> second = client.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->status, 400);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, SlowLorisHeadersAreDropped) {
  options_.read_timeout_ms = 300;
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all("GET / HTTP/1.1\r\n"));
  // Each line arrives well within the timeout, but the request as a whole never finishes.
  bool dropped = false;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < 30 && !dropped; ++i) {
    std::this_thread::sleep_for(50ms);
    dropped = !client.send_all("X-Slow: " + std::to_string(i) + "\r\n");
  }
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  EXPECT_GE(server_->counters().timed_out, 1u);
  EXPECT_EQ(handler_.handled(), 0u);
}

TEST_P(ServerTest, SlowBodyIsDropped) {
  options_.read_timeout_ms = 300;
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all("POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"));
  EXPECT_TRUE(eventually([&] { return server_->counters().timed_out >= 1; }));
  EXPECT_TRUE(client.closed_by_peer());
  EXPECT_EQ(handler_.handled(), 0u);
}

TEST_P(ServerTest, IdleKeepAliveConnectionIsClosed) {
  options_.idle_timeout_ms = 300;
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/one")));
  ASSERT_TRUE(client.read_response());
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(client.closed_by_peer());
  const auto waited = std::chrono::steady_clock::now() - started;
  EXPECT_GE(waited, 200ms);
  EXPECT_LT(waited, 1500ms);
  EXPECT_TRUE(eventually([&] { return server_->counters().connections_open == 0; }));
}

TEST_P(ServerTest, IdleTimeoutIsSeparateFromReadTimeout) {
  options_.read_timeout_ms = 200;
  options_.idle_timeout_ms = 5000;
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/one")));
  ASSERT_TRUE(client.read_response());
  std::this_thread::sleep_for(600ms);  // Idle, longer than the read timeout.
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/two")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /two ");
}

TEST_P(ServerTest, ClientThatStopsReadingIsDroppedByTheWriteTimeout) {
  options_.write_timeout_ms = 300;
  start();
  // A small window, so the stall comes after a few MiB whatever tcp_rmem autotuning allows.
  TestClient client(port(), 5000, 4096);
  // 16 MiB cannot fit in the socket buffers, so the send stalls while the client reads nothing.
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/big/16384")));
  EXPECT_TRUE(eventually([&] { return server_->counters().timed_out >= 1; }));
  EXPECT_TRUE(eventually([&] { return server_->counters().connections_open == 0; }));
}

TEST_P(ServerTest, ConnectionsBeyondTheLimitGet503ThenClose) {
  options_.connections_max = 4;
  start();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->send_all(TestClient::request("GET", "/x")));
    ASSERT_TRUE(clients.back()->read_response());
  }
  TestClient extra(port());
  ASSERT_TRUE(extra.send_all(TestClient::request("GET", "/x")));
  std::optional<ClientResponse> response = extra.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(response->headers["retry-after"], "1");
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(extra.closed_by_peer());
  EXPECT_EQ(server_->counters().rejected_overload, 1u);
  EXPECT_EQ(server_->counters().connections_open, 4u);

  clients.pop_back();  // A slot frees up: the next client is served.
  ASSERT_TRUE(eventually([&] { return server_->counters().connections_open == 3; }));
  TestClient next(port());
  ASSERT_TRUE(next.send_all(TestClient::request("GET", "/x")));
  response = next.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
}

TEST_P(ServerTest, TwoThousandConcurrentConnections) {
  constexpr int kConnections = 2000;
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  const rlim_t needed = 2 * kConnections + 256;  // Both ends live in this process.
  if (limit.rlim_cur < needed) {
    if (limit.rlim_max < needed) GTEST_SKIP() << "RLIMIT_NOFILE hard limit below " << needed;
    limit.rlim_cur = needed;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &limit), 0);
  }
  start();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < kConnections; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->valid()) << "connect " << i;
  }
  for (int i = 0; i < kConnections; ++i) {
    ASSERT_TRUE(clients[i]->send_all(TestClient::request("GET", "/c" + std::to_string(i))));
  }
  ASSERT_TRUE(eventually([&] { return server_->counters().connections_open == kConnections; }));
  for (int i = 0; i < kConnections; ++i) {
    std::optional<ClientResponse> response = clients[i]->read_response();
    ASSERT_TRUE(response) << "connection " << i;
    ASSERT_EQ(response->body, "GET /c" + std::to_string(i) + " ");
  }
  EXPECT_EQ(server_->counters().rejected_overload, 0u);
}

TEST_P(ServerTest, SinkSendAfterClientDisconnectedIsHarmless) {
  options_.threads = 1;  // One table: the next connection takes the vanished one's slot.
  start();
  {
    TestClient client(port());
    ASSERT_TRUE(client.send_all(TestClient::request("GET", "/hold")));
    ASSERT_TRUE(eventually([&] { return handler_.handled() == 1; }));
  }
  ASSERT_TRUE(eventually([&] { return server_->counters().connections_open == 0; }));
  // New connections may now reuse the old one's slot; the late answer must not reach them.
  TestClient other(port());
  ASSERT_TRUE(other.send_all(TestClient::request("GET", "/delay/100/mine")));
  ASSERT_TRUE(eventually([&] { return handler_.handled() == 2; }));
  for (ResponseSink& sink : handler_.take_held()) sink.send(HttpResponse{200, {}, "late", false});
  std::optional<ClientResponse> response = other.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "mine");
}

TEST_P(ServerTest, ClientsVanishingMidRequestLeaveNoTrace) {
  // Completions from the Delayer race with the connections' teardown; under ASan/TSan this is
  // the use-after-free and data-race probe for the (slot, generation) addressing.
  start();
  for (int round = 0; round < 4; ++round) {
    std::vector<std::unique_ptr<TestClient>> clients;
    for (int i = 0; i < 50; ++i) {
      clients.push_back(std::make_unique<TestClient>(port()));
      std::string pipeline;
      for (int k = 0; k < 3; ++k) {
        pipeline += TestClient::request("GET", "/delay/" + std::to_string((i + k) % 4) + "/x");
      }
      ASSERT_TRUE(clients.back()->send_all(pipeline));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(round));
    clients.clear();
  }
  ASSERT_TRUE(eventually([&] { return server_->counters().connections_open == 0; }));
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/still")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /still ");
}

TEST_P(ServerTest, PostedTasksRunOnTheRequestsIoThreadInOrder) {
  start();
  TestClient client(port());
  std::string pipeline;
  for (int i = 0; i < 20; ++i) {
    pipeline += TestClient::request("GET", i % 2 == 0 ? "/posted" : "/delay/1/d" + std::to_string(i));
  }
  ASSERT_TRUE(client.send_all(pipeline));
  for (int i = 0; i < 20; ++i) {
    std::optional<ClientResponse> response = client.read_response();
    ASSERT_TRUE(response) << "response " << i;
    EXPECT_EQ(response->body, i % 2 == 0 ? std::string("on-io-thread") : "d" + std::to_string(i));
  }
}

TEST_P(ServerTest, PostFromTheIoThreadRunsAtOnce) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/posted-inline")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "ran-at-once");
}

TEST_P(ServerTest, PostAfterStopDestroysTheTaskUnrun) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/hold")));
  ASSERT_TRUE(eventually([&] { return handler_.handled() == 1; }));
  server_->stop(2s);
  std::vector<ResponseSink> held = handler_.take_held();
  ASSERT_EQ(held.size(), 1u);
  bool ran = false;
  auto capture = std::make_shared<int>(0);
  const std::weak_ptr<int> watch = capture;
  held[0].post([&ran, capture] { ran = true; });
  capture.reset();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(watch.expired()) << "the task must be destroyed, not kept";
  EXPECT_TRUE(held[0].valid()) << "post leaves the sink to be answered";
}

TEST_P(ServerTest, SinkDroppedUnansweredAnswers500) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/drop")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 500);
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, ConnectionCloseRequestClosesAfterResponse) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/x", {}, "Connection: close\r\n")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, HandlerCloseClosesAfterResponse) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/close") +
                              TestClient::request("GET", "/never")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, Http10WithoutKeepAliveCloses) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all("GET /old HTTP/1.0\r\n\r\n"));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /old ");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_P(ServerTest, Http10WithKeepAliveStaysOpen) {
  start();
  TestClient client(port());
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client.send_all("GET /old HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
    std::optional<ClientResponse> response = client.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->headers["connection"], "keep-alive");
  }
}

TEST_P(ServerTest, HeadResponseHasLengthButNoBody) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("HEAD", "/h") +
                              TestClient::request("GET", "/after")));
  std::optional<ClientResponse> head = client.read_response();
  ASSERT_TRUE(head);
  // The client reads Content-Length bytes; the body it gets must be the next response's start.
  EXPECT_EQ(head->headers["content-length"], "8");  // "HEAD /h ".
  EXPECT_EQ(head->body.substr(0, 8), "HTTP/1.1");
}

TEST_P(ServerTest, ExpectContinueGetsAnInterimAnswer) {
  start();
  TestClient client(port(), 500);  // curl would wait a second; we must answer much faster.
  ASSERT_TRUE(client.send_all(
      "POST /e HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  std::optional<ClientResponse> interim = client.read_response_head_only();
  ASSERT_TRUE(interim);
  EXPECT_EQ(interim->status, 100);
  ASSERT_TRUE(client.send_all("body"));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "POST /e body");
}

TEST_P(ServerTest, StopFinishesInFlightRequests) {
  start();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(std::make_unique<TestClient>(port()));
    ASSERT_TRUE(clients.back()->send_all(
        TestClient::request("GET", "/delay/300/done" + std::to_string(i))));
  }
  ASSERT_TRUE(eventually([&] { return handler_.handled() == 4; }));
  TestClient idle(port());  // Open, nothing in flight: closed at once.
  std::thread stopper([&] { server_->stop(3s); });
  for (int i = 0; i < 4; ++i) {
    std::optional<ClientResponse> response = clients[i]->read_response();
    ASSERT_TRUE(response) << "client " << i;
    EXPECT_EQ(response->body, "done" + std::to_string(i));
    EXPECT_EQ(response->headers["connection"], "close") << "client " << i;
    EXPECT_TRUE(clients[i]->closed_by_peer());
    clients[i]->close();  // Ends the server's lingering close; stop() waits for it.
  }
  EXPECT_TRUE(idle.closed_by_peer());
  idle.close();
  stopper.join();
  EXPECT_EQ(server_->counters().connections_open, 0u);
  EXPECT_FALSE(TestClient(port()).valid());  // The listeners are closed.
}

TEST_P(ServerTest, StopDeadlineDropsWhatIsStillRunning) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/hold")));
  ASSERT_TRUE(eventually([&] { return handler_.handled() == 1; }));
  const auto started = std::chrono::steady_clock::now();
  server_->stop(200ms);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
  EXPECT_TRUE(client.closed_by_peer());
  for (ResponseSink& sink : handler_.take_held()) sink.send(HttpResponse{});  // Dropped.
}

TEST_P(ServerTest, StopAcceptingKeepsServingOpenConnections) {
  start();
  TestClient client(port());
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/a")));
  ASSERT_TRUE(client.read_response());
  server_->stop_accepting();
  ASSERT_TRUE(eventually([&] { return !TestClient(port()).valid(); }));
  ASSERT_TRUE(client.send_all(TestClient::request("GET", "/b")));
  std::optional<ClientResponse> response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "GET /b ");
}

INSTANTIATE_TEST_SUITE_P(Transports, ServerTest,
                         ::testing::Values(IoMode::kUring, IoMode::kEpoll),
                         [](const ::testing::TestParamInfo<IoMode>& info) {
                           return std::string(io_mode_name(info.param));
                         });

TEST(ServerOptionsTest, InvalidOptionsAreRejected) {
  TestHandler handler;
  ServerOptions options;
  options.port = 0;
  options.threads = 0;
  Result<std::unique_ptr<HttpServer>> started = HttpServer::start(options, handler);
  ASSERT_FALSE(started.is_ok());
  EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument);
}

TEST(ServerOptionsTest, AutoPicksUringWhenPermittedElseNamesTheCause) {
  TestHandler handler;
  ServerOptions options;
  options.port = 0;
  Result<std::unique_ptr<HttpServer>> started = HttpServer::start(options, handler);
  ASSERT_TRUE(started.is_ok()) << started.status().message();
  if (detail::probe_uring().is_ok()) {
    EXPECT_EQ(started.value()->mode(), IoMode::kUring);
    EXPECT_TRUE(started.value()->fallback_reason().empty());
  } else {
    EXPECT_EQ(started.value()->mode(), IoMode::kEpoll);
    EXPECT_NE(started.value()->fallback_reason().find("io_uring_queue_init"), std::string::npos);
  }
}

// Makes io_uring_setup fail with EPERM in this thread and the threads it starts, as a seccomp
// policy or kernel.io_uring_disabled would. (io_uring_setup has number 425 on every
// architecture, so the filter needs no architecture check.)
bool forbid_io_uring() {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog program{sizeof filter / sizeof filter[0], filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) == 0;
}

// Runs in a child process (death test) because the seccomp filter cannot be removed.
void start_with_io_uring_forbidden() {
  if (!forbid_io_uring()) std::exit(2);
  TestHandler handler;
  ServerOptions options;
  options.port = 0;
  options.io_mode = IoMode::kUring;
  Result<std::unique_ptr<HttpServer>> strict = HttpServer::start(options, handler);
  if (strict.is_ok() || strict.status().message().find("not permitted") == std::string::npos) {
    std::exit(3);
  }
  options.io_mode = IoMode::kAuto;
  Result<std::unique_ptr<HttpServer>> started = HttpServer::start(options, handler);
  if (!started.is_ok() || started.value()->mode() != IoMode::kEpoll) std::exit(4);
  const std::string& reason = started.value()->fallback_reason();
  std::fprintf(stderr, "reason: %s\n", reason.c_str());
  if (reason.find("io_uring_queue_init: Operation not permitted") == std::string::npos) {
    std::exit(5);
  }
  TestClient client(started.value()->port());
  if (!client.send_all(TestClient::request("GET", "/x")) || !client.read_response()) std::exit(6);
  client.close();
  started.value()->stop(1s);
  std::exit(0);
}

TEST(ServerOptionsTest, AutoFallsBackToEpollNamingTheCauseWhenIoUringIsForbidden) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(start_with_io_uring_forbidden(), ::testing::ExitedWithCode(0),
              "warning: io_uring unavailable \\(io_uring_queue_init: Operation not permitted\\); "
              "using epoll");
}

}  // namespace
}  // namespace rsvpd::http
