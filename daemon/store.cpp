#include "daemon/store.h"

#include <fcntl.h>
#include <lmdb.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <utility>

#include "daemon/detail/full_write.h"
#include "daemon/detail/lmdb_status.h"
#include "daemon/store_keys.h"
#include "shm/failpoint.h"

namespace {

// Every fdatasync of this process. A global by necessity: the interposed libc function below has
// no context to carry a pointer. Only ever incremented.
std::atomic<uint64_t> g_fdatasync_calls{0};

}  // namespace

// Interposes libc's fdatasync for the whole process. LMDB is a shared library and calls
// fdatasync through its PLT, which the dynamic linker resolves to this definition in the
// executable (it is defined in store.cpp so that any program using Store links it). The real
// call is the raw system call, so behaviour (errors included) is unchanged.
extern "C" int fdatasync(int fd) {
  g_fdatasync_calls.fetch_add(1, std::memory_order_relaxed);  // Relaxed: a statistic.
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}

namespace rsvpd {

namespace {

using detail::status_from_lmdb;

constexpr const char* kLockFileName = "rsvpd.lock";
constexpr mode_t kFileMode = 0600;
// open_txns_ holds this while grow_map changes the map: no transaction may begin meanwhile.
constexpr int kResizingMarker = -1;

MDB_val to_val(std::string_view bytes) {
  return MDB_val{bytes.size(), const_cast<char*>(bytes.data())};
}

std::string_view to_view(const MDB_val& val) {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

size_t clamp_limit(size_t limit) {
  assert(limit >= 1 && limit <= kPageItemsMax);
  return std::clamp<size_t>(limit, 1, kPageItemsMax);
}

// A cursor that closes itself (read-only transactions do not close their cursors).
class Cursor {
 public:
  static Result<Cursor> open(MDB_txn* txn, MDB_dbi dbi) {
    MDB_cursor* cursor = nullptr;
    const int rc = mdb_cursor_open(txn, dbi, &cursor);
    if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "open cursor");
    return Cursor(cursor);
  }
  Cursor(Cursor&& other) noexcept : cursor_(std::exchange(other.cursor_, nullptr)) {}
  Cursor& operator=(Cursor&&) = delete;
  ~Cursor() {
    if (cursor_ != nullptr) mdb_cursor_close(cursor_);
  }
  int get(MDB_val* key, MDB_val* value, MDB_cursor_op op) {
    return mdb_cursor_get(cursor_, key, value, op);
  }

 private:
  explicit Cursor(MDB_cursor* cursor) : cursor_(cursor) {}
  MDB_cursor* cursor_;
};

// Looks `key` up. The view points into the map: valid until the txn writes or ends.
Result<std::string_view> get_raw(MDB_txn* txn, MDB_dbi dbi, std::string_view key,
                                 std::string_view what) {
  MDB_val key_val = to_val(key);
  MDB_val value{};
  const int rc = mdb_get(txn, dbi, &key_val, &value);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, what);
  return to_view(value);
}

Status corruption(std::string message) {
  return Status(StatusCode::kCorruption, std::move(message));
}

// The value of an index entry that maps to an rsvp id.
Result<uint64_t> decode_rsvp_id_value(std::string_view value) {
  if (value.size() != kU64KeyBytes) return corruption("index value is not an rsvp id");
  return read_u64_big_endian(value.data());
}

Status create_data_dir(const std::string& data_dir) {
  std::error_code error;
  std::filesystem::create_directories(data_dir, error);
  if (error) return status_from_lmdb(error.value(), "create data dir " + data_dir);
  return Status::ok();
}

}  // namespace

// ----------------------------------------------------------------------------------------------
// Txn: reads.

Txn::Txn(Txn&& other) noexcept
    : store_(std::exchange(other.store_, nullptr)), txn_(std::exchange(other.txn_, nullptr)) {}

Txn::~Txn() { end(); }

void Txn::end() noexcept {
  if (txn_ == nullptr) return;
  mdb_txn_abort(txn_);
  txn_ = nullptr;
  store_->leave_txn();
}

// Visits the entries of `dbi` whose key starts with `prefix`: in key order from the first key
// >= `start` ("" = the first key), or newest first from the last key < `start`.
// `visit(key, value, stop)` returns a non-ok Status to fail the scan or sets `stop`.
template <typename Visit>
Status Txn::scan_index(unsigned dbi, std::string_view prefix, std::string_view start,
                       bool newest_first, Visit&& visit) const {
  assert(txn_ != nullptr);
  Result<Cursor> cursor = Cursor::open(txn_, dbi);
  if (!cursor.is_ok()) return cursor.status();
  MDB_val key = to_val(start);
  MDB_val value{};
  int rc = start.empty() ? cursor->get(&key, &value, MDB_FIRST)
                         : cursor->get(&key, &value, MDB_SET_RANGE);
  if (newest_first) {
    assert(!start.empty());
    if (rc == MDB_NOTFOUND) {
      rc = cursor->get(&key, &value, MDB_LAST);
    } else if (rc == MDB_SUCCESS) {
      rc = cursor->get(&key, &value, MDB_PREV);
    }
  }
  const MDB_cursor_op step = newest_first ? MDB_PREV : MDB_NEXT;
  bool stop = false;
  while (rc == MDB_SUCCESS && to_view(key).starts_with(prefix)) {
    Status status = visit(to_view(key), to_view(value), stop);
    if (!status.is_ok() || stop) return status;
    rc = cursor->get(&key, &value, step);
  }
  if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return status_from_lmdb(rc, "scan");
  return Status::ok();
}

