// Store: the LMDB environment that holds every durable fact of rsvpd (DESIGN.md §1, §2, §4).
//
// One Store per data directory per host: a non-read-only open takes an exclusive flock on
// `<data_dir>/rsvpd.lock`, so a second daemon (or a second open in this process) gets kBusy.
// Read-only opens (rsvpctl, tests) take no lock and may run beside the daemon.
//
// Databases (all plain, no DUPSORT; key layouts in store_keys.h):
//   meta                         "schema_version" → u32 little-endian
//   activities                   id → ActivityRecord
//   rsvps                        rsvp id → RsvpRecord
//   by_user                      three per-user indexes in one tree, a user's entries side by
//                                side (store_keys.h):
//     rsvps_by_user                user 0 'r' rsvp_id → ∅         (creation order)
//     live_rsvp_by_user_activity   user 0 'l' activity → rsvp_id (u64 big-endian); one live per pair
//     audit_by_user                user 0 'a' seq → ∅
//   confirmed_by_activity        activity 0 confirm_order → rsvp_id
//   waiting_by_activity          activity 0 ticket → rsvp_id
//   audit                        seq → AuditRecord
//   audit_by_activity            activity 0 seq → ∅
//   idempotency                  sub 0 key → IdempotencyRecord
//
// Errors (every MDB_* code and errno is mapped explicitly, see detail/lmdb_status.h):
//   kNotFound     the key (or the store, for a read-only open of an empty dir) does not exist.
//   kAlreadyExists a put that must not overwrite found an entry (live RSVP, index keys).
//   kBusy         the data dir is locked by another process; a write txn is already open here.
//   kMapFull      MDB_MAP_FULL: abort the txn, grow_map(), replay the batch.
//   kStorageFull  ENOSPC/EFBIG (disk or file-size limit): writes fail, reads keep working.
//   kOverloaded   a bounded LMDB table (readers, dirty pages of one txn) is full.
//   kIoError      EIO and every other error; EIO from a commit means the fsync failed: the
//                 caller must treat it as fatal and never retry (DESIGN.md §2).
//   kCorruption   stored bytes fail to decode, an index disagrees with its record, the schema
//                 version differs, or LMDB reports a corrupted or incompatible file.
//
// Failpoints (fault-injection build only, shm/failpoint.h), each the negative control of a test:
//   store_nosync           opens the environment with MDB_NOSYNC: commits stop calling fdatasync
//                          (breaks StoreTest.DurableCommitCallsFdatasync).
//   store_short_write_eio  leaves LMDB's short-write-as-EIO behaviour in place (breaks
//                          StoreTest.StorageFullFailsCommitButReadsAndLaterWritesWork and
//                          StoreTest.FullDiskIsStorageFull).
//
// Thread safety: Store methods may be called from any thread. Each transaction object is used
// by one thread at a time (MDB_NOTLS lets it move between threads). Every transaction must end
// before the Store is destroyed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/records.h"
#include "daemon/store_keys.h"
#include "daemon/status.h"

struct MDB_env;
struct MDB_txn;

