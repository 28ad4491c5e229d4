#include "daemon/store.h"

#include <gtest/gtest.h>
#include <lmdb.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shm/failpoint.h"

namespace rsvpd {
namespace {

// A fresh directory under /tmp, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/rsvpd-store-test-XXXXXX";
    const char* made = ::mkdtemp(pattern);
    EXPECT_NE(made, nullptr) << std::strerror(errno);
    path_ = made == nullptr ? "" : made;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::unique_ptr<Store> open_store(const std::string& dir, size_t map_size_bytes = kMapSizeBytesDefault) {
  StoreOptions options;
  options.data_dir = dir;
  options.map_size_bytes = map_size_bytes;
  Result<std::unique_ptr<Store>> store = Store::open(options);
  EXPECT_TRUE(store.is_ok()) << store.status().to_string();
  return store.is_ok() ? std::move(store).value() : nullptr;
}

Result<std::unique_ptr<Store>> open_read_only(const std::string& dir) {
  StoreOptions options;
  options.data_dir = dir;
  options.read_only = true;
  return Store::open(options);
}

ActivityRecord make_activity(const std::string& id) {
  ActivityRecord record;
  record.id = id;
  record.title = "Title of " + id;
  record.host_id = "host";
  record.capacity = 10;
  record.version = 1;
  return record;
}

RsvpRecord make_rsvp(uint64_t id, const std::string& activity, const std::string& user,
                     RsvpStatus status, uint64_t order) {
  RsvpRecord record;
  record.id = id;
  record.activity_id = activity;
  record.user_id = user;
  record.guests = static_cast<uint32_t>(id % 3);
  record.status = status;
  if (status == RsvpStatus::kConfirmed) record.confirm_order = order;
  if (status == RsvpStatus::kWaitlisted) record.ticket = order;
  record.created_at_ms = static_cast<int64_t>(id) * 10;
  return record;
}

AuditRecord make_audit(uint64_t seq, const std::string& activity, const std::string& user) {
  AuditRecord record;
  record.seq = seq;
  record.at_ms = static_cast<int64_t>(seq);
  record.op = user.empty() ? AuditOp::kActivityCreated : AuditOp::kRsvpConfirmed;
  record.actor = user.empty() ? "host" : user;
  record.activity_id = activity;
  record.user_id = user;
  record.request_id = "req-" + std::to_string(seq);
  return record;
}

// Writes a whole RSVP as the writer would: record, user index, live index, order index.
Status put_full_rsvp(WriteTxn& txn, const RsvpRecord& record) {
  Status status = txn.put_rsvp(record);
  if (status.is_ok()) status = txn.put_user_rsvp(record.user_id, record.id);
  if (status.is_ok() && record.status != RsvpStatus::kCancelled) {
    status = txn.put_live_rsvp(record.user_id, record.activity_id, record.id);
  }
  if (status.is_ok() && record.status == RsvpStatus::kConfirmed) {
    status = txn.put_confirmed(record.activity_id, record.confirm_order, record.id);
  }
  if (status.is_ok() && record.status == RsvpStatus::kWaitlisted) {
    status = txn.put_waiting(record.activity_id, record.ticket, record.id);
  }
  return status;
}

template <typename T>
std::vector<uint64_t> rsvp_ids(const Page<T>& page) {
  std::vector<uint64_t> ids;
  for (const auto& item : page.items) ids.push_back(item.id);
  return ids;
}

std::vector<uint64_t> audit_seqs(const Page<AuditRecord>& page) {
  std::vector<uint64_t> seqs;
  for (const auto& item : page.items) seqs.push_back(item.seq);
  return seqs;
}

// Runs `body` in a forked child process and returns its complaint: "" when it returned "" and
// exited normally. Used where a test needs another process (locks) or process-wide limits.
std::string run_in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid < 0) return "fork failed";
  if (pid == 0) {
    ::close(fds[0]);
    const std::string complaint = body();
    const ssize_t written = ::write(fds[1], complaint.data(), complaint.size());
    ::_exit(complaint.empty() && written == 0 ? 0 : 1);
  }
  ::close(fds[1]);
  std::string complaint;
  char buffer[512];
  ssize_t got = 0;
  while ((got = ::read(fds[0], buffer, sizeof buffer)) > 0) complaint.append(buffer, got);
  ::close(fds[0]);
  int wait_status = 0;
  ::waitpid(pid, &wait_status, 0);
  if (!WIFEXITED(wait_status)) return "child died: " + complaint;
  if (WEXITSTATUS(wait_status) != 0 && complaint.empty()) return "child exited non-zero";
  return complaint;
}

// ---------------------------------------------------------------------------------------------

TEST(StoreTest, OpenCreatesMissingDirAndReopens) {
  TempDir temp;
  const std::string dir = temp.path() + "/nested/data";
  {
    std::unique_ptr<Store> store = open_store(dir);
    ASSERT_NE(store, nullptr);
    EXPECT_TRUE(std::filesystem::exists(dir + "/data.mdb"));
    EXPECT_TRUE(std::filesystem::exists(dir + "/rsvpd.lock"));
    EXPECT_EQ(store->data_dir(), dir);
    EXPECT_FALSE(store->read_only());
    EXPECT_GE(store->map_size_bytes(), kMapSizeBytesDefault);
    Result<int> cleared = store->check_readers();
    ASSERT_TRUE(cleared.is_ok());
    EXPECT_EQ(cleared.value(), 0);
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(txn->put_activity(make_activity("a1")).is_ok());
    ASSERT_TRUE(txn->commit().is_ok());
  }
  std::unique_ptr<Store> store = open_store(dir);
  ASSERT_NE(store, nullptr);
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  Result<ActivityRecord> activity = read->get_activity("a1");
  ASSERT_TRUE(activity.is_ok()) << activity.status().to_string();
  EXPECT_EQ(activity.value(), make_activity("a1"));
}

