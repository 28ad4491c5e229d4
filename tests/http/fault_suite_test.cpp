// The fault and abuse suite (label `faults`, a CI stage of its own): the real daemon killed with
// SIGKILL under load twenty times, a real full disk (a small tmpfs mounted on the data dir), and a
// crowd of abusive clients beside a well-behaved one. Each test checks the invariants of
// DESIGN.md §1 afterwards, through the API and with `rsvpctl verify`.
#include <sys/mount.h>
#include <sys/resource.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "tests/http/api_test_support.h"
#include "tests/http/daemon_process.h"
#include "tests/http/kill_cycle_load.h"

namespace rsvpd::http::testing {
namespace {

constexpr int kReadTimeoutMs = 60000;
constexpr int kKillCycles = 20;
constexpr int kKillLoadThreads = 8;
constexpr int kKillSeats = 40;
constexpr const char* kTmpfsSize = "size=6m";
constexpr int kFillRsvpsMax = 200'000;  // Bounds the loop that writes until the disk is full.
constexpr int kIdleConnections = 10'000;
constexpr int kSilentStreams = 1'000;
constexpr int kSlowClients = 100;
constexpr int kNestingDepth = 5000;  // 10 KB: under the body limit, far over any parser depth.
constexpr auto kAbusePeriod = std::chrono::seconds(6);
// What a well-behaved client may wait for any answer while the abuse goes on (issue: "a generous
// deadline"): a correctness bound on starvation, far above the usual sub-millisecond answer.
constexpr int kWellBehavedDeadlineMs = 1000;
constexpr int64_t kPeakRssCapBytes = 512ll << 20;
constexpr rlim_t kOpenFilesNeeded = 16'000;

std::string rsvpctl_path() {
  if (const char* dir = std::getenv("RSVPD_BIN_DIR")) return std::string(dir) + "/rsvpctl";
  return "build/bin/rsvpctl";
}

// `rsvpctl verify` on the daemon's store and segment; its exit code, with its report on failure.
int run_verify(const DaemonProcess& daemon, std::string& report) {
  const std::string command = rsvpctl_path() + " verify --data-dir " + daemon.data_dir() +
                              " --shm-name " + daemon.shm_name() + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  char chunk[4096];
  while (std::size_t n = std::fread(chunk, 1, sizeof chunk, pipe)) report.append(chunk, n);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int64_t peak_rss_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // In kB.
  }
  return -1;
}

bool raise_open_files(rlim_t needed) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_max < needed) return false;
  limit.rlim_cur = std::max(limit.rlim_cur, needed);
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

class FaultSuiteTest : public ::testing::Test {
 protected:
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
  void expect_verify_clean(const std::string& when) {
    std::string report;
    EXPECT_EQ(run_verify(daemon_, report), 0) << when << ":\n" << report;
  }
  int64_t confirmed_seats(const std::string& activity) {
    const ClientResponse response = call("GET", "/api/v1/activities/" + activity + "/capacity");
    EXPECT_EQ(response.status, 200) << response.body;
    const picojson::object body = json_of(response);
    const auto found = body.find("confirmed_seats");
    return found != body.end() && found->second.is<int64_t>() ? found->second.get<int64_t>() : -1;
  }

  DaemonProcess daemon_;
  std::string admin_;
};

// DESIGN.md §1.2 and §1.6 across crashes: twenty SIGKILLs at random moments of a mixed load on one
// data dir. After every restart each acknowledged RSVP is there in a legal state, and verify
// (overbooking, FIFO replay, indexes, audit seq, segment == LMDB) finds nothing.
TEST_F(FaultSuiteTest, TwentySigkillsUnderLoadLoseNothingAndVerifyStaysClean) {
  start();
  create_activity("kill", kKillSeats);
  std::mt19937 random(std::random_device{}());
  KillCycleLedger ledger;
  for (int cycle = 0; cycle < kKillCycles; ++cycle) {
    EXPECT_GT(run_kill_cycle(daemon_, cycle, kKillLoadThreads, random, ledger), 0u)
        << "cycle " << cycle << " killed the daemon before any 201";
    ASSERT_TRUE(daemon_.start()) << daemon_.log();
    for (const auto& entry : ledger.expected) {
      const ClientResponse response = call("GET", "/api/v1/rsvps/" + entry.first, {}, admin_);
      ASSERT_EQ(response.status, 200) << "acknowledged " << entry.first << " lost, cycle " << cycle;
      const std::string status = json_of(response)["status"].to_str();
      EXPECT_TRUE(ledger.status_is_legal(entry.first, status)) << entry.first << " " << status;
    }
    EXPECT_LE(confirmed_seats("kill"), kKillSeats);
    expect_verify_clean("after restart " + std::to_string(cycle));
  }
}