namespace rsvpd {

// Reserves address space only; the file grows with the data.
inline constexpr size_t kMapSizeBytesDefault = size_t{64} << 30;
// 2: rsvps_by_user, live_rsvp_by_user_activity and audit_by_user moved into one tree, by_user
// (a version-1 store is migrated by the first writable open; see Store::migrate_from_v1).
inline constexpr uint32_t kSchemaVersion = 2;
// The meta key of the version (u32 little-endian).
inline constexpr std::string_view kSchemaVersionKey = "schema_version";
// The stored version's value; nullopt when it is not 4 bytes (malformed).
std::optional<uint32_t> decode_schema_version(std::string_view bytes) noexcept;
inline constexpr unsigned kDatabasesMax = 16;  // Named databases the environment may hold.
// Items one paged read may return, and index entries one filtered read may examine.
inline constexpr size_t kPageItemsMax = 10'000;
inline constexpr size_t kScanEntriesMax = 100'000;
static_assert(kPageItemsMax <= kScanEntriesMax);

struct StoreOptions {
  std::string data_dir;
  size_t map_size_bytes = kMapSizeBytesDefault;
  bool read_only = false;
};

// One page of an ordered read. `next_cursor` is the cursor to pass to get the next page, or
// nullopt when the end was reached. A page may hold fewer than `limit` items (even none) and
// still have a next cursor when a filtered read used up kScanEntriesMax.
template <typename T>
struct Page {
  std::vector<T> items;
  std::optional<uint64_t> next_cursor;
};

struct IdempotencyEntry {
  std::string sub;
  std::string key;
  IdempotencyRecord record;
};

// The LMDB handles of the named databases (MDB_dbi is unsigned int).
struct StoreDatabases {
  unsigned meta = 0;
  unsigned activities = 0;
  unsigned rsvps = 0;
  unsigned by_user = 0;  // rsvps_by_user, live_rsvp_by_user_activity, audit_by_user.
  unsigned confirmed_by_activity = 0;
  unsigned waiting_by_activity = 0;
  unsigned audit = 0;
  unsigned audit_by_activity = 0;
  unsigned idempotency = 0;
};

class Store;

// The reads both transaction kinds offer. Ids passed in REQUIRE is_valid_id (asserted; the HTTP
// layer validates them); `limit` REQUIRES 1..kPageItemsMax. Records returned are copies.
// Cursors are exclusive: a page starts strictly after (or, newest-first, before) the cursor.
class Txn {
 public:
  Txn(const Txn&) = delete;
  Txn& operator=(const Txn&) = delete;

  // kNotFound when absent.
  Result<ActivityRecord> get_activity(std::string_view activity_id) const;
  // Activities in id order strictly after `after_id` ("" = from the first); for recovery. Fewer
  // than `limit` means the end was reached.
  Result<std::vector<ActivityRecord>> activities_after(std::string_view after_id,
                                                       size_t limit) const;
  // kNotFound when absent.
  Result<RsvpRecord> get_rsvp(uint64_t rsvp_id) const;
  // The confirmed or waitlisted RSVP of (user, activity); kNotFound when there is none.
  Result<uint64_t> get_live_rsvp(std::string_view user_id, std::string_view activity_id) const;

  // Confirmed RSVPs of an activity in confirmation order, after `after_confirm_order` (0 = from
  // the first). The cursor is the last item's confirm_order.
  Result<Page<RsvpRecord>> confirmed_of_activity(std::string_view activity_id,
                                                 uint64_t after_confirm_order, size_t limit) const;
  // Waiting RSVPs of an activity in ticket (waitlist) order, after `after_ticket` (0 = head).
  Result<Page<RsvpRecord>> waiting_of_activity(std::string_view activity_id, uint64_t after_ticket,
                                               size_t limit) const;
  // A user's RSVPs newest first (by creation = id order), strictly before `before_rsvp_id`
  // (0 = from the newest), only those with `status` when given. The cursor is an rsvp id.
  Result<Page<RsvpRecord>> rsvps_of_user(std::string_view user_id, uint64_t before_rsvp_id,
                                         std::optional<RsvpStatus> status, size_t limit) const;

  // Audit entries in seq order strictly after `after_seq`: of one activity, of one user (entries
  // whose user_id is that user), or all. The cursor is the last item's seq.
  Result<Page<AuditRecord>> audit_of_activity(std::string_view activity_id, uint64_t after_seq,
                                              size_t limit) const;
  Result<Page<AuditRecord>> audit_of_user(std::string_view user_id, uint64_t after_seq,
                                          size_t limit) const;
  Result<Page<AuditRecord>> audit_after(uint64_t after_seq, size_t limit) const;