TEST(StoreTest, InvalidOptionsAreRejected) {
  StoreOptions options;
  EXPECT_EQ(Store::open(options).status().code(), StatusCode::kInvalidArgument);
  TempDir temp;
  options.data_dir = temp.path();
  options.map_size_bytes = 0;
  EXPECT_EQ(Store::open(options).status().code(), StatusCode::kInvalidArgument);
}

TEST(StoreTest, ActivitiesGetPutAndScanInIdOrder) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    for (const char* id : {"b", "a", "ab", "a.b", "Z", "c"}) {
      ASSERT_TRUE(txn->put_activity(make_activity(id)).is_ok());
    }
    ActivityRecord changed = make_activity("c");
    changed.version = 2;
    ASSERT_TRUE(txn->put_activity(changed).is_ok());  // Overwrites.
    ASSERT_TRUE(txn->commit().is_ok());
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->get_activity("c")->version, 2u);
  EXPECT_EQ(read->get_activity("nope").status().code(), StatusCode::kNotFound);

  std::vector<std::string> ids;
  std::string after;
  for (int round = 0; round < 10; ++round) {  // Pages of 4, as recovery would read them.
    Result<std::vector<ActivityRecord>> page = read->activities_after(after, 4);
    ASSERT_TRUE(page.is_ok());
    for (const ActivityRecord& record : page.value()) ids.push_back(record.id);
    if (page->size() < 4) break;
    after = page->back().id;
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"Z", "a", "a.b", "ab", "b", "c"}));
}

TEST(StoreTest, RsvpAndLiveIndex) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  Result<WriteTxn> txn = store->begin_write();
  ASSERT_TRUE(txn.is_ok());
  const RsvpRecord record = make_rsvp(7, "act", "u1", RsvpStatus::kConfirmed, 1);
  ASSERT_TRUE(put_full_rsvp(txn.value(), record).is_ok());
  EXPECT_EQ(txn->get_rsvp(7).value(), record);  // A write txn reads its own writes.
  EXPECT_EQ(txn->get_rsvp(8).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(txn->get_live_rsvp("u1", "act").value(), 7u);
  // One live RSVP per (user, activity): a second one is refused, not overwritten.
  EXPECT_EQ(txn->put_live_rsvp("u1", "act", 9).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(txn->get_live_rsvp("u1", "act").value(), 7u);
  EXPECT_EQ(txn->get_live_rsvp("u1", "act2").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(txn->get_live_rsvp("u", "act").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(txn->delete_live_rsvp("u1", "act").is_ok());
  EXPECT_EQ(txn->delete_live_rsvp("u1", "act").code(), StatusCode::kNotFound);
  EXPECT_EQ(txn->get_live_rsvp("u1", "act").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(txn->put_live_rsvp("u1", "act", 9).is_ok());  // After cancel, a new one.
  EXPECT_EQ(txn->put_confirmed("act", 1, 8).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(txn->delete_waiting("act", 1).code(), StatusCode::kNotFound);
  EXPECT_EQ(txn->put_user_rsvp("u1", 7).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(txn->delete_user_rsvp("u1", 7).is_ok());
  EXPECT_EQ(txn->delete_user_rsvp("u1", 7).code(), StatusCode::kNotFound);
  EXPECT_TRUE(txn->rsvps_of_user("u1", 0, std::nullopt, 10)->items.empty());
  ASSERT_TRUE(txn->commit().is_ok());

  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->get_live_rsvp("u1", "act").value(), 9u);
  EXPECT_EQ(read->last_rsvp_id().value(), 7u);
}

TEST(StoreTest, AbortAndDestructionDropChanges) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(txn->put_activity(make_activity("dropped")).is_ok());
    // Destroyed without commit.
  }
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(txn->put_activity(make_activity("aborted")).is_ok());
    txn->abort();
    txn->abort();  // Idempotent.
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->get_activity("dropped").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(read->get_activity("aborted").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(read->last_rsvp_id().value(), 0u);
  EXPECT_EQ(read->last_audit_seq().value(), 0u);
}

TEST(StoreTest, OneWriteTxnAtATime) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  Result<WriteTxn> first = store->begin_write();
  ASSERT_TRUE(first.is_ok());
  Result<WriteTxn> second = store->begin_write();
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  WriteTxn moved = std::move(first).value();  // Moving keeps the writer slot.
  EXPECT_EQ(store->begin_write().status().code(), StatusCode::kBusy);
  ASSERT_TRUE(moved.commit().is_ok());
  Result<WriteTxn> third = store->begin_write();
  EXPECT_TRUE(third.is_ok());
}

// Fills an activity with confirmed RSVPs (orders 1..n) and waiting ones (sparse tickets).
void fill_activity(Store& store) {
  Result<WriteTxn> txn = store.begin_write();
  ASSERT_TRUE(txn.is_ok());
  uint64_t id = 1;
  // Orders chosen so that bytewise order of little-endian or decimal text would differ.
  for (const uint64_t order : {1ull, 2ull, 255ull, 256ull, 65536ull}) {
    const std::string user = "u" + std::to_string(id);
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(id++, "ab", user, RsvpStatus::kConfirmed,
                                                     order)).is_ok());
  }
  for (const uint64_t ticket : {1ull << 33, 3ull, 10ull, 9ull}) {
    const std::string user = "w" + std::to_string(id);
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(id++, "ab", user, RsvpStatus::kWaitlisted,
                                                     ticket)).is_ok());
  }
  // Neighbours whose ids share a prefix must not leak into "ab".
  ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(id++, "abc", "x", RsvpStatus::kConfirmed, 1)).is_ok());
  ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(id++, "a", "x", RsvpStatus::kWaitlisted, 1)).is_ok());
  ASSERT_TRUE(txn->commit().is_ok());
}