Result<ActivityRecord> Txn::get_activity(std::string_view activity_id) const {
  assert(txn_ != nullptr);
  Result<std::string_view> bytes = get_raw(txn_, store_->databases_.activities,
                                           id_key(activity_id).view(), "get activity");
  if (!bytes.is_ok()) return bytes.status();
  Result<ActivityRecord> record = decode_activity(bytes.value());
  if (record.is_ok() && record->id != activity_id) {
    return corruption("activity record under key " + std::string(activity_id) + " has id " +
                      record->id);
  }
  return record;
}

Result<std::vector<ActivityRecord>> Txn::activities_after(std::string_view after_id,
                                                          size_t limit) const {
  limit = clamp_limit(limit);
  // after_id 0x00 is the smallest key greater than after_id itself.
  const StoreKey start = after_id.empty() ? StoreKey() : id_prefix_key(after_id);
  std::vector<ActivityRecord> records;
  Status status = scan_index(
      store_->databases_.activities, "", start.view(), false,
      [&](std::string_view key, std::string_view value, bool& stop) -> Status {
        Result<ActivityRecord> record = decode_activity(value);
        if (!record.is_ok()) return record.status();
        if (record->id != key) return corruption("activity record under another id");
        records.push_back(std::move(record).value());
        stop = records.size() == limit;
        return Status::ok();
      });
  if (!status.is_ok()) return status;
  return records;
}

Result<RsvpRecord> Txn::get_rsvp(uint64_t rsvp_id) const {
  assert(txn_ != nullptr);
  Result<std::string_view> bytes =
      get_raw(txn_, store_->databases_.rsvps, u64_key(rsvp_id).view(), "get rsvp");
  if (!bytes.is_ok()) return bytes.status();
  Result<RsvpRecord> record = decode_rsvp(bytes.value());
  if (record.is_ok() && record->id != rsvp_id) {
    return corruption("rsvp record under key " + std::to_string(rsvp_id) + " has another id");
  }
  return record;
}

Result<uint64_t> Txn::get_live_rsvp(std::string_view user_id, std::string_view activity_id) const {
  assert(txn_ != nullptr);
  Result<std::string_view> value =
      get_raw(txn_, store_->databases_.by_user, user_live_key(user_id, activity_id).view(),
              "get live rsvp");
  if (!value.is_ok()) return value.status();
  return decode_rsvp_id_value(value.value());
}

// Follows an activity index entry to its record and checks that both agree.
Result<RsvpRecord> Txn::rsvp_from_index(std::string_view value, std::string_view activity_id,
                                        RsvpStatus status, uint64_t order) const {
  Result<uint64_t> rsvp_id = decode_rsvp_id_value(value);
  if (!rsvp_id.is_ok()) return rsvp_id.status();
  Result<RsvpRecord> record = get_rsvp(rsvp_id.value());
  if (!record.is_ok()) {
    if (record.status().code() != StatusCode::kNotFound) return record;
    return corruption("index of activity " + std::string(activity_id) +
                      " names a missing rsvp " + format_rsvp_id(rsvp_id.value()));
  }
  const uint64_t record_order =
      status == RsvpStatus::kConfirmed ? record->confirm_order : record->ticket;
  if (record->activity_id != activity_id || record->status != status || record_order != order) {
    return corruption("index of activity " + std::string(activity_id) + " disagrees with rsvp " +
                      format_rsvp_id(rsvp_id.value()));
  }
  return record;
}

Result<Page<RsvpRecord>> Txn::ordered_of_activity(unsigned dbi, std::string_view activity_id,
                                                  uint64_t after, size_t limit,
                                                  RsvpStatus status) const {
  limit = clamp_limit(limit);
  Page<RsvpRecord> page;
  if (after == UINT64_MAX) return page;
  uint64_t last_order = 0;
  const StoreKey prefix = id_prefix_key(activity_id);
  const StoreKey start = id_u64_key(activity_id, after + 1);
  Status scan = scan_index(
      dbi, prefix.view(), start.view(), false,
      [&](std::string_view key, std::string_view value, bool& stop) -> Status {
        if (page.items.size() == limit) {  // One more exists: the page has a successor.
          page.next_cursor = last_order;
          stop = true;
          return Status::ok();
        }
        Result<IdU64Key> parts = decode_id_u64_key(key);
        if (!parts.is_ok()) return parts.status();
        Result<RsvpRecord> record = rsvp_from_index(value, activity_id, status, parts->value);
        if (!record.is_ok()) return record.status();
        last_order = parts->value;
        page.items.push_back(std::move(record).value());
        return Status::ok();
      });
  if (!scan.is_ok()) return scan;
  return page;
}