// A tmpfs mounted on a directory for the life of a test; unmounted lazily (the daemon may still
// hold files in it while it is being killed).
class TmpfsMount {
 public:
  TmpfsMount(const std::string& path, const char* options) : path_(path) {
    std::filesystem::create_directories(path);
    mounted_ = ::mount("tmpfs", path.c_str(), "tmpfs", 0, options) == 0;
  }
  ~TmpfsMount() {
    if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }

 private:
  std::string path_;
  bool mounted_ = false;
};

// Fills the filesystem holding `path` with one file until the disk is full.
void fill_disk(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  ASSERT_NE(file, nullptr);
  const std::string chunk(64 * 1024, 'x');
  while (std::fwrite(chunk.data(), 1, chunk.size(), file) == chunk.size()) {
  }
  std::fclose(file);  // The short write (ENOSPC) ends it; what fit stays.
}

// A real full disk (issue 8): writes answer 503 storage-full, reads keep working, nothing
// acknowledged is lost or corrupted, and writes resume by themselves once space is freed.
TEST_F(FaultSuiteTest, AFullDiskAnswersStorageFullKeepsReadsAndRecoversOnItsOwn) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
  TmpfsMount mount(daemon_.data_dir(), kTmpfsSize);
  ASSERT_TRUE(mount.mounted()) << "mount tmpfs: " << std::strerror(errno);
  start();
  create_activity("disk", 1'000'000);
  const std::string ballast = daemon_.data_dir() + "/ballast";
  fill_disk(ballast);

  std::vector<std::string> acknowledged;
  ClientResponse refused;
  TestClient client(daemon_.port(), kReadTimeoutMs);
  for (int i = 0; i < kFillRsvpsMax; ++i) {
    ASSERT_TRUE(client.send_all(TestClient::request(
        "POST", "/api/v1/rsvps", "{\"activity_id\":\"disk\",\"user_id\":\"f" + std::to_string(i) + "\"}",
        admin_)));
    std::optional<ClientResponse> response = client.read_response();
    ASSERT_TRUE(response.has_value());
    if (response->status != 201) {
      refused = *response;
      break;
    }
    acknowledged.push_back(json_of(*response)["id"].to_str());
  }
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(slug_of(refused), "storage-full");
  EXPECT_FALSE(refused.headers["retry-after"].empty());

  // Reads keep working on a full disk, and show exactly what was acknowledged.
  EXPECT_EQ(confirmed_seats("disk"), static_cast<int64_t>(acknowledged.size()));
  if (!acknowledged.empty()) {
    EXPECT_EQ(call("GET", "/api/v1/rsvps/" + acknowledged.back(), {}, admin_).status, 200);
  }
  EXPECT_EQ(call("GET", "/healthz").status, 200);
  expect_verify_clean("on a full disk");

  // Space comes back: the next write succeeds without a restart.
  ASSERT_EQ(std::remove(ballast.c_str()), 0);
  const ClientResponse resumed = call("POST", "/api/v1/rsvps",
                                      "{\"activity_id\":\"disk\",\"user_id\":\"after\"}", admin_);
  ASSERT_EQ(resumed.status, 201) << resumed.body;
  EXPECT_EQ(confirmed_seats("disk"), static_cast<int64_t>(acknowledged.size()) + 1);

  // Nothing corrupted: a clean stop and restart reads every acknowledged RSVP back.
  ASSERT_EQ(daemon_.stop(), 0);
  ASSERT_TRUE(daemon_.start()) << daemon_.log();
  for (const std::string& id : acknowledged) {
    ASSERT_EQ(call("GET", "/api/v1/rsvps/" + id, {}, admin_).status, 200) << id;
  }
  expect_verify_clean("after the restart");
}