TEST(StoreTest, ConfirmedInConfirmOrderWithCursor) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  fill_activity(*store);
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  Result<Page<RsvpRecord>> all = read->confirmed_of_activity("ab", 0, 100);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  EXPECT_EQ(rsvp_ids(all.value()), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_FALSE(all->next_cursor.has_value());

  Result<Page<RsvpRecord>> first = read->confirmed_of_activity("ab", 0, 2);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(rsvp_ids(first.value()), (std::vector<uint64_t>{1, 2}));
  ASSERT_EQ(first->next_cursor, 2u);
  Result<Page<RsvpRecord>> second = read->confirmed_of_activity("ab", 2, 2);
  EXPECT_EQ(rsvp_ids(second.value()), (std::vector<uint64_t>{3, 4}));
  ASSERT_EQ(second->next_cursor, 256u);
  Result<Page<RsvpRecord>> third = read->confirmed_of_activity("ab", 256, 2);
  EXPECT_EQ(rsvp_ids(third.value()), (std::vector<uint64_t>{5}));
  EXPECT_FALSE(third->next_cursor.has_value());
  // An exact fit has no next page either.
  EXPECT_FALSE(read->confirmed_of_activity("ab", 0, 5)->next_cursor.has_value());
  EXPECT_TRUE(read->confirmed_of_activity("ab", UINT64_MAX, 5)->items.empty());
  EXPECT_TRUE(read->confirmed_of_activity("none", 0, 5)->items.empty());
  EXPECT_EQ(rsvp_ids(read->confirmed_of_activity("abc", 0, 5).value()),
            (std::vector<uint64_t>{10}));
}

TEST(StoreTest, WaitingInTicketOrderWithCursor) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  fill_activity(*store);
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  // Tickets 3, 9, 10, 2^33 belong to rsvps 7, 9, 8, 6.
  Result<Page<RsvpRecord>> all = read->waiting_of_activity("ab", 0, 100);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(rsvp_ids(all.value()), (std::vector<uint64_t>{7, 9, 8, 6}));
  Result<Page<RsvpRecord>> head = read->waiting_of_activity("ab", 0, 1);
  EXPECT_EQ(rsvp_ids(head.value()), (std::vector<uint64_t>{7}));
  EXPECT_EQ(head->next_cursor, 3u);
  Result<Page<RsvpRecord>> rest = read->waiting_of_activity("ab", 9, 10);
  EXPECT_EQ(rsvp_ids(rest.value()), (std::vector<uint64_t>{8, 6}));
  EXPECT_EQ(rsvp_ids(read->waiting_of_activity("a", 0, 10).value()),
            (std::vector<uint64_t>{11}));
}

TEST(StoreTest, PromotionMovesAnRsvpBetweenIndexes) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  fill_activity(*store);
  Result<WriteTxn> txn = store->begin_write();
  ASSERT_TRUE(txn.is_ok());
  RsvpRecord head = txn->waiting_of_activity("ab", 0, 1)->items.at(0);
  ASSERT_TRUE(txn->delete_waiting("ab", head.ticket).is_ok());
  head.status = RsvpStatus::kConfirmed;
  head.confirm_order = 65537;
  ASSERT_TRUE(txn->put_rsvp(head).is_ok());
  ASSERT_TRUE(txn->put_confirmed("ab", head.confirm_order, head.id).is_ok());
  ASSERT_TRUE(txn->commit().is_ok());
  {
    Result<ReadTxn> read = store->begin_read();
    EXPECT_EQ(rsvp_ids(read->waiting_of_activity("ab", 0, 10).value()),
              (std::vector<uint64_t>{9, 8, 6}));
    EXPECT_EQ(rsvp_ids(read->confirmed_of_activity("ab", 0, 10).value()),
              (std::vector<uint64_t>{1, 2, 3, 4, 5, 7}));
  }
  // Cancelling a confirmed one removes it from the confirmed and live indexes only.
  Result<WriteTxn> cancel = store->begin_write();
  ASSERT_TRUE(cancel.is_ok());
  RsvpRecord second = cancel->get_rsvp(2).value();
  ASSERT_TRUE(cancel->delete_confirmed("ab", second.confirm_order).is_ok());
  EXPECT_EQ(cancel->delete_confirmed("ab", second.confirm_order).code(), StatusCode::kNotFound);
  ASSERT_TRUE(cancel->delete_live_rsvp(second.user_id, "ab").is_ok());
  second.status = RsvpStatus::kCancelled;
  ASSERT_TRUE(cancel->put_rsvp(second).is_ok());
  ASSERT_TRUE(cancel->commit().is_ok());
  Result<ReadTxn> read = store->begin_read();
  EXPECT_EQ(rsvp_ids(read->confirmed_of_activity("ab", 0, 10).value()),
            (std::vector<uint64_t>{1, 3, 4, 5, 7}));
  EXPECT_EQ(read->rsvps_of_user(second.user_id, 0, RsvpStatus::kCancelled, 10)->items.at(0).id,
            2u);
}

TEST(StoreTest, IndexThatDisagreesWithRecordIsCorruption) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  Result<WriteTxn> txn = store->begin_write();
  ASSERT_TRUE(txn.is_ok());
  ASSERT_TRUE(txn->put_waiting("act", 5, 42).is_ok());  // No rsvp 42.
  Result<Page<RsvpRecord>> missing = txn->waiting_of_activity("act", 0, 10);
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(txn->put_rsvp(make_rsvp(42, "act", "u", RsvpStatus::kConfirmed, 1)).is_ok());
  Result<Page<RsvpRecord>> wrong_status = txn->waiting_of_activity("act", 0, 10);
  EXPECT_EQ(wrong_status.status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(txn->put_rsvp(make_rsvp(42, "other", "u", RsvpStatus::kWaitlisted, 5)).is_ok());
  EXPECT_EQ(txn->waiting_of_activity("act", 0, 10).status().code(), StatusCode::kCorruption);
  ASSERT_TRUE(txn->put_rsvp(make_rsvp(42, "act", "u", RsvpStatus::kWaitlisted, 5)).is_ok());
  EXPECT_TRUE(txn->waiting_of_activity("act", 0, 10).is_ok());
}

