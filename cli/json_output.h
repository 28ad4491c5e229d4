// JSON output through picojson (DESIGN.md §4: never pasted strings). One document per line.
#pragma once

#include <picojson.h>

#include <cstdint>
#include <iostream>
#include <string>

#include "shm/snapshot.h"

namespace rsvpd::cli {

inline picojson::value json_u64(uint64_t value) {
  return picojson::value(static_cast<int64_t>(value));
}

inline void print_json(const picojson::value& value) {
  std::cout << value.serialize() << '\n' << std::flush;
}

// The segment snapshot with API.md's field names (as /capacity reports them).
picojson::object snapshot_json(const std::string& id, const shm::ActivitySnapshot& snapshot);

}  // namespace rsvpd::cli
