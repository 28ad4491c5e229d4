#include "cli/store_access.h"

#include <iostream>

#include "cli/exit_codes.h"
#include "http/time_format.h"

namespace rsvpd::cli {

int exit_code_for(const Status& status) {
  return status.code() == StatusCode::kNotFound ? kExitNotFound : kExitStore;
}

std::unique_ptr<Store> open_store_read_only(const std::string& data_dir, int* exit_code) {
  StoreOptions options;
  options.data_dir = data_dir;
  options.read_only = true;
  Result<std::unique_ptr<Store>> store = Store::open(options);
  if (store.is_ok()) return std::move(store).value();
  std::cerr << "rsvpctl: cannot open the store in " << data_dir << ": "
            << store.status().to_string() << '\n';
  *exit_code = exit_code_for(store.status());
  return nullptr;
}

std::string format_time(int64_t unix_ms) {
  if (unix_ms < http::kTimeMsMin || unix_ms > http::kTimeMsMax) return std::to_string(unix_ms);
  return http::format_time_ms(unix_ms);
}

std::string audit_line(const AuditRecord& r) {
  std::string line = std::to_string(r.seq) + "  " + format_time(r.at_ms) + "  " +
                     std::string(audit_op_name(r.op)) + "  activity=" + r.activity_id +
                     "  actor=" + r.actor;
  if (r.rsvp_id != 0) line += "  rsvp=" + format_rsvp_id(r.rsvp_id);
  if (!r.user_id.empty()) line += "  user=" + r.user_id;
  if (!r.from_status.empty() || !r.to_status.empty()) {
    line += "  " + (r.from_status.empty() ? std::string("-") : r.from_status) + "->" +
            r.to_status;
  }
  if (r.party_size != 0) line += "  party=" + std::to_string(r.party_size);
  return line;
}

}  // namespace rsvpd::cli
