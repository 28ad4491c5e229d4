// ConnectionTable: a loop's connections, addressed by (slot, generation).
//
// A slot is reused only after its connection was released, and every release bumps the slot's
// generation, so an address held by a stale completion or a late ResponseSink no longer matches.
#pragma once

#include <cassert>
#include <cstdint>
#include <memory>
#include <vector>

namespace rsvpd::http::detail {

// Generations are carried in 24 bits of io_uring user_data.
inline constexpr uint32_t kGenerationMask = 0xFFFFFF;

// Thread safety: none; owned by one loop. Connection must have `uint32_t generation` and
// `bool live` members and be default-constructible.
template <typename Connection>
class ConnectionTable {
 public:
  // Returns the slot of a fresh live connection. May allocate (only when the table grows).
  uint32_t acquire() {
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.push_back(std::make_unique<Connection>());
    }
    assert(!slots_[slot]->live);
    slots_[slot]->live = true;
    ++live_count_;
    return slot;
  }

  // REQUIRES: the connection at `slot` is live and nothing refers to it any more.
  void release(uint32_t slot) {
    Connection& connection = *slots_[slot];
    assert(connection.live);
    connection.live = false;
    connection.generation = (connection.generation + 1) & kGenerationMask;
    free_.push_back(slot);
    --live_count_;
  }

  // The live connection at (slot, generation), or nullptr when it was released since.
  Connection* find(uint32_t slot, uint32_t generation) noexcept {
    if (slot >= slots_.size()) return nullptr;
    Connection* connection = slots_[slot].get();
    if (!connection->live || connection->generation != generation) return nullptr;
    return connection;
  }

  Connection& at(uint32_t slot) noexcept { return *slots_[slot]; }
  uint32_t capacity() const noexcept { return static_cast<uint32_t>(slots_.size()); }
  uint32_t live_count() const noexcept { return live_count_; }

  template <typename Visit>
  void for_each_live(Visit&& visit) {
    for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
      if (slots_[slot]->live) visit(slot, *slots_[slot]);
    }
  }

 private:
  std::vector<std::unique_ptr<Connection>> slots_;
  std::vector<uint32_t> free_;
  uint32_t live_count_ = 0;
};

}  // namespace rsvpd::http::detail
