// Durable RSVP throughput of the whole engine in-process (caller side + admission CAS + commit
// queue + group-commit writer + LMDB), to compare with store_bench's raw LMDB figures in the same
// run (scripts/bench-engine.sh runs both).
//
// BM_EngineRsvps/N: N RSVPs in flight at once (unique users over 1,000 roomy activities), each
// iteration waits for all N acknowledgements; the writer groups what queued into batches by
// itself. Items/s = durable RSVPs per second of wall time.
// BM_EngineRsvpsHot/N: the same on one hot activity (half confirm, half join the waitlist).
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <string>

#include "daemon/service.h"
#include "shm/segment.h"

namespace rsvpd {
namespace {

constexpr int kActivities = 1000;

class EngineHarness {
 public:
  EngineHarness() {
    const char* base = std::getenv("RSVPD_BENCH_DIR");
    std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/rsvpd-engine-XXXXXX";
    dir_ = mkdtemp(pattern.data());
    ServiceOptions options;
    options.data_dir = dir_;
    options.shm_name = "rsvpd-bench-engine-" + std::to_string(getpid());
    options.activities_max = 2 * kActivities;
    shm_name_ = options.shm_name;
    service_ = std::move(Service::open(options, clock_, nullptr)).value();
    for (int a = 0; a < kActivities; ++a) create("spread-" + std::to_string(a), 1'000'000);
    create("hot", 500'000);
  }
  ~EngineHarness() {
    service_.reset();
    shm::Segment::remove(shm_name_);
    std::filesystem::remove_all(dir_);
  }

  // Submits `count` RSVPs and waits for every answer; returns how many were 201.
  int rsvp_burst(int count, bool hot) {
    std::mutex mutex;
    std::condition_variable all_done;
    int pending = count;
    std::atomic<int> created{0};
    for (int i = 0; i < count; ++i) {
      NewRsvp input;
      input.activity_id = hot ? "hot" : "spread-" + std::to_string(next_user_ % kActivities);
      input.user_id = "u" + std::to_string(next_user_++);
      service_->create_rsvp(Caller{"bench-admin", false, true, "bench"}, std::move(input),
                            [&](ServiceOutcome<RsvpCreated> outcome) {
                              if (outcome.ok()) created.fetch_add(1, std::memory_order_relaxed);
                              std::lock_guard lock(mutex);
                              if (--pending == 0) all_done.notify_one();
                            });
    }
    std::unique_lock lock(mutex);
    all_done.wait(lock, [&] { return pending == 0; });
    return created.load();
  }

  const EngineMetrics& metrics() const { return service_->metrics(); }

 private:
  void create(const std::string& id, uint32_t capacity) {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    NewActivity input;
    input.id = id;
    input.title = id;
    input.capacity = capacity;
    service_->create_activity(Caller{"bench-admin", false, true, "bench"}, input,
                              [&](ServiceOutcome<ActivityView>) {
                                std::lock_guard lock(mutex);
                                finished = true;
                                done.notify_one();
                              });
    std::unique_lock lock(mutex);
    done.wait(lock, [&] { return finished; });
  }

  std::string dir_;
  std::string shm_name_;
  SystemClock clock_;
  std::unique_ptr<Service> service_;
  uint64_t next_user_ = 0;
};

void run(benchmark::State& state, bool hot) {
  EngineHarness harness;
  const int in_flight = static_cast<int>(state.range(0));
  int64_t created = 0;
  for (auto _ : state) created += harness.rsvp_burst(in_flight, hot);
  if (created != static_cast<int64_t>(state.iterations()) * in_flight) {
    state.SkipWithError("some RSVPs were not created");
  }
  state.SetItemsProcessed(created);
  const auto& metrics = harness.metrics();
  const double commits = static_cast<double>(metrics.commits_total.load());
  state.counters["rsvps_per_commit"] =
      commits > 0 ? static_cast<double>(metrics.batch_requests_total.load()) / commits : 0;
  state.counters["fdatasync_per_commit"] =
      commits > 0 ? static_cast<double>(metrics.fdatasync_calls_total.load()) / commits : 0;
}

void BM_EngineRsvps(benchmark::State& state) { run(state, false); }
void BM_EngineRsvpsHot(benchmark::State& state) { run(state, true); }

BENCHMARK(BM_EngineRsvps)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_EngineRsvpsHot)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace rsvpd

BENCHMARK_MAIN();
