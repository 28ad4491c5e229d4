// WaitlistRegistry: the waitlist positions of every activity, rebuilt at start and kept by the
// writer after each commit; readers (GET /rsvps/{id}, participants) query it.
//
// Thread safety: all methods lock one mutex; it guards only this in-memory index (never held
// across I/O or the admission path).
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/waitlist_positions.h"

namespace rsvpd {

class WaitlistRegistry {
 public:
  void add(std::string_view activity_id, uint64_t ticket) {
    std::lock_guard lock(mutex_);
    positions_[std::string(activity_id)].add(ticket);
  }
  void remove(std::string_view activity_id, uint64_t ticket) {
    std::lock_guard lock(mutex_);
    auto found = positions_.find(std::string(activity_id));
    if (found != positions_.end() && found->second.contains(ticket)) found->second.remove(ticket);
  }
  // 1-based position, or 0 when the ticket is not waiting.
  uint64_t position(std::string_view activity_id, uint64_t ticket) const {
    std::lock_guard lock(mutex_);
    auto found = positions_.find(std::string(activity_id));
    return found == positions_.end() ? 0 : found->second.position(ticket);
  }
  void forget(std::string_view activity_id) {
    std::lock_guard lock(mutex_);
    positions_.erase(std::string(activity_id));
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, WaitlistPositions> positions_;
};

}  // namespace rsvpd