// One abusive request and the status the contract gives it.
struct AbusiveRequest {
  std::string name;
  std::string bytes;
  int status;
};

std::vector<AbusiveRequest> abusive_requests(const std::string& admin) {
  const std::string nested = std::string(kNestingDepth, '[') + std::string(kNestingDepth, ']');
  return {
      {"oversized body",
       TestClient::request("POST", "/api/v1/rsvps", std::string(20 * 1024, ' '), admin), 413},
      {"oversized headers",
       "GET /api/v1/activities/abuse HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20 * 1024, 'a') +
           "\r\n\r\n",
       431},
      {"malformed JSON", TestClient::request("POST", "/api/v1/rsvps", "{\"activity_id\":", admin),
       400},
      {"deeply nested JSON", TestClient::request("POST", "/api/v1/rsvps", nested, admin), 400},
      {"invalid UTF-8 in a body",
       TestClient::request("POST", "/api/v1/rsvps", "{\"activity_id\":\"\xff\xfe\"}", admin), 400},
      {"a control character in an id",
       TestClient::request("POST", "/api/v1/rsvps", "{\"activity_id\":\"a\\u0001b\"}", admin), 422},
      {"invalid UTF-8 in a path", TestClient::request("GET", "/api/v1/activities/%FF%FE"), 404},
      {"an unknown method", TestClient::request("BREW", "/api/v1/activities"), 405},
      {"pipelined garbage", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n\x01\x02garbage\r\n\r\n", 200},
  };
}

// Latencies of the well-behaved client and what went wrong for it.
struct WellBehavedReport {
  std::vector<int64_t> latencies_us;
  int rsvps_acknowledged = 0;
  std::vector<std::string> failures;
};

// Books and reads on one keep-alive connection until `stop`: every answer must be right and
// arrive within kWellBehavedDeadlineMs.
void run_well_behaved(uint16_t port, const std::string& admin, const std::atomic<bool>& stop,
                      WellBehavedReport& report) {
  TestClient client(port, kWellBehavedDeadlineMs);
  for (int n = 0; !stop.load(std::memory_order_relaxed) && report.failures.empty(); ++n) {
    const bool book = n % 2 == 0;
    const std::string request =
        book ? TestClient::request("POST", "/api/v1/rsvps",
                                   "{\"activity_id\":\"abuse\",\"user_id\":\"w" +
                                       std::to_string(n) + "\"}",
                                   admin)
             : TestClient::request("GET", "/api/v1/activities/abuse/capacity");
    const auto sent = std::chrono::steady_clock::now();
    if (!client.send_all(request)) {
      report.failures.push_back("send failed at request " + std::to_string(n));
      return;
    }
    std::optional<ClientResponse> response = client.read_response();
    if (!response) {
      report.failures.push_back("no answer within the deadline at request " + std::to_string(n));
      return;
    }
    report.latencies_us.push_back(std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - sent)
                                      .count());
    if (response->status != (book ? 201 : 200)) {
      report.failures.push_back(std::to_string(response->status) + " " + response->body);
    }
    if (book && response->status == 201) ++report.rsvps_acknowledged;
  }
}

