// Durable commit throughput of the Store against raw LMDB doing the same number of puts.
//
// BM_StoreCommit/N: one durable write txn per iteration holding N RSVPs, each written the way
// the writer writes a new confirmed RSVP: the record, three index keys (by user, live by
// user+activity, confirmed by activity) and one audit entry (itself the record plus its activity
// and user index keys), so 7 puts per RSVP.
// BM_RawLmdbCommit/N: raw LMDB with default (durable) flags, one txn per iteration with the same
// 7 puts per item into one database, values of similar size: the ceiling the Store is measured
// against. Both report items/s (RSVPs, over wall time: commits wait on the disk) and fdatasync
// calls per commit.
//
// The data dir is RSVPD_BENCH_DIR when set (put it on the disk you care about), else a fresh
// directory under /tmp; it is removed at the end.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "daemon/store.h"

namespace rsvpd {
namespace {

constexpr int kPutsPerRsvp = 7;
constexpr uint64_t kActivities = 64;

std::string make_bench_dir() {
  const char* base = std::getenv("RSVPD_BENCH_DIR");
  std::string pattern = std::string(base != nullptr ? base : "/tmp") + "/rsvpd-bench-XXXXXX";
  const char* made = ::mkdtemp(pattern.data());
  return made != nullptr ? std::string(made) : std::string();
}

class BenchDir {
 public:
  BenchDir() : path_(make_bench_dir()) {}
  ~BenchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

Status put_one_rsvp(WriteTxn& txn, uint64_t id) {
  RsvpRecord rsvp;
  rsvp.id = id;
  rsvp.activity_id = "activity-" + std::to_string(id % kActivities);
  rsvp.user_id = "user-" + std::to_string(id);
  rsvp.status = RsvpStatus::kConfirmed;
  rsvp.confirm_order = id;
  rsvp.created_at_ms = rsvp.updated_at_ms = 1'700'000'000'000;
  rsvp.confirmed_at_ms = rsvp.created_at_ms;
  Status status = txn.put_rsvp(rsvp);
  if (status.is_ok()) status = txn.put_user_rsvp(rsvp.user_id, id);
  if (status.is_ok()) status = txn.put_live_rsvp(rsvp.user_id, rsvp.activity_id, id);
  if (status.is_ok()) status = txn.put_confirmed(rsvp.activity_id, id, id);
  if (!status.is_ok()) return status;
  AuditRecord audit;
  audit.seq = id;
  audit.at_ms = rsvp.created_at_ms;
  audit.op = AuditOp::kRsvpConfirmed;
  audit.actor = rsvp.user_id;
  audit.activity_id = rsvp.activity_id;
  audit.rsvp_id = id;
  audit.user_id = rsvp.user_id;
  audit.to_status = "confirmed";
  audit.party_size = 1;
  audit.request_id = "request-" + std::to_string(id);
  return txn.append_audit(audit);
}

void BM_StoreCommit(benchmark::State& state) {
  const uint64_t batch = static_cast<uint64_t>(state.range(0));
  BenchDir dir;
  StoreOptions options;
  options.data_dir = dir.path();
  Result<std::unique_ptr<Store>> store = Store::open(options);
  if (!store.is_ok()) return state.SkipWithError(store.status().to_string().c_str());
  uint64_t next_id = 1;
  const uint64_t syncs_before = Store::fdatasync_calls();
  for (auto _ : state) {
    Result<WriteTxn> txn = store.value()->begin_write();
    if (!txn.is_ok()) return state.SkipWithError(txn.status().to_string().c_str());
    for (uint64_t i = 0; i < batch; ++i) {
      Status status = put_one_rsvp(txn.value(), next_id++);
      if (!status.is_ok()) return state.SkipWithError(status.to_string().c_str());
    }
    Status status = txn->commit();
    if (!status.is_ok()) return state.SkipWithError(status.to_string().c_str());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["fsyncs_per_commit"] = benchmark::Counter(
      static_cast<double>(Store::fdatasync_calls() - syncs_before) /
      static_cast<double>(state.iterations()));
}

// Raw LMDB: the reference. Keys are big-endian counters, values ~100 bytes like a record.
void BM_RawLmdbCommit(benchmark::State& state) {
  const uint64_t batch = static_cast<uint64_t>(state.range(0));
  BenchDir dir;
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, kMapSizeBytesDefault);
  if (mdb_env_open(env, dir.path().c_str(), MDB_NOTLS, 0600) != MDB_SUCCESS) {
    mdb_env_close(env);
    return state.SkipWithError("mdb_env_open failed");
  }
  MDB_dbi dbi = 0;
  std::string value(100, 'v');
  uint64_t next_key = 1;
  const uint64_t syncs_before = Store::fdatasync_calls();
  for (auto _ : state) {
    MDB_txn* txn = nullptr;
    mdb_txn_begin(env, nullptr, 0, &txn);
    mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (uint64_t i = 0; i < batch * kPutsPerRsvp; ++i) {
      char key_bytes[8];
      for (int b = 0; b < 8; ++b) key_bytes[b] = static_cast<char>(next_key >> (8 * (7 - b)));
      ++next_key;
      MDB_val key{sizeof key_bytes, key_bytes};
      MDB_val data{value.size(), value.data()};
      mdb_put(txn, dbi, &key, &data, 0);
    }
    if (mdb_txn_commit(txn) != MDB_SUCCESS) {
      mdb_env_close(env);
      return state.SkipWithError("mdb_txn_commit failed");
    }
  }
  mdb_env_close(env);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  state.counters["fsyncs_per_commit"] = benchmark::Counter(
      static_cast<double>(Store::fdatasync_calls() - syncs_before) /
      static_cast<double>(state.iterations()));
}

BENCHMARK(BM_StoreCommit)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_RawLmdbCommit)->Arg(1)->Arg(16)->Arg(256)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace rsvpd

BENCHMARK_MAIN();
