// TestWorld: a real LMDB store (filled through daemon/store.h) and a real segment (shm API) in the
// shapes the engine writes, plus a runner for the built rsvpctl binary. A miniature of the
// engine's writer, just enough to build consistent states and then break them on purpose.
#pragma once

#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>
#include <signal.h>

#include <cstdio>
#include <functional>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "daemon/store.h"
#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/segment.h"
#include "shm/snapshot.h"
#include "tests/shm/test_segment_name.h"

namespace rsvpd::testing {

inline constexpr uint32_t kTestActivitiesMax = 64;
inline constexpr int64_t kTestNowMs = 1'780'000'000'000;
inline constexpr int64_t kTestCommitIntervalMs = 10'000;

struct RunResult {
  int exit_code = -1;
  std::string out;
};

// The directory of the built binaries: RSVPD_BIN_DIR (set by ctest), else this test's own
// directory (tests and binaries share <build>/bin), so scripts may run the test directly.
inline std::string bin_dir() {
  const char* dir = std::getenv("RSVPD_BIN_DIR");
  if (dir != nullptr && dir[0] != '\0') return dir;
  return std::filesystem::canonical("/proc/self/exe").parent_path().string();
}

inline std::string rsvpctl_path() { return bin_dir() + "/rsvpctl"; }

// Runs `rsvpctl <arguments>` through the shell; stdout captured, stderr to /dev/null unless
// `with_stderr`.
inline RunResult run_rsvpctl(const std::string& arguments, bool with_stderr = false) {
  const std::string command =
      rsvpctl_path() + " " + arguments + (with_stderr ? " 2>&1" : " 2>/dev/null");
  RunResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t got = 0;
  while ((got = fread(buffer, 1, sizeof buffer, pipe)) > 0) result.out.append(buffer, got);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// A child running rsvpctl with stdout on a pipe, for commands that run until Ctrl-C.
class Spawned {
 public:
  explicit Spawned(const std::vector<std::string>& arguments) {
    int fds[2];
    if (pipe(fds) != 0) std::abort();
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], STDOUT_FILENO);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      const std::string path = rsvpctl_path();
      argv.push_back(const_cast<char*>(path.c_str()));
      for (const std::string& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(path.c_str(), argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fdopen(fds[0], "r");
  }
  ~Spawned() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ != nullptr) fclose(out_);
  }
  // One line of output, "" at end of file.
  std::string line() {
    char buffer[8192];
    return fgets(buffer, sizeof buffer, out_) != nullptr ? std::string(buffer) : std::string();
  }
  // Sends `signal_number` and returns the exit code (-1 if killed by a signal).
  int stop(int signal_number) {
    kill(pid_, signal_number);
    int status = 0;
    waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  bool reaped_ = false;
};

class TestWorld {
 public:
  TestWorld() {
    char pattern[] = "/tmp/rsvpctl-test-XXXXXX";
    dir_ = mkdtemp(pattern);
    data_dir_ = dir_ + "/data";
    shm_name_ = shm::testing::unique_segment_name("cli");
    StoreOptions options;
    options.data_dir = data_dir_;
    options.map_size_bytes = size_t{64} << 20;
    store_ = std::move(Store::open(options)).value();
    shm::SegmentOpenError error;
    segment_ = shm::Segment::create(shm_name_, kTestActivitiesMax, &error);
    std::ofstream(data_dir_ + "/jwt.secret") << "0123456789abcdef0123456789abcdef";
  }
  ~TestWorld() {
    store_.reset();
    segment_.reset();
    shm::Segment::remove(shm_name_);
    std::filesystem::remove_all(dir_);
  }