Result<Page<RsvpRecord>> Txn::confirmed_of_activity(std::string_view activity_id,
                                                    uint64_t after_confirm_order,
                                                    size_t limit) const {
  return ordered_of_activity(store_->databases_.confirmed_by_activity, activity_id,
                             after_confirm_order, limit, RsvpStatus::kConfirmed);
}

Result<Page<RsvpRecord>> Txn::waiting_of_activity(std::string_view activity_id,
                                                  uint64_t after_ticket, size_t limit) const {
  return ordered_of_activity(store_->databases_.waiting_by_activity, activity_id, after_ticket,
                             limit, RsvpStatus::kWaitlisted);
}

Result<Page<RsvpRecord>> Txn::rsvps_of_user(std::string_view user_id, uint64_t before_rsvp_id,
                                            std::optional<RsvpStatus> status,
                                            size_t limit) const {
  limit = clamp_limit(limit);
  Page<RsvpRecord> page;
  if (before_rsvp_id == 1) return page;  // Ids start at 1: nothing is before it.
  size_t examined = 0;
  uint64_t last_id = 0;
  const StoreKey prefix = user_index_prefix(user_id, UserIndex::kRsvps);
  const StoreKey start = before_rsvp_id == 0
                             ? user_index_end(user_id, UserIndex::kRsvps)
                             : user_u64_key(user_id, UserIndex::kRsvps, before_rsvp_id);
  Status scan = scan_index(
      store_->databases_.by_user, prefix.view(), start.view(), true,
      [&](std::string_view key, std::string_view, bool& stop) -> Status {
        if (page.items.size() == limit || examined == kScanEntriesMax) {
          page.next_cursor = last_id;
          stop = true;
          return Status::ok();
        }
        Result<UserIndexKey> parts = decode_user_index_key(key);
        if (!parts.is_ok()) return parts.status();
        Result<RsvpRecord> record = get_rsvp(parts->value);
        if (!record.is_ok()) return corruption("user index names rsvp " +
                                               std::to_string(parts->value) + ": " +
                                               record.status().to_string());
        if (record->user_id != user_id) return corruption("user index disagrees with rsvp");
        ++examined;
        last_id = parts->value;
        if (!status || record->status == *status) page.items.push_back(std::move(record).value());
        return Status::ok();
      });
  if (!scan.is_ok()) return scan;
  return page;
}

Result<AuditRecord> Txn::get_audit(uint64_t seq) const {
  Result<std::string_view> bytes =
      get_raw(txn_, store_->databases_.audit, u64_key(seq).view(), "get audit entry");
  if (!bytes.is_ok()) return bytes.status();
  Result<AuditRecord> record = decode_audit(bytes.value());
  if (record.is_ok() && record->seq != seq) {
    return corruption("audit entry under key " + std::to_string(seq) + " has another seq");
  }
  return record;
}

// Audit entries through an index whose keys are a prefix built from `id`, then the seq (by
// activity: id 0x00 seq in audit_by_activity; by user: user 0x00 'a' seq in by_user).
Result<Page<AuditRecord>> Txn::audit_of(AuditIndex index, std::string_view id,
                                        uint64_t after_seq, size_t limit) const {
  limit = clamp_limit(limit);
  Page<AuditRecord> page;
  if (after_seq == UINT64_MAX) return page;
  const bool by_activity = index == AuditIndex::kByActivity;
  const unsigned dbi =
      by_activity ? store_->databases_.audit_by_activity : store_->databases_.by_user;
  const StoreKey prefix =
      by_activity ? id_prefix_key(id) : user_index_prefix(id, UserIndex::kAudit);
  const StoreKey start = by_activity ? id_u64_key(id, after_seq + 1)
                                     : user_u64_key(id, UserIndex::kAudit, after_seq + 1);
  Status scan = scan_index(
      dbi, prefix.view(), start.view(), false,
      [&](std::string_view key, std::string_view, bool& stop) -> Status {
        if (page.items.size() == limit) {
          page.next_cursor = page.items.back().seq;
          stop = true;
          return Status::ok();
        }
        if (key.size() != prefix.view().size() + kU64KeyBytes) {
          return corruption("malformed audit index key");
        }
        const uint64_t seq = read_u64_big_endian(key.data() + prefix.view().size());
        Result<AuditRecord> record = get_audit(seq);
        if (!record.is_ok()) {
          return corruption("audit index names a missing or bad entry " + std::to_string(seq));
        }
        if ((by_activity ? record->activity_id : record->user_id) != id) {
          return corruption("audit index disagrees with entry " + std::to_string(seq));
        }
        page.items.push_back(std::move(record).value());
        return Status::ok();
      });
  if (!scan.is_ok()) return scan;
  return page;
}

Result<Page<AuditRecord>> Txn::audit_of_activity(std::string_view activity_id,
                                                 uint64_t after_seq, size_t limit) const {
  return audit_of(AuditIndex::kByActivity, activity_id, after_seq, limit);
}

