// The one place where LMDB return codes and errno values become StatusCodes (DESIGN.md §5: map
// every code explicitly). Internal to daemon/.
#pragma once

#include <string_view>

#include "daemon/status.h"

namespace rsvpd::detail {

// `rc` is an MDB_* code or an errno (LMDB returns both); `what` names the failed operation and
// leads the message, followed by mdb_strerror(rc). REQUIRES: rc != MDB_SUCCESS.
Status status_from_lmdb(int rc, std::string_view what);

// The code alone, for tests and for callers that branch before building a message.
StatusCode status_code_from_lmdb(int rc) noexcept;

}  // namespace rsvpd::detail
