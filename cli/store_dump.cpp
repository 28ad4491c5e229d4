#include "cli/store_dump.h"

#include <lmdb.h>

#include <functional>
#include <memory>

#include "daemon/store.h"
#include "daemon/store_keys.h"

namespace rsvpd::cli {

namespace {

using Visit = std::function<void(std::string_view key, std::string_view value)>;

std::string_view view_of(const MDB_val& value) {
  return {static_cast<const char*>(value.mv_data), value.mv_size};
}

struct EnvCloser {
  void operator()(MDB_env* env) const { mdb_env_close(env); }
};
struct TxnAborter {
  void operator()(MDB_txn* txn) const { mdb_txn_abort(txn); }
};

class DumpReader {
 public:
  DumpReader(MDB_txn* txn, StoreDump& dump, std::vector<Finding>& findings)
      : txn_(txn), dump_(dump), findings_(findings) {}

  // Visits every entry of the named database; false (with *error) on an LMDB error.
  bool scan(const char* name, const Visit& visit, std::string* error) {
    MDB_dbi dbi = 0;
    int rc = mdb_dbi_open(txn_, name, 0, &dbi);
    if (rc == MDB_NOTFOUND) return true;  // An empty store may lack a table.
    if (rc != MDB_SUCCESS) return fail(name, rc, error);
    MDB_cursor* cursor = nullptr;
    rc = mdb_cursor_open(txn_, dbi, &cursor);
    if (rc != MDB_SUCCESS) return fail(name, rc, error);
    MDB_val key{}, value{};
    for (rc = mdb_cursor_get(cursor, &key, &value, MDB_FIRST); rc == MDB_SUCCESS;
         rc = mdb_cursor_get(cursor, &key, &value, MDB_NEXT)) {
      if (++entries_ > kDumpEntriesMax) {
        findings_.push_back({"limit", "more than " + std::to_string(kDumpEntriesMax) +
                                          " entries: verify stopped loading at " + name});
        break;
      }
      visit(view_of(key), view_of(value));
    }
    mdb_cursor_close(cursor);
    if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) return fail(name, rc, error);
    return true;
  }

  void decode_finding(const std::string& table, const std::string& what) {
    findings_.push_back({"decode", table + ": " + what});
  }

  bool load_all(std::string* error);

 private:
  static bool fail(const char* name, int rc, std::string* error) {
    *error = std::string("read ") + name + ": " + mdb_strerror(rc);
    return false;
  }
  void add_id_u64(const char* table, std::string_view key, std::string_view value,
                  bool has_value, std::vector<IdU64Entry>& out) {
    Result<IdU64Key> parts = decode_id_u64_key(key);
    if (!parts.is_ok() || (has_value && value.size() != kU64KeyBytes)) {
      decode_finding(table, "malformed entry");
      return;
    }
    out.push_back({std::string(parts->id), parts->value,
                   has_value ? read_u64_big_endian(value.data()) : 0});
  }