Result<Page<AuditRecord>> Txn::audit_of_user(std::string_view user_id, uint64_t after_seq,
                                             size_t limit) const {
  return audit_of(AuditIndex::kByUser, user_id, after_seq, limit);
}

Result<Page<AuditRecord>> Txn::audit_after(uint64_t after_seq, size_t limit) const {
  limit = clamp_limit(limit);
  Page<AuditRecord> page;
  if (after_seq == UINT64_MAX) return page;
  const StoreKey start = u64_key(after_seq + 1);
  Status scan = scan_index(
      store_->databases_.audit, "", start.view(), false,
      [&](std::string_view key, std::string_view value, bool& stop) -> Status {
        if (page.items.size() == limit) {
          page.next_cursor = page.items.back().seq;
          stop = true;
          return Status::ok();
        }
        Result<uint64_t> seq = decode_u64_key(key);
        if (!seq.is_ok()) return seq.status();
        Result<AuditRecord> record = decode_audit(value);
        if (!record.is_ok()) return record.status();
        if (record->seq != seq.value()) return corruption("audit entry under another seq");
        page.items.push_back(std::move(record).value());
        return Status::ok();
      });
  if (!scan.is_ok()) return scan;
  return page;
}

Result<uint64_t> Txn::last_u64_key(unsigned dbi) const {
  assert(txn_ != nullptr);
  Result<Cursor> cursor = Cursor::open(txn_, dbi);
  if (!cursor.is_ok()) return cursor.status();
  MDB_val key{};
  MDB_val value{};
  const int rc = cursor->get(&key, &value, MDB_LAST);
  if (rc == MDB_NOTFOUND) return uint64_t{0};
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "find last key");
  return decode_u64_key(to_view(key));
}

Result<uint64_t> Txn::last_audit_seq() const { return last_u64_key(store_->databases_.audit); }

Result<uint64_t> Txn::last_rsvp_id() const { return last_u64_key(store_->databases_.rsvps); }

Result<IdempotencyRecord> Txn::get_idempotency(std::string_view sub, std::string_view key) const {
  assert(txn_ != nullptr);
  Result<std::string_view> bytes = get_raw(txn_, store_->databases_.idempotency,
                                           idempotency_store_key(sub, key).view(),
                                           "get idempotency key");
  if (!bytes.is_ok()) return bytes.status();
  return decode_idempotency(bytes.value());
}

namespace {

// Splits an idempotency store key (sub 0x00 key) and decodes its record.
Result<IdempotencyEntry> decode_idempotency_entry(std::string_view key, std::string_view value) {
  const size_t separator = key.find('\0');
  if (separator == std::string_view::npos || !is_valid_id(key.substr(0, separator)) ||
      !is_valid_idempotency_key(key.substr(separator + 1))) {
    return corruption("malformed idempotency key");
  }
  Result<IdempotencyRecord> record = decode_idempotency(value);
  if (!record.is_ok()) return record.status();
  return IdempotencyEntry{std::string(key.substr(0, separator)),
                          std::string(key.substr(separator + 1)), std::move(record).value()};
}

}  // namespace

Result<std::vector<IdempotencyEntry>> Txn::idempotency_after(std::string_view after_sub,
                                                             std::string_view after_key,
                                                             size_t limit) const {
  limit = clamp_limit(limit);
  const bool from_first = after_sub.empty() && after_key.empty();
  const StoreKey start = from_first ? StoreKey() : idempotency_store_key(after_sub, after_key);
  std::vector<IdempotencyEntry> entries;
  Status status = scan_index(
      store_->databases_.idempotency, "", start.view(), false,
      [&](std::string_view key, std::string_view value, bool& stop) -> Status {
        if (key == start.view()) return Status::ok();  // Strictly after the cursor.
        Result<IdempotencyEntry> entry = decode_idempotency_entry(key, value);
        if (!entry.is_ok()) return entry.status();
        entries.push_back(std::move(entry).value());
        stop = entries.size() == limit;
        return Status::ok();
      });
  if (!status.is_ok()) return status;
  return entries;
}

// ----------------------------------------------------------------------------------------------
// WriteTxn.

WriteTxn::WriteTxn(WriteTxn&& other) noexcept
    : Txn(std::move(other)),
      holds_writer_(std::exchange(other.holds_writer_, false)),
      value_buffer_(std::move(other.value_buffer_)) {}

WriteTxn::~WriteTxn() { abort(); }

void WriteTxn::abort() noexcept {
  end();
  release_writer();
}

void WriteTxn::release_writer() noexcept {
  if (!holds_writer_) return;
  holds_writer_ = false;
  // Release: the next writer's acquire sees this txn ended.
  store_->writer_open_.store(false, std::memory_order_release);
}

Status WriteTxn::commit() {
  assert(txn_ != nullptr);
  if (txn_ == nullptr) return Status(StatusCode::kInvalidArgument, "commit of a finished txn");
  // mdb_txn_commit frees the txn whether it succeeds or not.
  const int rc = mdb_txn_commit(std::exchange(txn_, nullptr));
  store_->leave_txn();
  release_writer();
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "commit");
  return Status::ok();
}

