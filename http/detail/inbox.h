// Inbox: the queue through which ResponseSinks on any thread hand responses to one io loop.
#pragma once

#include "http/request_handler.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace rsvpd::http::detail {

enum class CompletionKind {
  kResponse,     // `response` answers request `sequence`.
  kStreamOpen,   // `response` is the head of a streamed answer to `sequence`; `stream` is set.
  kStreamBytes,  // `response.body` continues the stream of `sequence`.
  kStreamClose,  // The stream of `sequence` ends; the connection closes after it.
};

struct Completion {
  uint32_t slot = 0;
  uint32_t generation = 0;
  uint64_t sequence = 0;
  HttpResponse response;
  CompletionKind kind = CompletionKind::kResponse;
  std::shared_ptr<StreamControl> stream;  // kStreamOpen only.
};

inline Completion make_completion(uint32_t slot, uint32_t generation, uint64_t sequence,
                                  CompletionKind kind) {
  Completion completion;
  completion.slot = slot;
  completion.generation = generation;
  completion.sequence = sequence;
  completion.kind = kind;
  return completion;
}

// A completion whose connection is gone: tell its stream's producer to stop.
inline void discard(Completion& completion) noexcept {
  // Release: pairs with StreamWriter::peer_gone's acquire.
  if (completion.stream) completion.stream->gone.store(true, std::memory_order_release);
}

// Thread safety: push() from any thread; drain() and close() from the owning loop's thread.
// Bound: one completion per dispatched request, and dispatched requests are bounded by
// connections × kPipelineDepthMax; stream bytes are bounded by their producer, which watches
// StreamControl::unwritten_bytes (the event hub's per-client cap).
class Inbox {
 public:
  // `wake` is called (under the lock, at most once per drain) when the queue becomes non-empty.
  // REQUIRES: `wake` stays callable until close() returns.
  explicit Inbox(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Returns false, dropping the completion, once close() was called.
  bool push(Completion&& completion) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) {
      discard(completion);
      return false;
    }
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
    for (Completion& completion : items_) discard(completion);
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
  static StreamWriter make_stream(std::shared_ptr<Inbox> inbox, uint32_t slot, uint32_t generation,
                                  uint64_t sequence,
                                  std::shared_ptr<StreamControl> control) noexcept {
    return StreamWriter(std::move(inbox), slot, generation, sequence, std::move(control));
  }
};

}  // namespace rsvpd::http::detail