  const std::string& dir() const { return dir_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& shm_name() const { return shm_name_; }
  Store& store() { return *store_; }
  shm::Segment& segment() { return *segment_; }
  std::string flags() const { return "--data-dir " + data_dir_ + " --shm-name " + shm_name_; }
  RunResult run(const std::string& arguments, bool with_stderr = false) const {
    return run_rsvpctl(arguments + " " + flags(), with_stderr);
  }

  void create_activity(const std::string& id, uint32_t capacity) {
    ActivityRecord a;
    a.id = id;
    a.title = "Title of " + id;
    a.host_id = "host";
    a.capacity = capacity;
    a.version = 1;
    a.created_at_ms = a.updated_at_ms = kTestNowMs;
    WriteTxn txn = begin();
    check(txn.put_activity(a));
    audit(txn, AuditOp::kActivityCreated, id, 0, "", "", "", 0);
    commit(txn);
    shm::ActivitySettings shm_settings;
    shm_settings.capacity = capacity;
    segment_->insert(id, [&](shm::ActivitySlot& slot) {
      shm::initialize_slot(slot, shm_settings, 0, 0);
    });
    publish(id);
  }

  // The engine's decision: confirm when nobody waits and the party fits, else wait.
  uint64_t rsvp(const std::string& activity_id, const std::string& user, uint32_t guests) {
    WriteTxn txn = begin();
    ActivityRecord a = txn.get_activity(activity_id).value();
    RsvpRecord r;
    r.id = ++last_rsvp_id_;
    r.activity_id = activity_id;
    r.user_id = user;
    r.guests = guests;
    r.created_at_ms = r.updated_at_ms = kTestNowMs;
    const bool fits = a.waitlist_length == 0 && a.confirmed_seats + r.party_size() <= a.capacity;
    if (fits) {
      confirm_into(txn, a, r, AuditOp::kRsvpConfirmed, "");
    } else {
      r.status = RsvpStatus::kWaitlisted;
      r.ticket = a.next_ticket++;
      a.waitlist_length += 1;
      a.waitlisted_seats += static_cast<uint32_t>(r.party_size());
      check(txn.put_waiting(activity_id, r.ticket, r.id));
      check(txn.put_rsvp(r));
      audit(txn, AuditOp::kRsvpWaitlisted, activity_id, r.id, user, "", "waitlisted",
            static_cast<uint32_t>(r.party_size()));
    }
    check(txn.put_user_rsvp(user, r.id));
    check(txn.put_live_rsvp(user, activity_id, r.id));
    check(txn.put_activity(a));
    commit(txn);
    publish(activity_id);
    return r.id;
  }

  // Cancels and promotes waiting parties in ticket order while the head fits.
  void cancel(uint64_t rsvp_id) {
    WriteTxn txn = begin();
    RsvpRecord r = txn.get_rsvp(rsvp_id).value();
    ActivityRecord a = txn.get_activity(r.activity_id).value();
    const std::string from(rsvp_status_name(r.status));
    if (r.status == RsvpStatus::kConfirmed) {
      a.confirmed_seats -= static_cast<uint32_t>(r.party_size());
      check(txn.delete_confirmed(r.activity_id, r.confirm_order));
    } else {
      a.waitlist_length -= 1;
      a.waitlisted_seats -= static_cast<uint32_t>(r.party_size());
      check(txn.delete_waiting(r.activity_id, r.ticket));
    }
    check(txn.delete_live_rsvp(r.user_id, r.activity_id));
    r.status = RsvpStatus::kCancelled;
    r.cancelled_at_ms = kTestNowMs;
    check(txn.put_rsvp(r));
    audit(txn, AuditOp::kRsvpCancelled, r.activity_id, r.id, r.user_id, from, "cancelled",
          static_cast<uint32_t>(r.party_size()));
    promote(txn, a);
    check(txn.put_activity(a));
    commit(txn);
    publish(r.activity_id);
  }

  // Publishes the activity's LMDB record into its segment slot (as the writer does after commit).
  void publish(const std::string& id) {
    ReadTxn txn = std::move(store_->begin_read()).value();
    const ActivityRecord a = txn.get_activity(id).value();
    const auto slot = segment_->find(id);
    if (!slot) return;
    shm::publish_snapshot(segment_->slot(*slot),
                          shm::ActivitySnapshot{a.capacity, a.confirmed_seats,
                                                a.capacity - a.confirmed_seats, a.waitlist_length,
                                                a.waitlisted_seats,
                                                static_cast<shm::ActivityStatus>(a.status),
                                                a.version, txn.last_audit_seq().value()});
    shm::announce_change(segment_->header());
  }

  // Closes the Store, runs `edit` in a raw LMDB write txn on `table` (for damage the Store API
  // refuses to do, like a gap in the audit seq), commits, and reopens the Store.
  void edit_raw(const char* table, const std::function<void(MDB_txn*, MDB_dbi)>& edit) {
    store_.reset();
    MDB_env* env = nullptr;
    MDB_txn* txn = nullptr;
    MDB_dbi dbi = 0;
    mdb_env_create(&env);
    mdb_env_set_maxdbs(env, kDatabasesMax);
    mdb_env_set_mapsize(env, size_t{64} << 20);
    if (mdb_env_open(env, data_dir_.c_str(), 0, 0600) != 0) std::abort();
    mdb_txn_begin(env, nullptr, 0, &txn);
    if (mdb_dbi_open(txn, table, 0, &dbi) != 0) std::abort();
    edit(txn, dbi);
    if (mdb_txn_commit(txn) != 0) std::abort();
    mdb_env_close(env);
    StoreOptions options;
    options.data_dir = data_dir_;
    options.map_size_bytes = size_t{64} << 20;
    store_ = std::move(Store::open(options)).value();
  }

  WriteTxn begin() { return std::move(store_->begin_write()).value(); }
  // Each commit is a new batch, 10 s after the previous one (audit times matter to verify).
  void commit(WriteTxn& txn) {
    check(txn.commit());
    now_ms_ += kTestCommitIntervalMs;
  }
  static void check(const Status& status) {
    if (!status.is_ok()) {
      std::fprintf(stderr, "TestWorld: %s\n", status.to_string().c_str());
      std::abort();
    }
  }
  void audit(WriteTxn& txn, AuditOp op, const std::string& activity, uint64_t rsvp_id,
             const std::string& user, const std::string& from, const std::string& to,
             uint32_t party) {
    AuditRecord e;
    e.seq = txn.last_audit_seq().value() + 1;
    e.at_ms = now_ms_;
    e.op = op;
    e.actor = user.empty() ? "host" : user;
    e.activity_id = activity;
    e.rsvp_id = rsvp_id;
    e.user_id = user;
    e.from_status = from;
    e.to_status = to;
    e.party_size = party;
    e.request_id = "req-" + std::to_string(e.seq);
    check(txn.append_audit(e));
  }

 private:
  void confirm_into(WriteTxn& txn, ActivityRecord& a, RsvpRecord& r, AuditOp op,
                    const std::string& from) {
    r.status = RsvpStatus::kConfirmed;
    r.confirm_order = a.next_confirm_order++;
    r.confirmed_at_ms = kTestNowMs;
    a.confirmed_seats += static_cast<uint32_t>(r.party_size());
    check(txn.put_confirmed(a.id, r.confirm_order, r.id));
    check(txn.put_rsvp(r));
    audit(txn, op, a.id, r.id, r.user_id, from, "confirmed", static_cast<uint32_t>(r.party_size()));
  }

  void promote(WriteTxn& txn, ActivityRecord& a) {
    for (;;) {
      Page<RsvpRecord> head = txn.waiting_of_activity(a.id, 0, 1).value();
      if (head.items.empty()) return;
      RsvpRecord r = head.items.front();
      if (a.confirmed_seats + r.party_size() > a.capacity) return;  // Strict FIFO: stop here.
      check(txn.delete_waiting(a.id, r.ticket));
      a.waitlist_length -= 1;
      a.waitlisted_seats -= static_cast<uint32_t>(r.party_size());
      confirm_into(txn, a, r, AuditOp::kRsvpPromoted, "waitlisted");
    }
  }

  std::string dir_;
  std::string data_dir_;
  std::string shm_name_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<shm::Segment> segment_;
  uint64_t last_rsvp_id_ = 0;
  int64_t now_ms_ = kTestNowMs;
};

}  // namespace rsvpd::testing
