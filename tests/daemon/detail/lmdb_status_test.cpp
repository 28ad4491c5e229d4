#include "daemon/detail/lmdb_status.h"

#include <gtest/gtest.h>
#include <lmdb.h>

#include <cerrno>
#include <string>

namespace rsvpd::detail {
namespace {

TEST(LmdbStatusTest, EveryCodeMapsExplicitly) {
  EXPECT_EQ(status_code_from_lmdb(MDB_MAP_FULL), StatusCode::kMapFull);
  EXPECT_EQ(status_code_from_lmdb(ENOSPC), StatusCode::kStorageFull);
  EXPECT_EQ(status_code_from_lmdb(EFBIG), StatusCode::kStorageFull);
  EXPECT_EQ(status_code_from_lmdb(EDQUOT), StatusCode::kStorageFull);
  EXPECT_EQ(status_code_from_lmdb(EIO), StatusCode::kIoError);
  EXPECT_EQ(status_code_from_lmdb(MDB_NOTFOUND), StatusCode::kNotFound);
  EXPECT_EQ(status_code_from_lmdb(MDB_KEYEXIST), StatusCode::kAlreadyExists);
  for (const int rc : {MDB_CORRUPTED, MDB_PAGE_NOTFOUND, MDB_VERSION_MISMATCH, MDB_INVALID,
                       MDB_INCOMPATIBLE}) {
    EXPECT_EQ(status_code_from_lmdb(rc), StatusCode::kCorruption) << rc;
  }
  for (const int rc : {MDB_READERS_FULL, MDB_TLS_FULL, MDB_TXN_FULL}) {
    EXPECT_EQ(status_code_from_lmdb(rc), StatusCode::kOverloaded) << rc;
  }
  for (const int rc : {MDB_PANIC, MDB_DBS_FULL, MDB_CURSOR_FULL, MDB_PAGE_FULL, MDB_BAD_RSLOT,
                       MDB_BAD_TXN, MDB_BAD_DBI, EACCES, EROFS, ENOMEM, EBADF}) {
    EXPECT_EQ(status_code_from_lmdb(rc), StatusCode::kIoError) << rc;
  }
  EXPECT_EQ(status_code_from_lmdb(MDB_MAP_RESIZED), StatusCode::kBusy);
  EXPECT_EQ(status_code_from_lmdb(EAGAIN), StatusCode::kBusy);
  EXPECT_EQ(status_code_from_lmdb(MDB_BAD_VALSIZE), StatusCode::kInvalidArgument);
  EXPECT_EQ(status_code_from_lmdb(ENOENT), StatusCode::kNotFound);
  const Status status = status_from_lmdb(EIO, "commit");
  EXPECT_EQ(status.message().rfind("commit: ", 0), 0u);
  EXPECT_NE(status.message().find("Input/output error"), std::string::npos) << status.message();
  EXPECT_NE(status_from_lmdb(MDB_MAP_FULL, "put").message().find("MDB_MAP_FULL"),
            std::string::npos);
}

}  // namespace
}  // namespace rsvpd::detail