Status WriteTxn::put_raw(unsigned dbi, std::string_view key, std::string_view value,
                         unsigned flags, std::string_view what) {
  assert(txn_ != nullptr);
  if (txn_ == nullptr) return Status(StatusCode::kInvalidArgument, "write to a finished txn");
  MDB_val key_val = to_val(key);
  MDB_val value_val = to_val(value);
  const int rc = mdb_put(txn_, dbi, &key_val, &value_val, flags);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, what);
  return Status::ok();
}

Status WriteTxn::delete_raw(unsigned dbi, std::string_view key, std::string_view what) {
  assert(txn_ != nullptr);
  if (txn_ == nullptr) return Status(StatusCode::kInvalidArgument, "write to a finished txn");
  MDB_val key_val = to_val(key);
  const int rc = mdb_del(txn_, dbi, &key_val, nullptr);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, what);
  return Status::ok();
}

Status WriteTxn::put_rsvp_id_entry(unsigned dbi, std::string_view key, uint64_t rsvp_id,
                                   std::string_view what) {
  char value[kU64KeyBytes];
  write_u64_big_endian(rsvp_id, value);
  return put_raw(dbi, key, std::string_view(value, sizeof value), MDB_NOOVERWRITE, what);
}

Status WriteTxn::put_activity(const ActivityRecord& record) {
  encode_into(record, value_buffer_);
  return put_raw(store_->databases_.activities, id_key(record.id).view(), value_buffer_, 0,
                 "put activity");
}

Status WriteTxn::put_rsvp(const RsvpRecord& record) {
  assert(record.id != 0);
  encode_into(record, value_buffer_);
  return put_raw(store_->databases_.rsvps, u64_key(record.id).view(), value_buffer_, 0,
                 "put rsvp");
}

Status WriteTxn::put_user_rsvp(std::string_view user_id, uint64_t rsvp_id) {
  return put_raw(store_->databases_.by_user,
                 user_u64_key(user_id, UserIndex::kRsvps, rsvp_id).view(), "", MDB_NOOVERWRITE,
                 "put rsvps_by_user");
}

Status WriteTxn::delete_user_rsvp(std::string_view user_id, uint64_t rsvp_id) {
  return delete_raw(store_->databases_.by_user,
                    user_u64_key(user_id, UserIndex::kRsvps, rsvp_id).view(),
                    "delete rsvps_by_user");
}

Status WriteTxn::put_live_rsvp(std::string_view user_id, std::string_view activity_id,
                               uint64_t rsvp_id) {
  return put_rsvp_id_entry(store_->databases_.by_user, user_live_key(user_id, activity_id).view(),
                           rsvp_id, "put live rsvp");
}

Status WriteTxn::delete_live_rsvp(std::string_view user_id, std::string_view activity_id) {
  return delete_raw(store_->databases_.by_user, user_live_key(user_id, activity_id).view(),
                    "delete live rsvp");
}

Status WriteTxn::put_confirmed(std::string_view activity_id, uint64_t confirm_order,
                               uint64_t rsvp_id) {
  assert(confirm_order != 0);
  return put_rsvp_id_entry(store_->databases_.confirmed_by_activity,
                           id_u64_key(activity_id, confirm_order).view(), rsvp_id,
                           "put confirmed_by_activity");
}

Status WriteTxn::delete_confirmed(std::string_view activity_id, uint64_t confirm_order) {
  return delete_raw(store_->databases_.confirmed_by_activity,
                    id_u64_key(activity_id, confirm_order).view(), "delete confirmed_by_activity");
}

Status WriteTxn::put_waiting(std::string_view activity_id, uint64_t ticket, uint64_t rsvp_id) {
  assert(ticket != 0);
  return put_rsvp_id_entry(store_->databases_.waiting_by_activity,
                           id_u64_key(activity_id, ticket).view(), rsvp_id,
                           "put waiting_by_activity");
}

Status WriteTxn::delete_waiting(std::string_view activity_id, uint64_t ticket) {
  return delete_raw(store_->databases_.waiting_by_activity, id_u64_key(activity_id, ticket).view(),
                    "delete waiting_by_activity");
}

Status WriteTxn::append_audit(const AuditRecord& record) {
  Result<uint64_t> last = last_audit_seq();
  if (!last.is_ok()) return last.status();
  if (record.seq != last.value() + 1) {
    return Status(StatusCode::kInvalidArgument, "audit seq " + std::to_string(record.seq) +
                                                    " does not follow " +
                                                    std::to_string(last.value()));
  }
  encode_into(record, value_buffer_);
  // MDB_APPEND: the key is the new last one, which also makes LMDB fill pages completely.
  Status status = put_raw(store_->databases_.audit, u64_key(record.seq).view(), value_buffer_,
                          MDB_APPEND, "put audit");
  if (status.is_ok() && !record.activity_id.empty()) {
    status = put_raw(store_->databases_.audit_by_activity,
                     id_u64_key(record.activity_id, record.seq).view(), "", MDB_NOOVERWRITE,
                     "put audit_by_activity");
  }
  if (status.is_ok() && !record.user_id.empty()) {
    status = put_raw(store_->databases_.by_user,
                     user_u64_key(record.user_id, UserIndex::kAudit, record.seq).view(), "",
                     MDB_NOOVERWRITE, "put audit_by_user");
  }
  return status;
}