  // The highest audit seq / rsvp id stored, 0 when none: the writer's counters start after them.
  Result<uint64_t> last_audit_seq() const;
  Result<uint64_t> last_rsvp_id() const;

  // REQUIRES: is_valid_id(sub), is_valid_idempotency_key(key). kNotFound when absent; expiry is
  // the caller's decision (compare created_at_ms).
  Result<IdempotencyRecord> get_idempotency(std::string_view sub, std::string_view key) const;
  // Idempotency entries in (sub, key) order strictly after (after_sub, after_key); both empty =
  // from the first. For the caller's expiry sweep; fewer than `limit` means the end.
  Result<std::vector<IdempotencyEntry>> idempotency_after(std::string_view after_sub,
                                                          std::string_view after_key,
                                                          size_t limit) const;

 protected:
  Txn(Store* store, MDB_txn* txn) noexcept : store_(store), txn_(txn) {}
  Txn(Txn&& other) noexcept;
  ~Txn();
  // Aborts the LMDB transaction if still open; idempotent.
  void end() noexcept;

  Store* store_;
  MDB_txn* txn_;

 private:
  template <typename Visit>
  Status scan_index(unsigned dbi, std::string_view prefix, std::string_view start,
                    bool newest_first, Visit&& visit) const;
  Result<RsvpRecord> rsvp_from_index(std::string_view value, std::string_view activity_id,
                                     RsvpStatus status, uint64_t order) const;
  Result<Page<RsvpRecord>> ordered_of_activity(unsigned dbi, std::string_view activity_id,
                                               uint64_t after, size_t limit,
                                               RsvpStatus status) const;
  enum class AuditIndex { kByActivity, kByUser };
  Result<Page<AuditRecord>> audit_of(AuditIndex index, std::string_view id, uint64_t after_seq,
                                     size_t limit) const;
  Result<uint64_t> last_u64_key(unsigned dbi) const;
  Result<AuditRecord> get_audit(uint64_t seq) const;
};

// A short read-only snapshot. Must end (destroy it) before the Store does; keep it short, a
// long reader stops LMDB from reusing pages.
class ReadTxn final : public Txn {
 public:
  ReadTxn(ReadTxn&& other) noexcept = default;
  ~ReadTxn() = default;

 private:
  friend class Store;
  ReadTxn(Store* store, MDB_txn* txn) noexcept : Txn(store, txn) {}
};

// The one write transaction of this process. Destroying it without commit() aborts. After any
// failed operation LMDB may refuse further ones: abort and replay.
class WriteTxn final : public Txn {
 public:
  WriteTxn(WriteTxn&& other) noexcept;
  ~WriteTxn();

  // Overwrite an existing record or create it.
  Status put_activity(const ActivityRecord& record);
  Status put_rsvp(const RsvpRecord& record);
  // Index keys. Puts fail with kAlreadyExists when the key exists (never overwrite an index
  // entry: a second live RSVP of a pair, or a reused order key, is a bug the caller must see).
  // Deletes fail with kNotFound when the key is absent.
  Status put_user_rsvp(std::string_view user_id, uint64_t rsvp_id);
  Status delete_user_rsvp(std::string_view user_id, uint64_t rsvp_id);
  Status put_live_rsvp(std::string_view user_id, std::string_view activity_id, uint64_t rsvp_id);
  Status delete_live_rsvp(std::string_view user_id, std::string_view activity_id);
  Status put_confirmed(std::string_view activity_id, uint64_t confirm_order, uint64_t rsvp_id);
  Status delete_confirmed(std::string_view activity_id, uint64_t confirm_order);
  Status put_waiting(std::string_view activity_id, uint64_t ticket, uint64_t rsvp_id);
  Status delete_waiting(std::string_view activity_id, uint64_t ticket);
  // Writes the entry and its activity and user index keys (no user key when user_id is empty).
  // REQUIRES: record.seq == last_audit_seq() + 1 (audit seq is gap-free, DESIGN.md §1.5);
  // otherwise kInvalidArgument and nothing is written.
  Status append_audit(const AuditRecord& record);
  Status put_idempotency(std::string_view sub, std::string_view key,
                         const IdempotencyRecord& record);
  Status delete_idempotency(std::string_view sub, std::string_view key);

