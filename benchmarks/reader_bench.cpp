// Snapshot reads through the C reader API (shm/rsvpd_reader.h). Target: < 100 ns per read.
// The segment is created in-process with the shm API; reads go through librsvpd_reader.so, so
// the figure includes the shared-library call.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <thread>

#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/rsvpd_reader.h"
#include "shm/segment.h"
#include "shm/snapshot.h"

namespace {

using namespace rsvpd::shm;

constexpr uint32_t kActivitiesMax = 1024;

struct Fixture {
  std::string name = "rsvpd-bench-reader-" + std::to_string(getpid());
  std::unique_ptr<Segment> segment;
  SlotRef slot;
  rsvpd_reader* reader = nullptr;
  rsvpd_activity activity{};

  Fixture() {
    SegmentOpenError error;
    segment = Segment::create(name, kActivitiesMax, &error);
    if (segment == nullptr) std::abort();
    ActivitySettings settings;
    settings.capacity = 100;
    slot = segment->insert("bench", [&](ActivitySlot& s) {
      initialize_slot(s, settings, 0, 0);
      publish_snapshot(s, ActivitySnapshot{100, 0, 100, 0, 0, ActivityStatus::kOpen, 1, 1});
    }).slot;
    if (rsvpd_reader_open(name.c_str(), &reader) != RSVPD_OK) std::abort();
    if (rsvpd_reader_find(reader, "bench", &activity) != RSVPD_OK) std::abort();
  }
  ~Fixture() {
    rsvpd_reader_close(reader);
    Segment::remove(name);
  }
};

void BM_ReaderSnapshotRead(benchmark::State& state) {
  Fixture fixture;
  rsvpd_snapshot snap;
  for (auto _ : state) {
    const int rc = rsvpd_reader_read(fixture.reader, &fixture.activity, &snap);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_ReaderSnapshotRead);

// Reads from a running daemon's segment (RSVPD_BENCH_SHM, RSVPD_BENCH_ACTIVITY): what a
// co-located program pays, for benchmarks/compare/reader_vs_http.sh to set beside HTTP
// GET /capacity in the same run. Skipped when the variables are unset.
void BM_ReaderLiveDaemonRead(benchmark::State& state) {
  const char* shm_name = std::getenv("RSVPD_BENCH_SHM");
  const char* activity_id = std::getenv("RSVPD_BENCH_ACTIVITY");
  if (shm_name == nullptr || activity_id == nullptr) {
    return state.SkipWithError("set RSVPD_BENCH_SHM and RSVPD_BENCH_ACTIVITY");
  }
  rsvpd_reader* reader = nullptr;
  rsvpd_activity activity{};
  if (rsvpd_reader_open(shm_name, &reader) != RSVPD_OK) return state.SkipWithError("no segment");
  if (rsvpd_reader_find(reader, activity_id, &activity) != RSVPD_OK) {
    rsvpd_reader_close(reader);
    return state.SkipWithError("no such activity");
  }
  rsvpd_snapshot snap;
  for (auto _ : state) {
    const int rc = rsvpd_reader_read(reader, &activity, &snap);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(snap);
  }
  rsvpd_reader_close(reader);
}
BENCHMARK(BM_ReaderLiveDaemonRead);

void BM_ReaderFindThenRead(benchmark::State& state) {
  Fixture fixture;
  rsvpd_snapshot snap;
  rsvpd_activity activity;
  for (auto _ : state) {
    int rc = rsvpd_reader_find(fixture.reader, "bench", &activity);
    rc |= rsvpd_reader_read(fixture.reader, &activity, &snap);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(snap);
  }
}
BENCHMARK(BM_ReaderFindThenRead);

// Reads while a writer thread publishes continuously: the seqlock retry cost under contention.
void BM_ReaderSnapshotReadWhilePublishing(benchmark::State& state) {
  Fixture fixture;
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    uint32_t confirmed = 0;
    while (!stop.load(std::memory_order_relaxed)) {  // Relaxed: a stop flag, no data.
      confirmed = (confirmed + 1) % 100;
      publish_snapshot(fixture.segment->slot(fixture.slot),
                       {100, confirmed, 100 - confirmed, 0, 0, ActivityStatus::kOpen, 1, confirmed});
    }
  });
  rsvpd_snapshot snap;
  int64_t busy = 0;
  for (auto _ : state) {
    const int rc = rsvpd_reader_read(fixture.reader, &fixture.activity, &snap);
    busy += rc == RSVPD_BUSY;
    benchmark::DoNotOptimize(snap);
  }
  stop.store(true, std::memory_order_relaxed);
  writer.join();
  state.counters["busy"] = static_cast<double>(busy);
}
BENCHMARK(BM_ReaderSnapshotReadWhilePublishing);

}  // namespace

BENCHMARK_MAIN();
