// ClaimTable: lets one request per (user, activity) and one per (sub, idempotency key) proceed
// at a time (DESIGN.md §2 rule 4: duplicates never take seats). A second request for a claimed
// key registers a continuation and runs it with the first one's outcome: the caller then
// answers `already-rsvped`, replays the idempotent 201, or evaluates afresh if the first failed.
//
// Bounded: at most kClaimsMax keys and kWaitersPerClaimMax continuations per key; beyond that the
// caller answers `overloaded`. Sharded by key hash; each shard's lock is held only to look up or
// change its map, never while a continuation runs, and never on the admission CAS path.
//
// Thread safety: every method from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rsvpd {

// What the first request of a key ended with, handed to the requests that waited for it.
struct ClaimOutcome {
  bool succeeded = false;  // A durable RSVP exists now.
  uint64_t rsvp_id = 0;    // When succeeded.
};

class ClaimTable {
 public:
  static constexpr size_t kShards = 64;
  static constexpr size_t kClaimsMax = 1 << 20;
  static constexpr size_t kWaitersPerClaimMax = 1024;
  using Continuation = std::function<void(const ClaimOutcome&)>;

  enum class ClaimResult {
    kClaimed,  // The caller owns the key until release().
    kQueued,   // Another request owns it; `continuation` runs with its outcome.
    kFull,     // Too many claims or waiters: answer `overloaded`; nothing registered.
  };

  // The keys of the two claim kinds. Ids contain no NUL (API.md), so the separator is safe.
  static std::string user_activity_key(std::string_view user_id, std::string_view activity_id);
  static std::string idempotency_key(std::string_view sub, std::string_view key);

  // Claims `key`, or queues `continuation` behind the current owner.
  [[nodiscard]] ClaimResult claim(const std::string& key, Continuation continuation);

  // Owner only: frees the key and runs every queued continuation (on this thread, after the
  // shard lock is released) with `outcome`. REQUIRES: the caller owns `key`.
  void release(const std::string& key, const ClaimOutcome& outcome);

  size_t size() const;

 private:
  struct Shard {
    mutable std::mutex mutex;
    std::unordered_map<std::string, std::vector<Continuation>> waiters_by_key;
  };
  Shard& shard_for(const std::string& key);

  std::array<Shard, kShards> shards_;
  std::atomic<size_t> claims_{0};
};

}  // namespace rsvpd
