#include "daemon/detail/lmdb_status.h"

#include <lmdb.h>

#include <cassert>
#include <cerrno>
#include <string>

namespace rsvpd::detail {

namespace {

// Codes LMDB defines itself; the remedy for each is in store.h's error list.
StatusCode code_from_mdb_specific(int rc) noexcept {
  switch (rc) {
    case MDB_NOTFOUND: return StatusCode::kNotFound;
    case MDB_KEYEXIST: return StatusCode::kAlreadyExists;
    case MDB_MAP_FULL: return StatusCode::kMapFull;
    case MDB_CORRUPTED:        // Located page was wrong type.
    case MDB_PAGE_NOTFOUND:    // Requested page not found: the file is damaged.
    case MDB_VERSION_MISMATCH: // Environment written by another LMDB version.
    case MDB_INVALID:          // File is not an LMDB file.
    case MDB_INCOMPATIBLE:     // A database was opened with other flags than it was created.
      return StatusCode::kCorruption;
    case MDB_READERS_FULL:     // Reader table full: too many concurrent readers.
    case MDB_TLS_FULL:         // Thread-local slots exhausted.
    case MDB_TXN_FULL:         // Too many dirty pages in one txn: split the batch.
      return StatusCode::kOverloaded;
    case MDB_MAP_RESIZED:      // Another process grew the map while we had txns open.
      return StatusCode::kBusy;
    case MDB_BAD_VALSIZE:      // Key or value size out of range: rejected input.
      return StatusCode::kInvalidArgument;
    case MDB_PANIC:            // A fatal error earlier: the environment must be reopened.
    case MDB_DBS_FULL:
    case MDB_CURSOR_FULL:
    case MDB_PAGE_FULL:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:          // The txn had an error before, or a child txn is active.
    case MDB_BAD_DBI:
      return StatusCode::kIoError;
    default:
      return StatusCode::kIoError;
  }
}

StatusCode code_from_errno(int rc) noexcept {
  switch (rc) {
    case ENOSPC:  // The file system is full.
    case EFBIG:   // RLIMIT_FSIZE or the file system's maximum file size.
    case EDQUOT:  // The user's quota is used up.
      return StatusCode::kStorageFull;
    case EIO: return StatusCode::kIoError;  // Fatal after a commit: never retry an fsync.
    case ENOENT: return StatusCode::kNotFound;
    case EAGAIN: return StatusCode::kBusy;  // A lock is held (EWOULDBLOCK is the same value).
    case EINVAL: return StatusCode::kInvalidArgument;
    case ENOMEM:  // mmap of the map size failed: lower map_size_bytes.
    case EACCES:
    case EPERM:
    case EROFS:
    default:
      return StatusCode::kIoError;
  }
}

}  // namespace

StatusCode status_code_from_lmdb(int rc) noexcept {
  assert(rc != MDB_SUCCESS);
  // LMDB's own codes are negative (MDB_KEYEXIST is -30799 .. MDB_LAST_ERRCODE); errno values
  // are positive.
  if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE) return code_from_mdb_specific(rc);
  return code_from_errno(rc);
}

Status status_from_lmdb(int rc, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += mdb_strerror(rc);
  return Status(status_code_from_lmdb(rc), std::move(message));
}

}  // namespace rsvpd::detail
