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
  kTask,         // `task` runs on the loop's thread (ResponseSink::post); no connection lookup.
};

struct Completion {
  uint32_t slot = 0;
  uint32_t generation = 0;
  uint64_t sequence = 0;
  HttpResponse response;
  CompletionKind kind = CompletionKind::kResponse;
  std::shared_ptr<StreamControl> stream;  // kStreamOpen only.
  std::function<void()> task;             // kTask only.
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
  // The inbox whose loop runs on this thread (set by the loop), so that ResponseSink::post can
  // run a task at once instead of queueing it to itself.
  static Inbox*& current() noexcept {
    thread_local Inbox* running = nullptr;
    return running;
  }

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

  // The loop promises to drain() and end_batch() before it next blocks; until then pushes need
  // no wake.
  // This saves the eventfd write for responses a handler sends while the loop dispatches.
  void begin_batch() {
    std::lock_guard<std::mutex> lock(mutex_);
    drain_due_ = true;
  }

  // Moves every queued completion into `out` (cleared first); false when none was queued.
  // Tasks run from `out` may push again: drain again before end_batch() to answer them in the
  // same loop turn.
  bool drain(std::vector<Completion>& out) {
    out.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    out.swap(items_);
    return !out.empty();
  }

  // Ends a begin_batch(): later pushes wake the loop, and so does what is queued already.
  void end_batch() {
    std::lock_guard<std::mutex> lock(mutex_);
    drain_due_ = false;
    if (!items_.empty() && !closed_) wake_();
  }

  // After close() every push is dropped and `wake` is never called again.
  void close() {
    std::vector<Completion> dropped;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
      dropped.swap(items_);
    }
    // Outside the lock: a dropped task's captures may push (a sink answering 500 as it dies).
    for (Completion& completion : dropped) discard(completion);
  }

 private:
  std::mutex mutex_;
  std::vector<Completion> items_;
  bool closed_ = false;
  bool drain_due_ = false;  // Between begin_batch() and drain().
  std::function<void()> wake_;
};

// Rounds of drain() in one loop turn: tasks queue their responses for the next round, and the
// bound keeps a producer that never pauses from starving the loop's sockets.
inline constexpr int kDrainRoundsMax = 4;

// One loop turn's share of the inbox: runs tasks, hands every other completion to `deliver`, then
// ends the batch. Call on the loop's thread, after begin_batch().
template <typename Deliver>
void drain_turn(Inbox& inbox, std::vector<Completion>& drained, Deliver&& deliver) {
  for (int round = 0; round < kDrainRoundsMax && inbox.drain(drained); ++round) {
    for (Completion& completion : drained) {
      if (completion.kind == CompletionKind::kTask) {
        completion.task();
      } else {
        deliver(completion);
      }
    }
  }
  drained.clear();
  inbox.end_batch();
}

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
