// CommitQueue: the bounded multi-producer, single-consumer queue between io threads and the
// writer thread (DESIGN.md §2 data flow).
//
// A producer first reserves a place (`try_reserve`), before it takes anything in the admission
// word, so that a full queue answers 503 `overloaded` with nothing taken; a reserved place makes
// the later `push` infallible. The ring is Vyukov's bounded queue (a sequence number per cell):
// no lock on the producers' path. The writer blocks in `pop_batch` for the first item, then
// drains what queued up meanwhile (capped): group commit without a timer.
//
// Thread safety: try_reserve / cancel_reservation / push from any thread; pop_batch from the
// single consumer; stop from any thread.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace rsvpd {

template <typename T>
class CommitQueue {
 public:
  static constexpr size_t kCapacityMax = size_t{1} << 20;
  static constexpr int kPushSpinsMax = 1 << 24;  // Only reachable on a broken invariant.

  // REQUIRES: capacity is a power of two in 2..kCapacityMax.
  explicit CommitQueue(size_t capacity)
      : capacity_(capacity), mask_(capacity - 1), cells_(new Cell[capacity]) {
    assert(capacity >= 2 && capacity <= kCapacityMax && (capacity & mask_) == 0);
    for (size_t i = 0; i < capacity; ++i) {
      cells_[i].sequence.store(i, std::memory_order_relaxed);  // Before any sharing.
    }
  }

  size_t capacity() const noexcept { return capacity_; }

  // Returns false when the queue is full or stopped: the caller answers `overloaded` (or
  // `shutdown`) having taken nothing.
  [[nodiscard]] bool try_reserve() noexcept {
    if (stopped_.load(std::memory_order_acquire)) return false;  // Acquire: pairs with stop().
    // Relaxed: the count itself is the only shared fact; the ring orders the items.
    if (reserved_.fetch_add(1, std::memory_order_relaxed) >= capacity_) {
      reserved_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  // Gives back a reservation that will not be pushed (the request failed before the writer).
  void cancel_reservation() noexcept {
    [[maybe_unused]] const size_t before = reserved_.fetch_sub(1, std::memory_order_seq_cst);
    assert(before > 0);
    // After stop() the consumer may be waiting for this very reservation: let it re-check.
    if (stopped_.load(std::memory_order_seq_cst)) wake_consumer();
  }

  // REQUIRES: a reservation taken by this producer and not yet used or cancelled.
  void push(T* item) noexcept {
    assert(item != nullptr);
    // Relaxed: the cell's sequence below orders the hand-over.
    const size_t position = enqueue_position_.fetch_add(1, std::memory_order_relaxed);
    Cell& cell = cells_[position & mask_];
    // The reservation guarantees the consumer has freed this cell (fewer than capacity items
    // are reserved), so this wait is for a consumer store already made, not for space.
    int spins = 0;
    // Acquire: the consumer's release store freed the cell.
    while (cell.sequence.load(std::memory_order_acquire) != position) {
      assert(++spins < kPushSpinsMax && "commit queue cell not freed despite a reservation");
      (void)spins;
    }
    cell.item = item;
    // Release: the item is visible to the consumer that sees this sequence.
    cell.sequence.store(position + 1, std::memory_order_release);
    // Dekker with pop_batch: our publication, then the check of the consumer's sleep flag.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (consumer_sleeping_.load(std::memory_order_relaxed)) wake_consumer();
  }

  // Consumer only. Blocks until at least one item is queued, then moves up to `max_items` items
  // into `out` (appending) in queue order. Returns how many; 0 only after stop(), once the
  // queue is empty and no reserved item is still to come (so no request is left unanswered).
  size_t pop_batch(std::vector<T*>& out, size_t max_items) {
    assert(max_items > 0);
    for (;;) {
      const size_t taken = drain(out, max_items);
      if (taken > 0) return taken;
      const uint32_t signal = wake_signal_.load(std::memory_order_relaxed);
      consumer_sleeping_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);  // Dekker with push() and stop().
      if (has_item()) {
        consumer_sleeping_.store(false, std::memory_order_relaxed);
        continue;
      }
      if (stopped_.load(std::memory_order_relaxed) &&
          reserved_.load(std::memory_order_relaxed) == 0) {
        consumer_sleeping_.store(false, std::memory_order_relaxed);
        return 0;  // Stopped, empty, and nothing reserved is still on its way.
      }
      wake_signal_.wait(signal, std::memory_order_relaxed);
      consumer_sleeping_.store(false, std::memory_order_relaxed);
    }
  }

  // Refuses new reservations and wakes the consumer. Reserved items may still be pushed and
  // will be popped.
  void stop() noexcept {
    stopped_.store(true, std::memory_order_seq_cst);  // seq_cst: part of the Dekker pair.
    wake_consumer();
  }

  // Reserved places not yet popped (for metrics and /readyz).
  size_t reserved() const noexcept { return reserved_.load(std::memory_order_relaxed); }

 private:
  struct alignas(64) Cell {
    std::atomic<size_t> sequence;
    T* item = nullptr;
  };

  void wake_consumer() noexcept {
    wake_signal_.fetch_add(1, std::memory_order_relaxed);  // Ordered by the callers' fences.
    wake_signal_.notify_one();
  }

  bool has_item() const noexcept {
    const Cell& cell = cells_[dequeue_position_ & mask_];
    // Acquire: pairs with push()'s release.
    return cell.sequence.load(std::memory_order_acquire) == dequeue_position_ + 1;
  }

  size_t drain(std::vector<T*>& out, size_t max_items) {
    size_t taken = 0;
    while (taken < max_items && has_item()) {
      Cell& cell = cells_[dequeue_position_ & mask_];
      out.push_back(cell.item);
      // Release: frees the cell for the producer one lap ahead.
      cell.sequence.store(dequeue_position_ + capacity_, std::memory_order_release);
      ++dequeue_position_;
      ++taken;
    }
    if (taken > 0) reserved_.fetch_sub(taken, std::memory_order_relaxed);
    return taken;
  }

  const size_t capacity_;
  const size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(64) std::atomic<size_t> enqueue_position_{0};
  alignas(64) std::atomic<size_t> reserved_{0};
  alignas(64) size_t dequeue_position_ = 0;  // Consumer only.
  alignas(64) std::atomic<bool> consumer_sleeping_{false};
  std::atomic<uint32_t> wake_signal_{0};
  std::atomic<bool> stopped_{false};
};

}  // namespace rsvpd