Status WriteTxn::put_idempotency(std::string_view sub, std::string_view key,
                                 const IdempotencyRecord& record) {
  encode_into(record, value_buffer_);
  return put_raw(store_->databases_.idempotency, idempotency_store_key(sub, key).view(),
                 value_buffer_, 0, "put idempotency key");
}

Status WriteTxn::delete_idempotency(std::string_view sub, std::string_view key) {
  return delete_raw(store_->databases_.idempotency, idempotency_store_key(sub, key).view(),
                    "delete idempotency key");
}

// ----------------------------------------------------------------------------------------------
// Store.

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
  if (options.data_dir.empty()) return Status(StatusCode::kInvalidArgument, "data_dir is empty");
  if (options.map_size_bytes == 0) {
    return Status(StatusCode::kInvalidArgument, "map_size_bytes is 0");
  }
  std::unique_ptr<Store> store(new Store(options.data_dir, options.read_only));
  if (!options.read_only) {
    Status status = create_data_dir(options.data_dir);
    if (status.is_ok()) status = store->lock_data_dir();
    if (!status.is_ok()) return status;
  }
  Status status = store->open_environment(options.map_size_bytes);
  if (!status.is_ok()) return status;
  Result<int> cleared = store->check_readers();
  if (!cleared.is_ok()) return cleared.status();
  status = store->open_databases();
  if (!status.is_ok()) return status;
  return store;
}

Store::~Store() {
  assert(open_txns_.load(std::memory_order_relaxed) == 0);  // Relaxed: a debug check only.
  // Unregister first: nothing writes now, and after the close the number may be reused.
  if (data_fd_ >= 0) detail::unregister_data_fd(data_fd_);
  if (env_ != nullptr) mdb_env_close(env_);
  // Closing the descriptor releases the flock, after the environment is closed.
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

Status Store::lock_data_dir() {
  const std::string path = data_dir_ + "/" + kLockFileName;
  lock_fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, kFileMode);
  if (lock_fd_ < 0) return status_from_lmdb(errno, "open " + path);
  if (::flock(lock_fd_, LOCK_EX | LOCK_NB) == 0) return Status::ok();
  const int error = errno;
  if (error == EWOULDBLOCK) {
    return Status(StatusCode::kBusy, "data dir " + data_dir_ +
                                         " is in use by another rsvpd process (" + path +
                                         " is locked)");
  }
  return status_from_lmdb(error, "flock " + path);
}

Status Store::open_environment(size_t map_size_bytes) {
  int rc = mdb_env_create(&env_);
  if (rc != MDB_SUCCESS) {
    env_ = nullptr;
    return status_from_lmdb(rc, "create environment");
  }
  rc = mdb_env_set_maxdbs(env_, kDatabasesMax);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_mapsize(env_, map_size_bytes);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "configure environment");
  // Default sync flags: a commit returns after fdatasync (DESIGN.md §4). MDB_NOTLS lets read
  // transactions move between threads.
  unsigned flags = MDB_NOTLS;
  if (read_only_) flags |= MDB_RDONLY;
  // Negative control for the fsyncs-per-commit check only; compiled out of release builds.
  if (failpoint_enabled("store_nosync")) flags |= MDB_NOSYNC;
  rc = mdb_env_open(env_, data_dir_.c_str(), flags, kFileMode);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "open LMDB environment in " + data_dir_);
  // A full disk must read as ENOSPC/EFBIG, not as LMDB's EIO for a short write (full_write.h).
  // The failpoint is the negative control of the storage-full test.
  if (read_only_ || failpoint_enabled("store_short_write_eio")) return Status::ok();
  int data_fd = -1;
  rc = mdb_env_get_fd(env_, &data_fd);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "get data file descriptor");
  if (!detail::register_data_fd(data_fd)) {
    return Status(StatusCode::kOverloaded, "more than " + std::to_string(detail::kDataFdsMax) +
                                               " writable stores in one process");
  }
  data_fd_ = data_fd;
  return Status::ok();
}

