// Durable commit throughput of the Store against raw LMDB doing the same number of puts.
//
// BM_StoreCommit/N: one durable write txn per iteration holding N RSVPs, each written the way
// the writer writes a new confirmed RSVP: the record, three index keys (by user, live by
// user+activity, confirmed by activity) and one audit entry (itself the record plus its activity
// and user index keys), so 7 puts per RSVP.
// BM_RawLmdbCommit/N: raw LMDB with default (durable) flags, one txn per iteration with the same
// 7 puts per item into one database, values of similar size: the ceiling the Store is measured
// against. BM_RawLmdbEngineKeys/N: raw LMDB writing the key layout the engine writes for a spread
// RSVP (the record by id; by user, live by user+activity, confirmed by activity; the audit entry
// by seq, by activity, by user: 7 puts into 7 databases, users "u<n>" over 1,000 activities,
// plus one activity record per touched activity per txn): the reference for "the same puts per
// RSVP", whose random index pages cost what the sequential one-tree reference does not.
// All report items/s (RSVPs, over wall time: commits wait on the disk) and fdatasync
// calls per commit.
//
// The data dir is RSVPD_BENCH_DIR when set (put it on the disk you care about), else a fresh
// directory under /tmp; it is removed at the end.
#include <benchmark/benchmark.h>
#include <lmdb.h>
#include <unistd.h>

#include <algorithm>
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

// Appends a big-endian u64, the way the store orders ids and seqs inside composite keys.
void append_u64(std::string& key, uint64_t value) {
  for (int b = 7; b >= 0; --b) key.push_back(static_cast<char>(value >> (8 * b)));
}

void BM_RawLmdbEngineKeys(benchmark::State& state) {
  constexpr uint64_t kSpreadActivities = 1000;
  constexpr const char* kNames[] = {"rsvps",  "by_user",  "live",       "confirmed",
                                    "audit", "audit_act", "audit_user", "activities"};
  const uint64_t batch = static_cast<uint64_t>(state.range(0));
  BenchDir dir;
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_mapsize(env, kMapSizeBytesDefault);
  mdb_env_set_maxdbs(env, 16);
  if (mdb_env_open(env, dir.path().c_str(), MDB_NOTLS, 0600) != MDB_SUCCESS) {
    mdb_env_close(env);
    return state.SkipWithError("mdb_env_open failed");
  }
  MDB_dbi dbis[8] = {};
  MDB_txn* setup = nullptr;
  mdb_txn_begin(env, nullptr, 0, &setup);
  for (int d = 0; d < 8; ++d) mdb_dbi_open(setup, kNames[d], MDB_CREATE, &dbis[d]);
  mdb_txn_commit(setup);
  const std::string record(120, 'r');
  const std::string audit_record(150, 'a');
  const std::string activity_record(200, 'c');
  const std::string id_value(8, 'i');
  uint64_t next = 1;
  auto put = [](MDB_txn* txn, MDB_dbi dbi, const std::string& key, const std::string& value) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{value.size(), const_cast<char*>(value.data())};
    return mdb_put(txn, dbi, &k, &v, 0);
  };
  const uint64_t syncs_before = Store::fdatasync_calls();
  for (auto _ : state) {
    MDB_txn* txn = nullptr;
    mdb_txn_begin(env, nullptr, 0, &txn);
    for (uint64_t i = 0; i < batch; ++i, ++next) {
      const std::string user = "u" + std::to_string(next);
      const std::string activity = "spread-" + std::to_string(next % kSpreadActivities);
      std::string id;
      append_u64(id, next);
      put(txn, dbis[0], id, record);
      put(txn, dbis[1], user + id, "");
      put(txn, dbis[2], user + '\0' + activity, id_value);
      put(txn, dbis[3], activity + '\0' + id, id_value);
      put(txn, dbis[4], id, audit_record);
      put(txn, dbis[5], activity + '\0' + id, "");
      put(txn, dbis[6], user + '\0' + id, "");
    }
    for (uint64_t a = 0; a < std::min(batch, kSpreadActivities); ++a) {
      put(txn, dbis[7], "spread-" + std::to_string((next - 1 - a) % kSpreadActivities),
          activity_record);
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
BENCHMARK(BM_RawLmdbEngineKeys)->Arg(128)->Arg(256)->Arg(4096)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace rsvpd

BENCHMARK_MAIN();
