// Inbox: the queue through which ResponseSinks on any thread hand responses to one io loop.
#pragma once

#include "http/request_handler.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace rsvpd::http::detail {

struct Completion {
  uint32_t slot = 0;
  uint32_t generation = 0;
  uint64_t sequence = 0;
  HttpResponse response;
};

// Thread safety: push() from any thread; drain() and close() from the owning loop's thread.
// Bound: one completion per dispatched request, and dispatched requests are bounded by
// connections × kPipelineDepthMax, so the queue needs no limit of its own.
class Inbox {
 public:
  // `wake` is called (under the lock, at most once per drain) when the queue becomes non-empty.
  // REQUIRES: `wake` stays callable until close() returns.
  explicit Inbox(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Returns false, dropping the completion, once close() was called.
  bool push(Completion&& completion) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return false;
    const bool was_empty = items_.empty();
    items_.push_back(std::move(completion));
    if (was_empty && !drain_due_) wake_();
    return true;
  }

  // The loop promises to call drain() before it next blocks; until then pushes need no wake.
  // This saves the eventfd write for responses a handler sends while the loop dispatches.
  void begin_batch() {
    std::lock_guard<std::mutex> lock(mutex_);
    drain_due_ = true;
  }

  // Moves every queued completion into `out` (cleared first) and ends a begin_batch().
  void drain(std::vector<Completion>& out) {
    out.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(items_);
    drain_due_ = false;
  }

  // After close() every push is dropped and `wake` is never called again.
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
    items_.clear();
  }

 private:
  std::mutex mutex_;
  std::vector<Completion> items_;
  bool closed_ = false;
  bool drain_due_ = false;  // Between begin_batch() and drain().
  std::function<void()> wake_;
};

// The one place that may build a ResponseSink (its constructor is private).
class SinkAccess {
 public:
  static ResponseSink make(std::shared_ptr<Inbox> inbox, uint32_t slot, uint32_t generation,
                           uint64_t sequence) noexcept {
    return ResponseSink(std::move(inbox), slot, generation, sequence);
  }
};

}  // namespace rsvpd::http::detail