Status Store::open_databases() {
  Result<MDB_txn*> txn = begin_txn(read_only_ ? MDB_RDONLY : 0);
  if (!txn.is_ok()) return txn.status();
  const unsigned create = read_only_ ? 0 : MDB_CREATE;
  auto open_table = [&](const char* name, unsigned* dbi) {
    const int rc = mdb_dbi_open(txn.value(), name, create, dbi);
    if (rc == MDB_NOTFOUND) return Status(StatusCode::kNotFound, "no rsvpd store in " + data_dir_);
    if (rc != MDB_SUCCESS) return status_from_lmdb(rc, std::string("open database ") + name);
    return Status::ok();
  };
  // The version first: a version-1 store has no by_user tree yet.
  Status status = open_table("meta", &databases_.meta);
  Result<uint32_t> version = status.is_ok() ? stored_schema_version(txn.value()) : status;
  if (!version.is_ok()) status = version.status();
  if (status.is_ok() && version.value() == 1 && read_only_) {
    status = corruption("store in " + data_dir_ +
                        " has schema version 1: start this rsvpd on it once (it upgrades the "
                        "store to version " + std::to_string(kSchemaVersion) + "), then read it");
  }
  const std::pair<const char*, unsigned*> table[] = {
      {"activities", &databases_.activities},
      {"rsvps", &databases_.rsvps},
      {"by_user", &databases_.by_user},
      {"confirmed_by_activity", &databases_.confirmed_by_activity},
      {"waiting_by_activity", &databases_.waiting_by_activity},
      {"audit", &databases_.audit},
      {"audit_by_activity", &databases_.audit_by_activity},
      {"idempotency", &databases_.idempotency},
  };
  static_assert(std::size(table) + 1 <= kDatabasesMax);
  for (const auto& [name, dbi] : table) {
    if (status.is_ok()) status = open_table(name, dbi);
  }
  if (status.is_ok()) {
    status = version.value() == 1 ? migrate_from_v1(txn.value()) : check_schema(txn.value());
  }
  if (!status.is_ok()) {
    mdb_txn_abort(txn.value());
    leave_txn();
    return status;
  }
  // Committing (read-only txns too) keeps the database handles open for the environment.
  const int rc = mdb_txn_commit(txn.value());
  leave_txn();
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "commit database setup");
  return Status::ok();
}

std::optional<uint32_t> decode_schema_version(std::string_view bytes) noexcept {
  if (bytes.size() != 4) return std::nullopt;
  uint32_t version = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    version |= uint32_t{static_cast<uint8_t>(bytes[i])} << (8 * i);
  }
  return version;
}

Result<uint32_t> Store::stored_schema_version(MDB_txn* txn) {
  Result<std::string_view> stored =
      get_raw(txn, databases_.meta, kSchemaVersionKey, "read schema version");
  if (!stored.is_ok()) {
    if (stored.status().code() == StatusCode::kNotFound) return uint32_t{0};
    return stored.status();
  }
  const std::optional<uint32_t> version = decode_schema_version(stored.value());
  if (!version) {
    return corruption("store in " + data_dir_ + " has schema version (malformed), this build "
                      "reads version " + std::to_string(kSchemaVersion));
  }
  return *version;
}

Status Store::write_schema_version(MDB_txn* txn) {
  char value[4];
  for (size_t i = 0; i < 4; ++i) value[i] = static_cast<char>((kSchemaVersion >> (8 * i)) & 0xff);
  MDB_val key_val = to_val(kSchemaVersionKey);
  MDB_val value_val = to_val(std::string_view(value, sizeof value));
  const int rc = mdb_put(txn, databases_.meta, &key_val, &value_val, 0);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "write schema version");
  return Status::ok();
}

Status Store::check_schema(MDB_txn* txn) {
  Result<uint32_t> version = stored_schema_version(txn);
  if (!version.is_ok()) return version.status();
  if (version.value() == kSchemaVersion) return Status::ok();
  if (version.value() != 0) {
    return corruption("store in " + data_dir_ + " has schema version " +
                      std::to_string(version.value()) + ", this build reads version " +
                      std::to_string(kSchemaVersion));
  }
  if (read_only_) return Status(StatusCode::kNotFound, "no rsvpd store in " + data_dir_);
  MDB_stat stat{};
  const int rc = mdb_stat(txn, databases_.activities, &stat);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "stat activities");
  if (stat.ms_entries != 0) return corruption("store in " + data_dir_ + " has no schema version");
  return write_schema_version(txn);
}

Status Store::migrate_from_v1(MDB_txn* txn) {
  assert(!read_only_);
  // Version 1's trees and their keys: user 0 rsvp_id, user 0 activity → rsvp_id, user 0 seq.
  // One transaction: a crash or an error leaves the store at version 1, untouched.
  const std::pair<const char*, UserIndex> old_trees[] = {
      {"rsvps_by_user", UserIndex::kRsvps},
      {"live_rsvp_by_user_activity", UserIndex::kLive},
      {"audit_by_user", UserIndex::kAudit},
  };
  for (const auto& [name, index] : old_trees) {
    MDB_dbi old = 0;
    int rc = mdb_dbi_open(txn, name, 0, &old);
    if (rc == MDB_NOTFOUND) continue;
    if (rc != MDB_SUCCESS) return status_from_lmdb(rc, std::string("open version-1 ") + name);
    Status moved = move_v1_entries(txn, old, index, name);
    if (!moved.is_ok()) return moved;
    rc = mdb_drop(txn, old, 1);  // 1: delete the tree and close its handle.
    if (rc != MDB_SUCCESS) return status_from_lmdb(rc, std::string("drop version-1 ") + name);
  }
  return write_schema_version(txn);
}

