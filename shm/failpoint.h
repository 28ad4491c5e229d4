// Named failpoints for negative controls (DESIGN.md §1).
//
// A failpoint switches one guard off at run time so that the test which protects the invariant
// behind that guard can be shown to fail. They exist only in the fault-injection build
// (CMake option RSVPD_FAILPOINTS, preset "faults"); in every other build `failpoint_enabled`
// is a constant false and the guarded code compiles exactly as if the failpoint were not there.
//
// Switching on: the environment variable RSVPD_FAULT holds a comma-separated list of names,
// read once per process on first use (so forked children and spawned daemons inherit it).
//
// The names in use, and the test each one must break, are listed in docs/TESTING.md.
#pragma once

#include <string_view>

namespace rsvpd {

#if defined(RSVPD_FAILPOINTS)
// Returns true when `name` is listed in RSVPD_FAULT. Thread-safe; the list is parsed once.
bool failpoint_enabled_slow(std::string_view name) noexcept;
inline bool failpoint_enabled(std::string_view name) noexcept {
  return failpoint_enabled_slow(name);
}
inline constexpr bool kFailpointsCompiledIn = true;
#else
constexpr bool failpoint_enabled(std::string_view) noexcept { return false; }
inline constexpr bool kFailpointsCompiledIn = false;
#endif

}  // namespace rsvpd