TEST(StoreTest, UserRsvpsNewestFirstWithCursorAndFilter) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    const RsvpStatus statuses[] = {RsvpStatus::kConfirmed, RsvpStatus::kCancelled,
                                   RsvpStatus::kWaitlisted};
    for (uint64_t id = 1; id <= 300; ++id) {
      const std::string user = id % 2 == 0 ? "u" : "u2";  // "u" is a prefix of "u2".
      RsvpRecord record =
          make_rsvp(id, "act" + std::to_string(id), user, statuses[id % 3], id);
      ASSERT_TRUE(put_full_rsvp(txn.value(), record).is_ok());
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  Result<Page<RsvpRecord>> newest = read->rsvps_of_user("u", 0, std::nullopt, 3);
  ASSERT_TRUE(newest.is_ok()) << newest.status().to_string();
  EXPECT_EQ(rsvp_ids(newest.value()), (std::vector<uint64_t>{300, 298, 296}));
  ASSERT_EQ(newest->next_cursor, 296u);
  Result<Page<RsvpRecord>> next = read->rsvps_of_user("u", 296, std::nullopt, 2);
  EXPECT_EQ(rsvp_ids(next.value()), (std::vector<uint64_t>{294, 292}));

  // Walk all of "u" with a filter: every 6th id (even and id % 3 == 1 → cancelled).
  std::vector<uint64_t> cancelled;
  std::optional<uint64_t> cursor = 0;
  for (int round = 0; cursor && round < 100; ++round) {
    Result<Page<RsvpRecord>> page = read->rsvps_of_user("u", *cursor, RsvpStatus::kCancelled, 7);
    ASSERT_TRUE(page.is_ok());
    for (const RsvpRecord& record : page->items) {
      EXPECT_EQ(record.user_id, "u");
      cancelled.push_back(record.id);
    }
    cursor = page->next_cursor;
  }
  EXPECT_FALSE(cursor.has_value());
  std::vector<uint64_t> expected;
  for (uint64_t id = 300; id >= 1; --id) {
    if (id % 2 == 0 && id % 3 == 1) expected.push_back(id);
  }
  EXPECT_EQ(cancelled, expected);
  EXPECT_EQ(read->rsvps_of_user("u2", 0, std::nullopt, 1)->items.at(0).id, 299u);
  EXPECT_TRUE(read->rsvps_of_user("u", 2, std::nullopt, 10)->items.empty());
  EXPECT_FALSE(read->rsvps_of_user("u", 2, std::nullopt, 10)->next_cursor.has_value());
  EXPECT_TRUE(read->rsvps_of_user("nobody", 0, std::nullopt, 10)->items.empty());
  EXPECT_EQ(read->last_rsvp_id().value(), 300u);
}

// A filter that matches nothing in kScanEntriesMax entries returns an empty page with a cursor
// instead of scanning without bound.
TEST(StoreTest, FilteredUserScanIsBounded) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  const uint64_t cancelled_count = kScanEntriesMax + 5;
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(1, "a", "u", RsvpStatus::kConfirmed, 1)).is_ok());
    for (uint64_t id = 2; id <= cancelled_count + 1; ++id) {
      ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(id, "a", "u", RsvpStatus::kCancelled, 0)).is_ok());
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  Result<Page<RsvpRecord>> first = read->rsvps_of_user("u", 0, RsvpStatus::kConfirmed, 10);
  ASSERT_TRUE(first.is_ok());
  EXPECT_TRUE(first->items.empty());
  ASSERT_TRUE(first->next_cursor.has_value());
  EXPECT_EQ(*first->next_cursor, cancelled_count + 1 - kScanEntriesMax + 1);
  Result<Page<RsvpRecord>> second =
      read->rsvps_of_user("u", *first->next_cursor, RsvpStatus::kConfirmed, 10);
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(rsvp_ids(second.value()), (std::vector<uint64_t>{1}));
  EXPECT_FALSE(second->next_cursor.has_value());
}

TEST(StoreTest, AuditIsGapFreeAndIndexedByActivityAndUser) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    EXPECT_EQ(txn->append_audit(make_audit(2, "a", "")).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(txn->append_audit(make_audit(1, "a", "")).is_ok());
    EXPECT_EQ(txn->append_audit(make_audit(1, "a", "")).code(), StatusCode::kInvalidArgument);
    for (uint64_t seq = 2; seq <= 20; ++seq) {
      const std::string activity = seq % 2 == 0 ? "a" : "ab";
      const std::string user = seq % 3 == 0 ? "" : (seq % 3 == 1 ? "u" : "v");
      ASSERT_TRUE(txn->append_audit(make_audit(seq, activity, user)).is_ok());
    }
    EXPECT_EQ(txn->append_audit(make_audit(22, "a", "u")).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(txn->commit().is_ok());
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->last_audit_seq().value(), 20u);
  Result<Page<AuditRecord>> global = read->audit_after(15, 3);
  ASSERT_TRUE(global.is_ok());
  EXPECT_EQ(audit_seqs(global.value()), (std::vector<uint64_t>{16, 17, 18}));
  EXPECT_EQ(global->next_cursor, 18u);
  EXPECT_EQ(global->items.at(0), make_audit(16, "a", "u"));
  EXPECT_EQ(audit_seqs(read->audit_after(18, 3).value()), (std::vector<uint64_t>{19, 20}));
  EXPECT_FALSE(read->audit_after(18, 3)->next_cursor.has_value());
  EXPECT_TRUE(read->audit_after(UINT64_MAX, 3)->items.empty());

  Result<Page<AuditRecord>> of_a = read->audit_of_activity("a", 0, 4);
  EXPECT_EQ(audit_seqs(of_a.value()), (std::vector<uint64_t>{1, 2, 4, 6}));
  EXPECT_EQ(of_a->next_cursor, 6u);
  EXPECT_EQ(audit_seqs(read->audit_of_activity("ab", 13, 100).value()),
            (std::vector<uint64_t>{15, 17, 19}));
  EXPECT_EQ(audit_seqs(read->audit_of_user("u", 0, 100).value()),
            (std::vector<uint64_t>{4, 7, 10, 13, 16, 19}));
  EXPECT_EQ(audit_seqs(read->audit_of_user("v", 11, 100).value()),
            (std::vector<uint64_t>{14, 17, 20}));
  EXPECT_TRUE(read->audit_of_user("w", 0, 100)->items.empty());
}

