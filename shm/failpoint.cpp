#include "shm/failpoint.h"

#if defined(RSVPD_FAILPOINTS)
#include <cstdlib>
#include <string>

namespace rsvpd {

namespace {
// Read once: the environment does not change under a running test, and a function-local static
// makes the first read thread-safe.
const std::string& fault_list() {
  static const std::string list = [] {
    const char* value = std::getenv("RSVPD_FAULT");
    return std::string(value == nullptr ? "" : value);
  }();
  return list;
}
}  // namespace

bool failpoint_enabled_slow(std::string_view name) noexcept {
  std::string_view list = fault_list();
  while (!list.empty()) {
    const auto comma = list.find(',');
    const std::string_view item = list.substr(0, comma);
    if (item == name) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace rsvpd
#endif
