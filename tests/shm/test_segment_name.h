// A segment name unique to this test process and call, so parallel ctest runs never collide.
#pragma once

#include <unistd.h>

#include <atomic>
#include <string>

namespace rsvpd::shm::testing {

inline std::string unique_segment_name(const std::string& purpose) {
  static std::atomic<int> counter{0};
  return "rsvpd-test-" + purpose + "-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1, std::memory_order_relaxed));
}

}  // namespace rsvpd::shm::testing