Status Store::move_v1_entries(MDB_txn* txn, unsigned old_dbi, UserIndex index,
                              const char* name) {
  Result<Cursor> cursor = Cursor::open(txn, old_dbi);
  if (!cursor.is_ok()) return cursor.status();
  MDB_val key{};
  MDB_val value{};
  int rc = cursor->get(&key, &value, MDB_FIRST);
  for (; rc == MDB_SUCCESS; rc = cursor->get(&key, &value, MDB_NEXT)) {
    const std::string_view bytes = to_view(key);
    const size_t separator = bytes.find('\0');
    if (separator == std::string_view::npos) {
      return corruption(std::string("malformed version-1 key in ") + name);
    }
    const std::string_view user = bytes.substr(0, separator);
    const std::string_view rest = bytes.substr(separator + 1);
    const bool well_formed =
        is_valid_id(user) &&
        (index == UserIndex::kLive ? is_valid_id(rest) : rest.size() == kU64KeyBytes);
    if (!well_formed) return corruption(std::string("malformed version-1 key in ") + name);
    const StoreKey moved = index == UserIndex::kLive
                               ? user_live_key(user, rest)
                               : user_u64_key(user, index, read_u64_big_endian(rest.data()));
    MDB_val moved_key = to_val(moved.view());
    const int put_rc = mdb_put(txn, databases_.by_user, &moved_key, &value, MDB_NOOVERWRITE);
    if (put_rc != MDB_SUCCESS) return status_from_lmdb(put_rc, std::string("migrate ") + name);
  }
  if (rc != MDB_NOTFOUND) return status_from_lmdb(rc, std::string("read version-1 ") + name);
  return Status::ok();
}

bool Store::enter_txn() noexcept {
  int count = open_txns_.load(std::memory_order_relaxed);  // Relaxed: the CAS below orders.
  do {
    if (count < 0) return false;  // grow_map is changing the map.
    // Acquire: pairs with grow_map's release so a new txn sees the new map size.
  } while (!open_txns_.compare_exchange_weak(count, count + 1, std::memory_order_acquire,
                                             std::memory_order_relaxed));
  return true;
}

void Store::leave_txn() noexcept {
  // Release: the txn's end happens before a grow_map that observes the count reach 0.
  open_txns_.fetch_sub(1, std::memory_order_release);
}

Result<MDB_txn*> Store::begin_txn(unsigned flags) {
  if (!enter_txn()) return Status(StatusCode::kBusy, "the map is being resized");
  MDB_txn* txn = nullptr;
  int rc = mdb_txn_begin(env_, nullptr, flags, &txn);
  if (rc == MDB_MAP_RESIZED) {
    // Another process grew the map; adopt its size when nothing else of ours is open.
    leave_txn();
    Status adopted = grow_map(0);
    if (!adopted.is_ok()) return adopted;
    if (!enter_txn()) return Status(StatusCode::kBusy, "the map is being resized");
    rc = mdb_txn_begin(env_, nullptr, flags, &txn);
  }
  if (rc != MDB_SUCCESS) {
    leave_txn();
    return status_from_lmdb(rc, "begin transaction");
  }
  return txn;
}

Result<ReadTxn> Store::begin_read() {
  Result<MDB_txn*> txn = begin_txn(MDB_RDONLY);
  if (!txn.is_ok()) return txn.status();
  return ReadTxn(this, txn.value());
}

Result<WriteTxn> Store::begin_write() {
  if (read_only_) return Status(StatusCode::kInvalidArgument, "the store is open read-only");
  bool expected = false;
  // Acquire: pairs with release_writer's release.
  if (!writer_open_.compare_exchange_strong(expected, true, std::memory_order_acquire,
                                            std::memory_order_relaxed)) {
    return Status(StatusCode::kBusy, "a write transaction is already open in this process");
  }
  Result<MDB_txn*> txn = begin_txn(0);
  if (!txn.is_ok()) {
    writer_open_.store(false, std::memory_order_release);  // Release: pairs with the CAS above.
    return txn.status();
  }
  return WriteTxn(this, txn.value());
}

Status Store::grow_map(size_t new_size_bytes) {
  int expected = 0;
  // Acquire: every txn that ended (released) before is fully finished with the old map.
  if (!open_txns_.compare_exchange_strong(expected, kResizingMarker, std::memory_order_acquire,
                                          std::memory_order_relaxed)) {
    return Status(StatusCode::kBusy, "grow_map needs every transaction of this process ended");
  }
  const int rc = mdb_env_set_mapsize(env_, new_size_bytes);
  open_txns_.store(0, std::memory_order_release);  // Release: new txns see the new map.
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "grow map");
  return Status::ok();
}

size_t Store::map_size_bytes() const noexcept {
  MDB_envinfo info{};
  if (mdb_env_info(env_, &info) != MDB_SUCCESS) return 0;
  return info.me_mapsize;
}

Result<int> Store::check_readers() {
  int cleared = 0;
  const int rc = mdb_reader_check(env_, &cleared);
  if (rc != MDB_SUCCESS) return status_from_lmdb(rc, "check readers");
  return cleared;
}

uint64_t Store::fdatasync_calls() noexcept {
  return g_fdatasync_calls.load(std::memory_order_relaxed);  // Relaxed: a statistic.
}

}  // namespace rsvpd
