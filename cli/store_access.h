// Opening the daemon's LMDB store read-only from rsvpctl (Store::open with read_only: no lock,
// safe beside the running daemon), and mapping its errors to exit codes.
#pragma once

#include <memory>
#include <string>

#include "daemon/records.h"
#include "daemon/status.h"
#include "daemon/store.h"

namespace rsvpd::cli {

// nullptr after printing why on stderr; *exit_code is then kExitNotFound or kExitStore.
std::unique_ptr<Store> open_store_read_only(const std::string& data_dir, int* exit_code);

int exit_code_for(const Status& status);

// "2026-12-03T18:23:15.123Z", or the raw number when out of the printable range.
std::string format_time(int64_t unix_ms);

// One audit entry in API.md's shape.
std::string audit_line(const AuditRecord& record);

}  // namespace rsvpd::cli
