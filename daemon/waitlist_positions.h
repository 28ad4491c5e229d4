// WaitlistPositions: the order-statistics structure behind `waitlist_position` (DESIGN.md §2):
// a Fenwick tree over one activity's tickets, so a position is a prefix count in O(log n)
// instead of counting the waitlist. Tickets are the writer's per-activity counter (1, 2, ...),
// so the tree is dense; it grows by doubling.
//
// Thread safety: none; the owner serializes (the writer updates after each commit, readers
// query under the owner's lock).
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rsvpd {

class WaitlistPositions {
 public:
  // Tickets beyond this are refused (assert): 2^32 waitlist joins on one activity.
  static constexpr uint64_t kTicketMax = uint64_t{1} << 32;

  // REQUIRES: 1 <= ticket <= kTicketMax and the ticket is not present.
  void add(uint64_t ticket) {
    assert(ticket >= 1 && ticket <= kTicketMax);
    assert(!contains(ticket));
    grow_to(ticket);
    present_[ticket] = 1;
    update(ticket, +1);
    ++size_;
  }

  // REQUIRES: the ticket is present.
  void remove(uint64_t ticket) {
    assert(contains(ticket));
    present_[ticket] = 0;
    update(ticket, -1);
    --size_;
  }

  bool contains(uint64_t ticket) const noexcept {
    return ticket >= 1 && ticket < present_.size() && present_[ticket] != 0;
  }

  // 1-based position among the waiting tickets, or 0 when the ticket is not waiting.
  uint64_t position(uint64_t ticket) const noexcept {
    if (!contains(ticket)) return 0;
    return prefix_count(ticket);
  }

  uint64_t size() const noexcept { return size_; }

 private:
  void grow_to(uint64_t ticket) {
    if (ticket < tree_.size()) return;
    std::size_t capacity = tree_.empty() ? 64 : tree_.size();
    while (capacity <= ticket) capacity *= 2;
    // Rebuild in O(n): a Fenwick tree cannot simply be extended.
    present_.resize(capacity, 0);
    tree_.assign(capacity, 0);
    for (std::size_t i = 1; i < capacity; ++i) {
      tree_[i] += present_[i];
      const std::size_t parent = i + (i & (~i + 1));
      if (parent < capacity) tree_[parent] += tree_[i];
    }
  }

  void update(uint64_t ticket, int64_t delta) {
    for (std::size_t i = ticket; i < tree_.size(); i += i & (~i + 1)) tree_[i] += delta;
  }

  uint64_t prefix_count(uint64_t ticket) const noexcept {
    int64_t count = 0;
    for (std::size_t i = ticket; i > 0; i -= i & (~i + 1)) count += tree_[i];
    assert(count >= 0);
    return static_cast<uint64_t>(count);
  }

  std::vector<int64_t> tree_;     // 1-based Fenwick tree of presence counts.
  std::vector<uint8_t> present_;  // 1-based presence flags.
  uint64_t size_ = 0;
};

}  // namespace rsvpd