TEST(StoreTest, IdempotencyGetPutDelete) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  IdempotencyRecord record;
  record.created_at_ms = 99;
  record.request_fingerprint = R"({"activity_id":"a"})";
  record.rsvp_id = 5;
  record.response_body = "{}";
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(txn->put_idempotency("sub", "key 1", record).is_ok());
    ASSERT_TRUE(txn->commit().is_ok());
  }
  {
    Result<ReadTxn> read = store->begin_read();
    EXPECT_EQ(read->get_idempotency("sub", "key 1").value(), record);
    EXPECT_EQ(read->get_idempotency("sub2", "key 1").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(read->get_idempotency("sub", "key").status().code(), StatusCode::kNotFound);
  }
  Result<WriteTxn> txn = store->begin_write();
  ASSERT_TRUE(txn->delete_idempotency("sub", "key 1").is_ok());
  EXPECT_EQ(txn->delete_idempotency("sub", "key 1").code(), StatusCode::kNotFound);
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(store->begin_read()->get_idempotency("sub", "key 1").status().code(),
            StatusCode::kNotFound);
}

TEST(StoreTest, IdempotencySweepScansInKeyOrder) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    for (const auto& [sub, key] : {std::pair{"b", "k1"}, std::pair{"a", "z"}, std::pair{"a", "k 2"},
                                   std::pair{"ab", "k"}}) {
      IdempotencyRecord record;
      record.created_at_ms = sub[0] * 100 + key[0];
      ASSERT_TRUE(txn->put_idempotency(sub, key, record).is_ok());
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  std::vector<std::string> seen;
  std::string after_sub;
  std::string after_key;
  for (int round = 0; round < 10; ++round) {
    Result<std::vector<IdempotencyEntry>> page = read->idempotency_after(after_sub, after_key, 3);
    ASSERT_TRUE(page.is_ok()) << page.status().to_string();
    for (const IdempotencyEntry& entry : page.value()) {
      seen.push_back(entry.sub + "/" + entry.key);
      EXPECT_EQ(entry.record.created_at_ms, entry.sub[0] * 100 + entry.key[0]);
    }
    if (page->size() < 3) break;
    after_sub = page->back().sub;
    after_key = page->back().key;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a/k 2", "a/z", "ab/k", "b/k1"}));
}

TEST(StoreTest, ReadTxnMovesBetweenThreads) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn->put_activity(make_activity("a")).is_ok());
    ASSERT_TRUE(txn->commit().is_ok());
  }
  Result<ReadTxn> read = store->begin_read();
  ASSERT_TRUE(read.is_ok());
  bool found = false;
  std::thread reader([&] { found = read->get_activity("a").is_ok(); });
  reader.join();
  EXPECT_TRUE(found);
  // Many readers on many threads at once beside a writer.
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 200; ++i) {
        Result<ReadTxn> txn = store->begin_read();
        if (!txn.is_ok() || !txn->get_activity("a").is_ok()) failures.fetch_add(1);
      }
    });
  }
  for (uint64_t id = 1; id <= 50; ++id) {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(txn->put_rsvp(make_rsvp(id, "a", "u", RsvpStatus::kCancelled, 0)).is_ok());
    ASSERT_TRUE(txn->commit().is_ok());
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(StoreTest, ReadTxnSeesASnapshot) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  Result<ReadTxn> before = store->begin_read();
  ASSERT_TRUE(before.is_ok());
  Result<WriteTxn> txn = store->begin_write();
  ASSERT_TRUE(txn->put_activity(make_activity("new")).is_ok());
  ASSERT_TRUE(txn->commit().is_ok());
  EXPECT_EQ(before->get_activity("new").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store->begin_read()->get_activity("new").is_ok());
}

// Rewrites the stored schema version with raw LMDB, as a future or foreign build would.
void write_schema_version(const std::string& dir, std::string_view value) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, kDatabasesMax), 0);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi dbi = 0;
  ASSERT_EQ(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
  MDB_val key{14, const_cast<char*>("schema_version")};
  MDB_val data{value.size(), const_cast<char*>(value.data())};
  ASSERT_EQ(mdb_put(txn, dbi, &key, &data, 0), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
}

TEST(StoreTest, SchemaVersionMismatchIsCorruption) {
  TempDir temp;
  ASSERT_NE(open_store(temp.path()), nullptr);  // Creates version 2, then closes.
  write_schema_version(temp.path(), std::string("\x03\x00\x00\x00", 4));
  StoreOptions options;
  options.data_dir = temp.path();
  Result<std::unique_ptr<Store>> store = Store::open(options);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_NE(store.status().message().find("schema version 3"), std::string::npos)
      << store.status().message();
  EXPECT_EQ(open_read_only(temp.path()).status().code(), StatusCode::kCorruption);

  write_schema_version(temp.path(), "1");  // Malformed (not 4 bytes).
  EXPECT_EQ(Store::open(options).status().code(), StatusCode::kCorruption);
  write_schema_version(temp.path(), std::string("\x02\x00\x00\x00", 4));
  EXPECT_TRUE(Store::open(options).is_ok());
}

// Rewrites a version-2 store in version 1's layout: by_user's three indexes back in their own
// trees with the old keys (user 0 rest), by_user dropped, version 1.
void downgrade_to_v1(const std::string& dir) {
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  ASSERT_EQ(mdb_env_set_maxdbs(env, kDatabasesMax), 0);
  ASSERT_EQ(mdb_env_open(env, dir.c_str(), 0, 0600), 0);
  MDB_txn* txn = nullptr;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  MDB_dbi by_user = 0, rsvps = 0, live = 0, audit = 0;
  ASSERT_EQ(mdb_dbi_open(txn, "by_user", 0, &by_user), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "rsvps_by_user", MDB_CREATE, &rsvps), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "live_rsvp_by_user_activity", MDB_CREATE, &live), 0);
  ASSERT_EQ(mdb_dbi_open(txn, "audit_by_user", MDB_CREATE, &audit), 0);
  MDB_cursor* cursor = nullptr;
  ASSERT_EQ(mdb_cursor_open(txn, by_user, &cursor), 0);
  MDB_val key{}, value{};
  for (int rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == 0;
       rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
    Result<UserIndexKey> parts =
        decode_user_index_key({static_cast<const char*>(key.mv_data), key.mv_size});
    ASSERT_TRUE(parts.is_ok());
    const StoreKey old_key = parts->index == UserIndex::kLive
                                 ? id_id_key(parts->user, parts->rest)
                                 : id_u64_key(parts->user, parts->value);
    MDB_val old{old_key.view().size(), const_cast<char*>(old_key.view().data())};
    const MDB_dbi target = parts->index == UserIndex::kLive    ? live
                           : parts->index == UserIndex::kRsvps ? rsvps
                                                               : audit;
    ASSERT_EQ(mdb_put(txn, target, &old, &value, MDB_NOOVERWRITE), 0);
  }
  mdb_cursor_close(cursor);
  ASSERT_EQ(mdb_drop(txn, by_user, 1), 0);
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);
  write_schema_version(dir, std::string("\x01\x00\x00\x00", 4));
}

