// rsvpctl against the real engine (Service: writer thread, group commit, promotions) in this
// process: after concurrent RSVPs, cancels and a capacity raise, verify finds nothing, and the
// live commands see the daemon.
#include <gtest/gtest.h>
#include <picojson.h>

#include <random>
#include <thread>
#include <vector>

#include "tests/cli/test_world.h"
#include "tests/daemon/service_test_support.h"

namespace rsvpd::testing {
namespace {

constexpr int kThreads = 4;
constexpr int kRsvpsPerThread = 60;
constexpr int kUsers = 40;

class RsvpctlEngineTest : public ServiceFixture {
 protected:
  RunResult run(const std::string& arguments) {
    return run_rsvpctl(arguments + " --data-dir " + options_.data_dir + " --shm-name " +
                       options_.shm_name);
  }

  // Concurrent RSVPs over three activities; returns the ids that were created.
  std::vector<uint64_t> rsvp_concurrently() {
    std::vector<std::vector<uint64_t>> created(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([this, t, &created] {
        std::mt19937 random(static_cast<unsigned>(t));
        const char* activities[] = {"small", "tiny", "big"};
        for (int i = 0; i < kRsvpsPerThread; ++i) {
          const std::string user_id = "u" + std::to_string(random() % kUsers);
          const auto outcome = rsvp(activities[random() % 3], user_id, random() % 3);
          if (outcome.ok()) created[t].push_back(outcome.value.rsvp.record.id);
        }
      });
    }
    for (std::thread& thread : threads) thread.join();
    std::vector<uint64_t> all;
    for (const auto& ids : created) all.insert(all.end(), ids.begin(), ids.end());
    return all;
  }
};

TEST_F(RsvpctlEngineTest, VerifyFindsNothingAfterConcurrentChanges) {
  ASSERT_TRUE(create("small", 5).ok());
  ASSERT_TRUE(create("tiny", 3).ok());
  ASSERT_TRUE(create("big", 40).ok());
  const std::vector<uint64_t> created = rsvp_concurrently();
  ASSERT_GT(created.size(), 20u);
  for (size_t i = 0; i < created.size(); i += 3) {
    ASSERT_TRUE(cancel(created[i], admin("root")).ok());
  }
  ActivityPatch raise;
  raise.capacity = 12;
  ASSERT_TRUE(patch("small", raise).ok());  // Promotes in the same commit.
  service_->tick();

  const RunResult verify = run("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find("OK: no findings"), std::string::npos) << verify.out;

  const RunResult status = run("status --json");
  EXPECT_EQ(status.exit_code, 0) << status.out;
  picojson::value json;
  ASSERT_EQ(picojson::parse(json, status.out), "");
  EXPECT_TRUE(json.get("running").get<bool>());
  EXPECT_EQ(json.get("activities").get<int64_t>(), 3);
  EXPECT_GT(json.get("commits_total").get<int64_t>(), 0);

  // The C reader API's example program sees the engine's published snapshot.
  const std::string watch = bin_dir() + "/capacity_watch -c 1 -n " + options_.shm_name + " small";
  FILE* pipe = popen(watch.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[512] = {};
  EXPECT_NE(fgets(line, sizeof line, pipe), nullptr);
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_NE(std::string(line).find("small capacity=12 "), std::string::npos) << line;

  EXPECT_EQ(run("ls").exit_code, 0);
  EXPECT_EQ(run("show small").exit_code, 0);
  EXPECT_EQ(run("audit --activity tiny --limit 5").exit_code, 0);
}

TEST_F(RsvpctlEngineTest, StatusSaysStoppedAfterTheServiceStops) {
  ASSERT_TRUE(create("small", 5).ok());
  service_->stop();
  const RunResult status = run("status --json");
  EXPECT_EQ(status.exit_code, 3) << status.out;
  // The stopped segment is no reason to skip LMDB's checks.
  const RunResult verify = run("verify");
  EXPECT_EQ(verify.exit_code, 0) << verify.out;
  EXPECT_NE(verify.out.find("segment not compared"), std::string::npos) << verify.out;
}

}  // namespace
}  // namespace rsvpd::testing