  MDB_txn* txn_;
  StoreDump& dump_;
  std::vector<Finding>& findings_;
  size_t entries_ = 0;
};

bool DumpReader::load_all(std::string* error) {
  auto record_tables = [&] {
    return scan("activities", [&](std::string_view key, std::string_view value) {
      Result<ActivityRecord> record = decode_activity(value);
      if (!record.is_ok() || record->id != key) return decode_finding("activities", std::string(key));
      dump_.activities.emplace(record->id, std::move(record).value());
    }, error) && scan("rsvps", [&](std::string_view key, std::string_view value) {
      Result<uint64_t> id = decode_u64_key(key);
      Result<RsvpRecord> record = decode_rsvp(value);
      if (!id.is_ok() || !record.is_ok() || record->id != id.value()) {
        return decode_finding("rsvps", "bad record");
      }
      dump_.rsvps.emplace(id.value(), std::move(record).value());
    }, error) && scan("audit", [&](std::string_view key, std::string_view value) {
      Result<uint64_t> seq = decode_u64_key(key);
      Result<AuditRecord> record = decode_audit(value);
      if (!seq.is_ok() || !record.is_ok()) return decode_finding("audit", "bad entry");
      dump_.audit.emplace_back(seq.value(), std::move(record).value());
    }, error);
  };
  auto id_u64 = [&](const char* table, bool has_value, std::vector<IdU64Entry>& out) {
    return scan(table, [&](std::string_view key, std::string_view value) {
      add_id_u64(table, key, value, has_value, out);
    }, error);
  };
  // by_user holds three indexes (store_keys.h); each entry goes to its own list, and a decode
  // problem is reported under the index's own name where the tag tells it.
  auto by_user = [&] {
    return scan("by_user", [&](std::string_view key, std::string_view value) {
      Result<UserIndexKey> parts = decode_user_index_key(key);
      if (!parts.is_ok()) return decode_finding("by_user", "malformed key");
      const std::string user(parts->user);
      switch (parts->index) {
        case UserIndex::kLive:
          if (value.size() != kU64KeyBytes) {
            return decode_finding("live_rsvp_by_user_activity", "malformed entry");
          }
          dump_.live_by_user_activity.push_back(
              {user, std::string(parts->rest), read_u64_big_endian(value.data())});
          return;
        case UserIndex::kRsvps:
          if (!value.empty()) return decode_finding("rsvps_by_user", "malformed entry");
          dump_.rsvps_by_user.push_back({user, parts->value, 0});
          return;
        case UserIndex::kAudit:
          if (!value.empty()) return decode_finding("audit_by_user", "malformed entry");
          dump_.audit_by_user.push_back({user, parts->value, 0});
          return;
      }
    }, error);
  };
  return record_tables() && by_user() &&
         id_u64("confirmed_by_activity", true, dump_.confirmed) &&
         id_u64("waiting_by_activity", true, dump_.waiting) &&
         id_u64("audit_by_activity", false, dump_.audit_by_activity);
}

// The tables are read by name, so a store of another layout would read as missing entries:
// refuse it instead. An empty store (no meta yet) reads as empty.
bool check_schema_version(MDB_txn* txn, const std::string& data_dir, std::string* error) {
  MDB_dbi meta = 0;
  int rc = mdb_dbi_open(txn, "meta", 0, &meta);
  if (rc == MDB_NOTFOUND) return true;
  MDB_val key{kSchemaVersionKey.size(), const_cast<char*>(kSchemaVersionKey.data())};
  MDB_val value{};
  if (rc == MDB_SUCCESS) rc = mdb_get(txn, meta, &key, &value);
  if (rc == MDB_NOTFOUND) return true;
  if (rc != MDB_SUCCESS) {
    *error = std::string("read schema version: ") + mdb_strerror(rc);
    return false;
  }
  const std::optional<uint32_t> version = decode_schema_version(view_of(value));
  if (version == kSchemaVersion) return true;
  *error = "store in " + data_dir + " has schema version " +
           (version ? std::to_string(*version) : std::string("(malformed)")) +
           ", this rsvpctl reads version " + std::to_string(kSchemaVersion) +
           (version == 1 ? " (start rsvpd on it once: it upgrades the store)" : "");
  return false;
}

}  // namespace

bool load_store_dump(const std::string& data_dir, StoreDump& dump, std::vector<Finding>& findings,
                     std::string* error) {
  MDB_env* raw_env = nullptr;
  int rc = mdb_env_create(&raw_env);
  if (rc != MDB_SUCCESS) {
    *error = std::string("create environment: ") + mdb_strerror(rc);
    return false;
  }
  std::unique_ptr<MDB_env, EnvCloser> env(raw_env);
  rc = mdb_env_set_maxdbs(env.get(), kDatabasesMax);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env.get(), data_dir.c_str(), MDB_RDONLY, 0600);
  if (rc != MDB_SUCCESS) {
    *error = "open " + data_dir + ": " + mdb_strerror(rc);
    return false;
  }
  MDB_txn* raw_txn = nullptr;
  rc = mdb_txn_begin(env.get(), nullptr, MDB_RDONLY, &raw_txn);
  if (rc != MDB_SUCCESS) {
    *error = std::string("begin read: ") + mdb_strerror(rc);
    return false;
  }
  std::unique_ptr<MDB_txn, TxnAborter> txn(raw_txn);
  if (!check_schema_version(txn.get(), data_dir, error)) return false;
  DumpReader reader(txn.get(), dump, findings);
  return reader.load_all(error);
}

}  // namespace rsvpd::cli