bool has_tree(const std::string& dir, const char* name) {
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, kDatabasesMax);
  bool found = false;
  MDB_txn* txn = nullptr;
  if (mdb_env_open(env, dir.c_str(), MDB_RDONLY, 0600) == 0 &&
      mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0) {
    MDB_dbi dbi = 0;
    found = mdb_dbi_open(txn, name, 0, &dbi) == 0;
    mdb_txn_abort(txn);
  }
  mdb_env_close(env);
  return found;
}

TEST(StoreTest, AVersion1StoreIsMigratedByItsFirstWritableOpen) {
  TempDir temp;
  {
    std::unique_ptr<Store> store = open_store(temp.path());
    ASSERT_NE(store, nullptr);
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(txn->put_activity(make_activity("yoga")).is_ok());
    ASSERT_TRUE(txn->put_activity(make_activity("chess")).is_ok());
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(1, "yoga", "u", RsvpStatus::kConfirmed, 1)).is_ok());
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(2, "chess", "u", RsvpStatus::kWaitlisted, 1)).is_ok());
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(3, "yoga", "uv", RsvpStatus::kConfirmed, 2)).is_ok());
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(4, "chess", "uv", RsvpStatus::kCancelled, 0)).is_ok());
    for (uint64_t seq = 1; seq <= 6; ++seq) {
      ASSERT_TRUE(txn->append_audit(make_audit(seq, "yoga", seq % 2 == 0 ? "u" : "uv")).is_ok());
    }
    ASSERT_TRUE(txn->commit().is_ok());
  }
  downgrade_to_v1(temp.path());
  ASSERT_TRUE(has_tree(temp.path(), "rsvps_by_user"));
  ASSERT_FALSE(has_tree(temp.path(), "by_user"));

  // Read-only (rsvpctl beside an old daemon) cannot migrate: it says what to do.
  Result<std::unique_ptr<Store>> read_only = open_read_only(temp.path());
  ASSERT_FALSE(read_only.is_ok());
  EXPECT_EQ(read_only.status().code(), StatusCode::kCorruption);
  EXPECT_NE(read_only.status().message().find("schema version 1"), std::string::npos)
      << read_only.status().message();

  {
    std::unique_ptr<Store> store = open_store(temp.path());
    ASSERT_NE(store, nullptr);
    Result<ReadTxn> read = store->begin_read();
    ASSERT_TRUE(read.is_ok());
    EXPECT_EQ(rsvp_ids(read->rsvps_of_user("u", 0, std::nullopt, 10).value()),
              (std::vector<uint64_t>{2, 1}));
    EXPECT_EQ(rsvp_ids(read->rsvps_of_user("uv", 0, std::nullopt, 10).value()),
              (std::vector<uint64_t>{4, 3}));
    EXPECT_EQ(read->get_live_rsvp("u", "yoga").value(), 1u);
    EXPECT_EQ(read->get_live_rsvp("u", "chess").value(), 2u);
    EXPECT_EQ(read->get_live_rsvp("uv", "yoga").value(), 3u);
    EXPECT_EQ(read->get_live_rsvp("uv", "chess").status().code(), StatusCode::kNotFound);
    EXPECT_EQ(audit_seqs(read->audit_of_user("u", 0, 10).value()), (std::vector<uint64_t>{2, 4, 6}));
    EXPECT_EQ(audit_seqs(read->audit_of_user("uv", 0, 10).value()),
              (std::vector<uint64_t>{1, 3, 5}));
  }
  EXPECT_FALSE(has_tree(temp.path(), "rsvps_by_user"));
  EXPECT_FALSE(has_tree(temp.path(), "live_rsvp_by_user_activity"));
  EXPECT_FALSE(has_tree(temp.path(), "audit_by_user"));
  EXPECT_TRUE(open_read_only(temp.path()).is_ok()) << "now at the current version";
}

TEST(StoreTest, AVersion1StoreWithABadKeyIsNotMigratedAtAll) {
  TempDir temp;
  {
    std::unique_ptr<Store> store = open_store(temp.path());
    ASSERT_NE(store, nullptr);
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn.is_ok());
    ASSERT_TRUE(put_full_rsvp(txn.value(), make_rsvp(1, "yoga", "u", RsvpStatus::kConfirmed, 1)).is_ok());
    ASSERT_TRUE(txn->commit().is_ok());
  }
  downgrade_to_v1(temp.path());
  {  // A key without the separator in the old live index.
    MDB_env* env = nullptr;
    ASSERT_EQ(mdb_env_create(&env), 0);
    ASSERT_EQ(mdb_env_set_maxdbs(env, kDatabasesMax), 0);
    ASSERT_EQ(mdb_env_open(env, temp.path().c_str(), 0, 0600), 0);
    MDB_txn* txn = nullptr;
    ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
    MDB_dbi live = 0;
    ASSERT_EQ(mdb_dbi_open(txn, "live_rsvp_by_user_activity", 0, &live), 0);
    MDB_val key{5, const_cast<char*>("broken")};
    MDB_val value{8, const_cast<char*>("12345678")};
    ASSERT_EQ(mdb_put(txn, live, &key, &value, 0), 0);
    ASSERT_EQ(mdb_txn_commit(txn), 0);
    mdb_env_close(env);
  }
  StoreOptions options;
  options.data_dir = temp.path();
  Result<std::unique_ptr<Store>> store = Store::open(options);
  ASSERT_FALSE(store.is_ok());
  EXPECT_EQ(store.status().code(), StatusCode::kCorruption);
  EXPECT_NE(store.status().message().find("live_rsvp_by_user_activity"), std::string::npos)
      << store.status().message();
  // All or nothing: still version 1 with its old trees, no by_user.
  EXPECT_TRUE(has_tree(temp.path(), "rsvps_by_user"));
  EXPECT_FALSE(has_tree(temp.path(), "by_user"));
}