// Abuse (issue 8): 10,000 idle connections, slow-loris headers and bodies, 1,000 event streams
// that never read, and every kind of bad request, while a well-behaved client books and reads.
// It keeps getting right answers within the deadline, each bad request gets its contract status
// and changes nothing, and the daemon's peak RSS stays under kPeakRssCapBytes. Its p99 and the
// peak RSS are recorded (not pass/fail).
TEST_F(FaultSuiteTest, AbusiveClientsDoNotStarveAWellBehavedOne) {
  if (!raise_open_files(kOpenFilesNeeded)) {
    GTEST_SKIP() << "RLIMIT_NOFILE hard limit below " << kOpenFilesNeeded;
  }
  start({"--max-connections", "16000", "--read-timeout-ms", "2000", "--write-timeout-ms", "2000"});
  create_activity("abuse", 1'000'000);

  std::atomic<bool> stop{false};
  WellBehavedReport report;
  std::thread well_behaved(run_well_behaved, daemon_.port(), admin_, std::cref(stop),
                           std::ref(report));

  std::vector<std::unique_ptr<TestClient>> idle;
  for (int i = 0; i < kIdleConnections; ++i) {
    idle.push_back(std::make_unique<TestClient>(daemon_.port(), kReadTimeoutMs));
    ASSERT_TRUE(idle.back()->valid()) << "idle connection " << i;
  }
  std::vector<std::unique_ptr<TestClient>> silent;
  for (int i = 0; i < kSilentStreams; ++i) {
    silent.push_back(std::make_unique<TestClient>(daemon_.port(), kReadTimeoutMs, 1024));
    ASSERT_TRUE(silent.back()->send_all(
        TestClient::request("GET", "/api/v1/activities/abuse/events")));
  }
  // Slow loris: half send a header byte at a time, half announce a body they never finish.
  std::vector<std::unique_ptr<TestClient>> slow;
  for (int i = 0; i < kSlowClients; ++i) {
    slow.push_back(std::make_unique<TestClient>(daemon_.port(), kReadTimeoutMs));
    ASSERT_TRUE(slow.back()->send_all(
        i % 2 == 0 ? std::string("POST /api/v1/rsvps HTTP/1.1\r\nHost: x\r\n")
                   : "POST /api/v1/rsvps HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"));
  }
  for (const AbusiveRequest& abusive : abusive_requests(admin_)) {
    TestClient client(daemon_.port(), kReadTimeoutMs);
    ASSERT_TRUE(client.send_all(abusive.bytes)) << abusive.name;
    std::optional<ClientResponse> response = client.read_response();
    ASSERT_TRUE(response.has_value()) << abusive.name;
    EXPECT_EQ(response->status, abusive.status) << abusive.name << ": " << response->body;
  }
  const auto abuse_end = std::chrono::steady_clock::now() + kAbusePeriod;
  while (std::chrono::steady_clock::now() < abuse_end) {
    for (auto& client : slow) (void)client->send_all("X");  // Dropped by the read timeout.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  stop.store(true, std::memory_order_relaxed);
  well_behaved.join();

  EXPECT_TRUE(report.failures.empty()) << report.failures.front();
  ASSERT_FALSE(report.latencies_us.empty());
  // Nothing the abusers sent was written: the seats are exactly the well-behaved client's.
  EXPECT_EQ(confirmed_seats("abuse"), report.rsvps_acknowledged);
  for (auto& client : slow) EXPECT_TRUE(client->closed_by_peer()) << "a slow client was kept";
  const int64_t peak_rss = peak_rss_bytes(daemon_.pid());
  EXPECT_GT(peak_rss, 0);
  EXPECT_LT(peak_rss, kPeakRssCapBytes);

  std::sort(report.latencies_us.begin(), report.latencies_us.end());
  const int64_t p99_us = report.latencies_us[report.latencies_us.size() * 99 / 100];
  RecordProperty("well_behaved_requests", static_cast<int>(report.latencies_us.size()));
  RecordProperty("well_behaved_p99_us", static_cast<int>(p99_us));
  RecordProperty("peak_rss_mib", static_cast<int>(peak_rss >> 20));
  std::printf("abuse: well-behaved requests %zu, p99 %lld us, max %lld us; daemon peak RSS %lld MiB\n",
              report.latencies_us.size(), static_cast<long long>(p99_us),
              static_cast<long long>(report.latencies_us.back()),
              static_cast<long long>(peak_rss >> 20));
  expect_verify_clean("after the abuse");
}

}  // namespace
}  // namespace rsvpd::http::testing