  // Commits durably (one fdatasync with default flags). Success means the change survives a
  // crash. On any error nothing of the txn is stored. The txn is finished either way.
  Status commit();
  // Drops every change. Idempotent.
  void abort() noexcept;

 private:
  friend class Store;
  WriteTxn(Store* store, MDB_txn* txn) noexcept : Txn(store, txn), holds_writer_(true) {}
  Status put_raw(unsigned dbi, std::string_view key, std::string_view value, unsigned flags,
                 std::string_view what);
  Status delete_raw(unsigned dbi, std::string_view key, std::string_view what);
  Status put_rsvp_id_entry(unsigned dbi, std::string_view key, uint64_t rsvp_id,
                           std::string_view what);
  void release_writer() noexcept;

  bool holds_writer_ = false;  // False once moved from or released.
  std::string value_buffer_;   // Reused for encoding records.
};

class Store {
 public:
  // Opens (creating when not read_only) the store in options.data_dir.
  // Errors: kBusy when another process (or this one) holds the data dir; kCorruption on a
  // schema version mismatch; kNotFound for a read-only open where no store exists;
  // kInvalidArgument for an empty data_dir or a zero map size; kIoError otherwise.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options);
  // REQUIRES: every transaction of this store ended.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Result<ReadTxn> begin_read();
  // Errors: kBusy when this process already has a write txn open (one writer, DESIGN.md §2);
  // kInvalidArgument on a read-only store.
  Result<WriteTxn> begin_write();

  // Grows (or shrinks, never below the data) the map. REQUIRES: no open txn in this process;
  // otherwise kBusy and nothing changes.
  Status grow_map(size_t new_size_bytes);
  size_t map_size_bytes() const noexcept;
  // Clears reader slots left by dead processes (mdb_reader_check); returns how many.
  Result<int> check_readers();

  const std::string& data_dir() const noexcept { return data_dir_; }
  bool read_only() const noexcept { return read_only_; }

  // fdatasync calls made by this process since it started (LMDB's included): the "fsyncs per
  // commit" metric. Thread-safe.
  static uint64_t fdatasync_calls() noexcept;

 private:
  friend class Txn;
  friend class WriteTxn;
  Store(std::string data_dir, bool read_only) : data_dir_(std::move(data_dir)),
                                                read_only_(read_only) {}
  Status lock_data_dir();
  Status open_environment(size_t map_size_bytes);
  Status open_databases();
  Status check_schema(MDB_txn* txn);
  // The stored version; 0 when the store has none yet (a new store).
  Result<uint32_t> stored_schema_version(MDB_txn* txn);
  Status write_schema_version(MDB_txn* txn);
  // Moves version 1's three per-user trees into by_user and drops them, in the open's txn.
  Status migrate_from_v1(MDB_txn* txn);
  Status move_v1_entries(MDB_txn* txn, unsigned old_dbi, UserIndex index, const char* name);
  Result<MDB_txn*> begin_txn(unsigned flags);
  // Counts a txn in; false while grow_map changes the map.
  bool enter_txn() noexcept;
  void leave_txn() noexcept;

  std::string data_dir_;
  bool read_only_;
  int lock_fd_ = -1;
  int data_fd_ = -1;  // LMDB's data file, registered with detail/full_write.h; -1 if none.
  MDB_env* env_ = nullptr;
  StoreDatabases databases_;
  // Open transactions of this Store (grow_map needs none); relaxed: a count, not a guard of data.
  std::atomic<int> open_txns_{0};
  // One write txn at a time; acquire/release so a second writer sees the first one's end.
  std::atomic<bool> writer_open_{false};
};

}  // namespace rsvpd