TEST(StoreTest, SecondOpenOfTheDirIsBusy) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  StoreOptions options;
  options.data_dir = temp.path();
  Result<std::unique_ptr<Store>> second = Store::open(options);
  ASSERT_FALSE(second.is_ok());
  EXPECT_EQ(second.status().code(), StatusCode::kBusy);
  EXPECT_NE(second.status().message().find(temp.path()), std::string::npos);

  // Another process (a second daemon) is refused the same way.
  const std::string complaint = run_in_child([&]() -> std::string {
    Result<std::unique_ptr<Store>> other = Store::open(options);
    if (other.is_ok()) return "second daemon opened a locked data dir";
    if (other.status().code() != StatusCode::kBusy) return other.status().to_string();
    return "";
  });
  EXPECT_EQ(complaint, "");

  // After the holder closes, the dir can be opened again.
  store.reset();
  EXPECT_TRUE(Store::open(options).is_ok());
}

TEST(StoreTest, LockHeldByAChildBlocksTheParent) {
  TempDir temp;
  int ready[2];
  int release[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    StoreOptions options;
    options.data_dir = temp.path();
    Result<std::unique_ptr<Store>> store = Store::open(options);
    const char byte = store.is_ok() ? 'y' : 'n';
    (void)!::write(ready[1], &byte, 1);
    char ignored;
    (void)!::read(release[0], &ignored, 1);
    ::_exit(0);
  }
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ASSERT_EQ(byte, 'y');
  StoreOptions options;
  options.data_dir = temp.path();
  EXPECT_EQ(Store::open(options).status().code(), StatusCode::kBusy);
  ASSERT_EQ(::write(release[1], "x", 1), 1);
  int status = 0;
  ::waitpid(pid, &status, 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);
  EXPECT_TRUE(Store::open(options).is_ok());  // The child's exit released the lock.
}

TEST(StoreTest, ReadOnlyOpenBesideAWriter) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  {
    Result<WriteTxn> txn = store->begin_write();
    ASSERT_TRUE(txn->put_activity(make_activity("seen")).is_ok());
    ASSERT_TRUE(txn->commit().is_ok());
  }
  // A separate process (like rsvpctl): LMDB must not be opened twice in one process.
  const std::string complaint = run_in_child([&]() -> std::string {
    Result<std::unique_ptr<Store>> reader = open_read_only(temp.path());
    if (!reader.is_ok()) return "read-only open: " + reader.status().to_string();
    if (!reader.value()->read_only()) return "not read-only";
    Result<ReadTxn> read = reader.value()->begin_read();
    if (!read.is_ok()) return read.status().to_string();
    if (!read->get_activity("seen").is_ok()) return "committed activity not visible";
    if (reader.value()->begin_write().status().code() != StatusCode::kInvalidArgument) {
      return "read-only store allowed a write txn";
    }
    return "";
  });
  EXPECT_EQ(complaint, "");
  // The writer keeps working.
  Result<WriteTxn> txn = store->begin_write();
  ASSERT_TRUE(txn.is_ok());
  ASSERT_TRUE(txn->put_activity(make_activity("after")).is_ok());
  EXPECT_TRUE(txn->commit().is_ok());
}

