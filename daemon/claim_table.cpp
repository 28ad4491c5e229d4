#include "daemon/claim_table.h"

#include <cassert>

namespace rsvpd {

std::string ClaimTable::user_activity_key(std::string_view user_id, std::string_view activity_id) {
  std::string key;
  key.reserve(2 + user_id.size() + 1 + activity_id.size());
  key.append("u", 1).push_back('\0');
  key.append(user_id).push_back('\0');
  key.append(activity_id);
  return key;
}

std::string ClaimTable::idempotency_key(std::string_view sub, std::string_view key) {
  std::string result;
  result.reserve(2 + sub.size() + 1 + key.size());
  result.append("k", 1).push_back('\0');
  result.append(sub).push_back('\0');
  result.append(key);
  return result;
}

ClaimTable::Shard& ClaimTable::shard_for(const std::string& key) {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

ClaimTable::ClaimResult ClaimTable::claim(const std::string& key, Continuation continuation) {
  Shard& shard = shard_for(key);
  std::lock_guard lock(shard.mutex);
  auto found = shard.waiters_by_key.find(key);
  if (found != shard.waiters_by_key.end()) {
    if (found->second.size() >= kWaitersPerClaimMax) return ClaimResult::kFull;
    found->second.push_back(std::move(continuation));
    return ClaimResult::kQueued;
  }
  // Relaxed: an approximate global bound; the shard lock guards the map itself.
  if (claims_.fetch_add(1, std::memory_order_relaxed) >= kClaimsMax) {
    claims_.fetch_sub(1, std::memory_order_relaxed);
    return ClaimResult::kFull;
  }
  shard.waiters_by_key.emplace(key, std::vector<Continuation>{});
  return ClaimResult::kClaimed;
}

void ClaimTable::release(const std::string& key, const ClaimOutcome& outcome) {
  std::vector<Continuation> waiters;
  {
    Shard& shard = shard_for(key);
    std::lock_guard lock(shard.mutex);
    auto found = shard.waiters_by_key.find(key);
    assert(found != shard.waiters_by_key.end() && "release of a key nobody claimed");
    waiters = std::move(found->second);
    shard.waiters_by_key.erase(found);
  }
  claims_.fetch_sub(1, std::memory_order_relaxed);  // Relaxed: see claim().
  // Outside the lock: a continuation typically claims the same key again.
  for (auto& waiter : waiters) waiter(outcome);
}

size_t ClaimTable::size() const { return claims_.load(std::memory_order_relaxed); }

}  // namespace rsvpd
