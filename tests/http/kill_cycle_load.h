// The load of a SIGKILL cycle against the real daemon (api_binary_test, fault_suite_test): RSVPs
// of fresh users on one keep-alive connection, every third acknowledged one cancelled again, until
// the connection dies with the daemon.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include "tests/http/api_test_support.h"
#include "tests/http/daemon_process.h"

namespace rsvpd::http::testing {

inline constexpr int kKillCycleReadTimeoutMs = 60000;

// One load thread of a kill cycle.
struct KillCycleLoad {
  std::vector<std::string> acknowledged;        // 201s.
  std::set<std::string> cancel_acknowledged;    // DELETEs answered 200.
  std::set<std::string> cancel_sent;            // DELETEs sent (answered or not).
};

inline void run_kill_cycle_load(uint16_t port, int cycle, int thread, DaemonProcess& daemon,
                                KillCycleLoad& load) {
  TestClient client(port, kKillCycleReadTimeoutMs);
  for (int n = 0; client.valid(); ++n) {
    const std::string user = "k" + std::to_string(cycle) + "-" + std::to_string(thread) + "-" +
                             std::to_string(n);
    const std::string auth = DaemonProcess::auth_with(daemon.secret_cached(), user, {});
    if (!client.send_all(TestClient::request("POST", "/api/v1/rsvps",
                                             R"({"activity_id":"kill"})", auth))) {
      return;
    }
    std::optional<ClientResponse> created = client.read_response();
    if (!created) return;
    EXPECT_EQ(created->status, 201) << created->body;
    if (created->status != 201) return;
    const std::string id = json_of(*created)["id"].to_str();
    load.acknowledged.push_back(id);
    if (n % 3 != 2) continue;
    load.cancel_sent.insert(id);
    if (!client.send_all(TestClient::request("DELETE", "/api/v1/rsvps/" + id, "", auth))) return;
    std::optional<ClientResponse> cancelled = client.read_response();
    if (!cancelled) return;
    EXPECT_EQ(cancelled->status, 200) << cancelled->body;
    if (cancelled->status == 200) load.cancel_acknowledged.insert(id);
  }
}


// What the kill cycles had acknowledged, to check after every restart.
struct KillCycleLedger {
  std::map<std::string, bool> expected;    // RSVP id → its cancel was acknowledged.
  std::set<std::string> maybe_cancelled;   // Cancels sent but not answered: either outcome.

  // `status` is a legal later state of acknowledged RSVP `id` (the RSVP itself must exist).
  bool status_is_legal(const std::string& id, const std::string& status) const {
    if (expected.at(id)) return status == "cancelled";
    if (maybe_cancelled.count(id)) return true;
    return status == "confirmed" || status == "waitlisted";
  }
};

// One cycle: `threads` loads on activity "kill", SIGKILL after a random 50..400 ms, then the
// acknowledgements go into `ledger`. Returns how many RSVPs the cycle acknowledged.
inline size_t run_kill_cycle(DaemonProcess& daemon, int cycle, int threads, std::mt19937& random,
                             KillCycleLedger& ledger) {
  std::vector<KillCycleLoad> loads(threads);
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back(run_kill_cycle_load, daemon.port(), cycle, t, std::ref(daemon),
                         std::ref(loads[t]));
  }
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(50, 400)(random)));
  daemon.kill_hard();
  for (std::thread& worker : workers) worker.join();
  size_t acknowledged = 0;
  for (const KillCycleLoad& load : loads) {
    acknowledged += load.acknowledged.size();
    for (const std::string& id : load.acknowledged) {
      ledger.expected[id] = load.cancel_acknowledged.count(id) > 0;
    }
    for (const std::string& id : load.cancel_sent) {
      if (!load.cancel_acknowledged.count(id)) ledger.maybe_cancelled.insert(id);
    }
  }
  return acknowledged;
}

}  // namespace rsvpd::http::testing