TEST(StoreTest, ReadOnlyOpenWithoutStoreIsNotFound) {
  TempDir temp;
  EXPECT_EQ(open_read_only(temp.path()).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(open_read_only(temp.path() + "/missing").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(temp.path() + "/missing"));
}

off_t file_size(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 ? info.st_size : -1;
}

// Puts `count` RSVPs with ids from `first_id` in one txn and commits.
Status write_batch(Store& store, uint64_t first_id, uint64_t count) {
  Result<WriteTxn> txn = store.begin_write();
  if (!txn.is_ok()) return txn.status();
  for (uint64_t id = first_id; id < first_id + count; ++id) {
    RsvpRecord record = make_rsvp(id, "act", "user-" + std::to_string(id), RsvpStatus::kConfirmed, id);
    Status status = put_full_rsvp(txn.value(), record);
    if (!status.is_ok()) return status;
  }
  return txn->commit();
}

TEST(StoreTest, MapFullThenGrowAndRetry) {
  TempDir temp;
  constexpr size_t kSmallMapBytes = 256 * 1024;
  std::unique_ptr<Store> store = open_store(temp.path(), kSmallMapBytes);
  ASSERT_NE(store, nullptr);
  Status full = write_batch(*store, 1, 5000);
  ASSERT_FALSE(full.is_ok());
  EXPECT_EQ(full.code(), StatusCode::kMapFull) << full.to_string();
  {
    Result<ReadTxn> read = store->begin_read();  // Nothing of the failed batch is visible.
    EXPECT_EQ(read->last_rsvp_id().value(), 0u);
    EXPECT_EQ(store->grow_map(16 * kSmallMapBytes).code(), StatusCode::kBusy);  // Txn open.
  }
  ASSERT_TRUE(store->grow_map(64 * kSmallMapBytes).is_ok());
  EXPECT_EQ(store->map_size_bytes(), 64 * kSmallMapBytes);
  Status retried = write_batch(*store, 1, 5000);
  ASSERT_TRUE(retried.is_ok()) << retried.to_string();
  EXPECT_EQ(store->begin_read()->last_rsvp_id().value(), 5000u);
}

// RLIMIT_FSIZE stands in for a full disk without privileges: writes past it fail with EFBIG.
// `room_bytes` is how far above the current file size the limit sits. With room, a write
// straddles the limit and the kernel returns a short count, which LMDB 0.9.24 alone reports as
// EIO (fatal); the store must still report kStorageFull.
std::string storage_full_scenario(const std::string& dir, off_t room_bytes) {
  std::unique_ptr<Store> store = open_store(dir);
  if (!store) return "open failed";
  if (!write_batch(*store, 1, 10).is_ok()) return "first batch failed";
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{};
  ::getrlimit(RLIMIT_FSIZE, &limit);
  const rlimit original = limit;
  limit.rlim_cur = static_cast<rlim_t>(file_size(dir + "/data.mdb") + room_bytes);
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit down failed";
  Status full = write_batch(*store, 11, 3000);
  if (full.code() != StatusCode::kStorageFull) return "commit gave " + full.to_string();
  {
    Result<ReadTxn> read = store->begin_read();
    if (!read.is_ok() || !read->get_rsvp(10).is_ok()) return "reads failed after storage full";
    if (read->last_rsvp_id().value() != 10) return "failed batch is visible";
  }
  if (::setrlimit(RLIMIT_FSIZE, &original) != 0) return "setrlimit up failed";
  Status again = write_batch(*store, 11, 3000);
  if (!again.is_ok()) return "write after raising the limit: " + again.to_string();
  return "";
}

TEST(StoreTest, StorageFullFailsCommitButReadsAndLaterWritesWork) {
  for (const off_t room_bytes : {0, 1000, 4096, 3 * 4096 + 100, 100'000}) {
    TempDir temp;
    const std::string complaint =
        run_in_child([&] { return storage_full_scenario(temp.path(), room_bytes); });
    EXPECT_EQ(complaint, "") << "room above the file: " << room_bytes << " bytes";
  }
}

// A real ENOSPC: the store on a 1 MiB tmpfs in a private mount namespace (needs CAP_SYS_ADMIN;
// skipped without it). A ballast file frees space again when removed.
constexpr const char* kSkipMarker = "SKIP";

std::string disk_full_scenario(const std::string& mount_point) {
  if (::unshare(CLONE_NEWNS) != 0) return kSkipMarker;
  if (::mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return kSkipMarker;
  if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=1m") != 0) return kSkipMarker;
  const std::string ballast = mount_point + "/ballast";
  std::ofstream(ballast) << std::string(256 * 1024, 'b');
  std::unique_ptr<Store> store = open_store(mount_point + "/data");
  if (!store) return "open failed";
  Status full;
  uint64_t next_id = 1;
  for (int batch = 0; batch < 100 && full.is_ok(); ++batch, next_id += 200) {
    full = write_batch(*store, next_id, 200);
  }
  if (full.code() != StatusCode::kStorageFull) return "full disk gave " + full.to_string();
  const uint64_t stored = next_id - 200 - 1;
  {
    Result<ReadTxn> read = store->begin_read();
    if (!read.is_ok() || read->last_rsvp_id().value() != stored) return "reads failed";
  }
  std::filesystem::remove(ballast);
  Status again = write_batch(*store, stored + 1, 200);
  if (!again.is_ok()) return "write after freeing space: " + again.to_string();
  return "";
}

TEST(StoreTest, FullDiskIsStorageFull) {
  TempDir temp;
  const std::string complaint = run_in_child([&] { return disk_full_scenario(temp.path()); });
  if (complaint == kSkipMarker) GTEST_SKIP() << "cannot mount a tmpfs here (needs root)";
  EXPECT_EQ(complaint, "");
}

TEST(StoreTest, DurableCommitCallsFdatasync) {
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  for (int round = 0; round < 3; ++round) {
    const uint64_t before = Store::fdatasync_calls();
    ASSERT_TRUE(write_batch(*store, 1 + round * 10, 10).is_ok());
    const uint64_t syncs = Store::fdatasync_calls() - before;
    // With default flags LMDB syncs the data once; the meta page goes through an O_DSYNC fd.
    EXPECT_EQ(syncs, 1u) << "fdatasync calls in one commit";
  }
  const uint64_t before = Store::fdatasync_calls();
  Result<ReadTxn> read = store->begin_read();
  EXPECT_EQ(Store::fdatasync_calls(), before);  // Reads never sync.
}

// The negative control: with store_nosync the commit must not sync, so the metric (and the
// test above) would notice. Runs in a re-executed copy of this binary so that the failpoint
// list, read once per process, holds store_nosync.
constexpr const char* kChildResultEnv = "RSVPD_STORE_TEST_RESULT";

TEST(StoreNoSyncChild, CommitWithoutSync) {
  const char* result_path = std::getenv(kChildResultEnv);
  if (result_path == nullptr) GTEST_SKIP() << "only runs re-executed by StoreTest.NoSync...";
  TempDir temp;
  std::unique_ptr<Store> store = open_store(temp.path());
  ASSERT_NE(store, nullptr);
  const uint64_t before = Store::fdatasync_calls();
  ASSERT_TRUE(write_batch(*store, 1, 10).is_ok());
  std::ofstream(result_path) << "syncs " << (Store::fdatasync_calls() - before);
}

TEST(StoreTest, NoSyncFailpointSkipsFdatasync) {
  if (!kFailpointsCompiledIn) GTEST_SKIP() << "failpoints are compiled out of this build";
  TempDir temp;
  const std::string result_path = temp.path() + "/result";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::setenv("RSVPD_FAULT", "store_nosync", 1);
    ::setenv(kChildResultEnv, result_path.c_str(), 1);
    char filter[] = "--gtest_filter=StoreNoSyncChild.CommitWithoutSync";
    char self[] = "/proc/self/exe";
    char* argv[] = {self, filter, nullptr};
    ::execv(self, argv);
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  std::ifstream in(result_path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_EQ(text.str(), "syncs 0");
}

}  // namespace
}  // namespace rsvpd
