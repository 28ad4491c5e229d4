// Micro-benchmarks of the shared-memory layer (issue: admission < 50 ns uncontended,
// snapshot read < 30 ns). Run: build/bin/shm_bench --benchmark_repetitions=5
//   --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>
#include <new>

#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/segment.h"
#include "shm/snapshot.h"

namespace rsvpd::shm {
namespace {

constexpr int64_t kNow = 1;

ActivitySettings large_activity() {
  ActivitySettings settings;
  settings.capacity = kCapacityMax;
  settings.max_guests = 3;
  return settings;
}

// One confirm CAS plus the wait-free undo that gives the seat back (so the slot never fills).
void BM_AdmitConfirmAndUndo_Uncontended(benchmark::State& state) {
  auto slot = std::make_unique<ActivitySlot>();
  initialize_slot(*slot, large_activity(), 0, 0);
  for (auto _ : state) {
    const AdmitResult result = admit(*slot, 0, kNow);
    benchmark::DoNotOptimize(result.outcome);
    undo_admission(*slot, result.outcome, 1);
  }
}
BENCHMARK(BM_AdmitConfirmAndUndo_Uncontended);

// The admission alone: a slot large enough that a whole run never fills it.
void BM_AdmitConfirm_Uncontended(benchmark::State& state) {
  auto slot = std::make_unique<ActivitySlot>();
  initialize_slot(*slot, large_activity(), 0, 0);
  int64_t taken = 0;
  for (auto _ : state) {
    const AdmitResult result = admit(*slot, 0, kNow);
    benchmark::DoNotOptimize(result.outcome);
    if (++taken == kCapacityMax) {
      state.PauseTiming();
      initialize_slot(*slot, large_activity(), 0, 0);
      taken = 0;
      state.ResumeTiming();
    }
  }
}
BENCHMARK(BM_AdmitConfirm_Uncontended);

// Two threads CAS the same hot slot: the cost of contention on one activity.
ActivitySlot* g_hot_slot = nullptr;
void BM_AdmitConfirmAndUndo_HotSlot(benchmark::State& state) {
  if (state.thread_index() == 0) {
    g_hot_slot = new ActivitySlot();
    initialize_slot(*g_hot_slot, large_activity(), 0, 0);
  }
  int64_t contended = 0;
  for (auto _ : state) {
    const AdmitResult result = admit(*g_hot_slot, 0, kNow);
    contended += result.attempts - 1;
    if (admission_holds_place(result.outcome)) undo_admission(*g_hot_slot, result.outcome, 1);
  }
  state.counters["cas_retries_per_op"] =
      benchmark::Counter(static_cast<double>(contended), benchmark::Counter::kAvgIterations);
  if (state.thread_index() == 0) {
    delete g_hot_slot;
    g_hot_slot = nullptr;
  }
}
BENCHMARK(BM_AdmitConfirmAndUndo_HotSlot)->Threads(2)->UseRealTime();

void BM_ReadSnapshot(benchmark::State& state) {
  auto slot = std::make_unique<ActivitySlot>();
  publish_snapshot(*slot, ActivitySnapshot{100, 40, 60, 3, 7, ActivityStatus::kOpen, 2, 9});
  ActivitySnapshot snapshot;
  for (auto _ : state) {
    benchmark::DoNotOptimize(read_snapshot(*slot, snapshot));
    benchmark::DoNotOptimize(snapshot);
  }
}
BENCHMARK(BM_ReadSnapshot);

void BM_FindAndReadSnapshot_ReadOnlyMapping(benchmark::State& state) {
  const std::string name = "rsvpd-bench-" + std::to_string(getpid());
  SegmentOpenError error;
  auto segment = Segment::create(name, 1024, &error);
  for (int i = 0; i < 1000; ++i) {
    segment->insert("activity-" + std::to_string(i), [](ActivitySlot& slot) {
      initialize_slot(slot, ActivitySettings{}, 0, 0);
      publish_snapshot(slot, ActivitySnapshot{1, 0, 1, 0, 0, ActivityStatus::kOpen, 1, 0});
    });
  }
  auto reader = Segment::open_read_only(name, &error);
  ActivitySnapshot snapshot;
  const std::string id = "activity-517";
  for (auto _ : state) {
    const auto slot = reader->find(id);
    benchmark::DoNotOptimize(read_snapshot(reader->slot(*slot), snapshot));
  }
  Segment::remove(name);
}
BENCHMARK(BM_FindAndReadSnapshot_ReadOnlyMapping);

// Ping-pong between two processes over two futex counters in shared memory: each iteration is
// one wake-to-wait round trip (two cross-process wakes).
void BM_FutexRoundTrip_CrossProcess(benchmark::State& state) {
  void* memory = mmap(nullptr, 2 * sizeof(SegmentHeader), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  auto* ping = new (memory) SegmentHeader();
  auto* pong = new (static_cast<char*>(memory) + sizeof(SegmentHeader)) SegmentHeader();
  const pid_t child = fork();
  if (child == 0) {
    uint32_t seen = 0;
    for (;;) {
      while (load_change_counter(*ping) == seen) wait_for_change(*ping, seen, 1000);
      seen = load_change_counter(*ping);
      if (seen == UINT32_MAX) _exit(0);
      announce_change(*pong);
    }
  }
  uint32_t pong_seen = load_change_counter(*pong);
  for (auto _ : state) {
    announce_change(*ping);
    while (load_change_counter(*pong) == pong_seen) wait_for_change(*pong, pong_seen, 1000);
    pong_seen = load_change_counter(*pong);
  }
  ping->change_counter.store(UINT32_MAX - 1);
  announce_change(*ping);
  waitpid(child, nullptr, 0);
  munmap(memory, 2 * sizeof(SegmentHeader));
}
BENCHMARK(BM_FutexRoundTrip_CrossProcess)->UseRealTime();

}  // namespace
}  // namespace rsvpd::shm

BENCHMARK_MAIN();
