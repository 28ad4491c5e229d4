#include "shm/segment.h"

#include <time.h>
#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cassert>
#include <cerrno>
#include <cstring>

namespace rsvpd::shm {

namespace bip = boost::interprocess;

namespace {

constexpr size_t kSegmentNameBytesMax = 200;
constexpr uint32_t kActivitiesMax = kSlotCountMax / 2;

int64_t clock_ms(clockid_t clock) noexcept {
  timespec now{};
  clock_gettime(clock, &now);  // vDSO on Linux: no syscall.
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1'000'000;
}

int64_t realtime_ns() noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

bool valid_segment_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > kSegmentNameBytesMax) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

uint32_t slot_count_for(uint32_t activities_max) noexcept {
  uint32_t count = 2;
  while (count < 2 * uint64_t{activities_max}) count *= 2;
  return count;
}

void set_error(SegmentOpenError* error, SegmentError code, std::string message) {
  if (error != nullptr) *error = SegmentOpenError{code, std::move(message)};
}

SegmentError error_from_interprocess(const bip::interprocess_exception& e) noexcept {
  switch (e.get_error_code()) {
    case bip::not_found_error: return SegmentError::kNotFound;
    case bip::security_error: return SegmentError::kPermission;
    default: break;
  }
  if (e.get_native_error() == ENOENT) return SegmentError::kNotFound;
  if (e.get_native_error() == EACCES || e.get_native_error() == EPERM) {
    return SegmentError::kPermission;
  }
  return SegmentError::kSystem;
}

void store_id(IdWords& key, std::string_view id) noexcept {
  uint64_t words[kIdWords] = {};
  std::memcpy(words, id.data(), id.size());
  for (size_t i = 0; i < kIdWords; ++i) {
    key.word[i].store(words[i], std::memory_order_relaxed);  // Published by the state store.
  }
  key.length.store(static_cast<uint32_t>(id.size()), std::memory_order_relaxed);
}

bool id_equals(const IdWords& key, std::string_view id) noexcept {
  // Relaxed: the key never changes after the acquire load of `state` made it visible.
  if (key.length.load(std::memory_order_relaxed) != id.size()) return false;
  uint64_t words[kIdWords] = {};
  std::memcpy(words, id.data(), id.size());
  for (size_t i = 0; i < kIdWords; ++i) {
    if (key.word[i].load(std::memory_order_relaxed) != words[i]) return false;
  }
  return true;
}

}  // namespace

struct Segment::Mapping {
  bip::shared_memory_object object;
  bip::mapped_region region;
};

uint64_t activity_id_hash(std::string_view id) noexcept {
  // FNV-1a: short ids, no allocation, the same in every process.
  uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::unique_ptr<Segment> Segment::create(std::string_view name, uint32_t activities_max,
                                         SegmentOpenError* error) {
  if (!valid_segment_name(name) || activities_max == 0 || activities_max > kActivitiesMax) {
    set_error(error, SegmentError::kInvalidArgument,
              "segment name must match [A-Za-z0-9._-]{1,200} and activities_max 1.." +
                  std::to_string(kActivitiesMax));
    return nullptr;
  }
  const std::string name_string(name);
  const uint32_t slot_count = slot_count_for(activities_max);
  std::unique_ptr<Segment> segment(new Segment());
  try {
    bip::shared_memory_object::remove(name_string.c_str());
    // 0644: co-located readers of other users may read; only the daemon writes.
    bip::permissions permissions(0644);
    auto mapping = std::make_unique<Mapping>();
    mapping->object = bip::shared_memory_object(bip::create_only, name_string.c_str(),
                                                bip::read_write, permissions);
    mapping->object.truncate(static_cast<bip::offset_t>(segment_bytes(slot_count)));
    mapping->region = bip::mapped_region(mapping->object, bip::read_write);
    segment->mapping_ = std::move(mapping);
  } catch (const bip::interprocess_exception& e) {
    set_error(error, error_from_interprocess(e),
              "cannot create shared memory '" + name_string + "': " + e.what());
    return nullptr;
  }
  auto* base = static_cast<char*>(segment->mapping_->region.get_address());
  // ftruncate zero-fills: every atomic starts at 0 (empty slots, even sequences).
  segment->header_ = reinterpret_cast<SegmentHeader*>(base);
  segment->slots_ = reinterpret_cast<ActivitySlot*>(base + kHeaderBytes);
  segment->slot_count_ = slot_count;
  segment->activities_max_ = activities_max;
  segment->read_only_ = false;
  segment->name_ = name_string;

  SegmentHeader& header = *segment->header_;
  header.layout_version.store(kLayoutVersion, std::memory_order_relaxed);
  header.slot_count.store(slot_count, std::memory_order_relaxed);
  header.daemon_pid.store(getpid(), std::memory_order_relaxed);
  header.start_time_ns.store(realtime_ns(), std::memory_order_relaxed);
  header.heartbeat_ms.store(clock_ms(CLOCK_MONOTONIC), std::memory_order_relaxed);
  // Release: a reader that sees the magic sees every field above (DESIGN.md §3, magic last).
  header.magic.store(kSegmentMagic, std::memory_order_release);
  return segment;
}

std::unique_ptr<Segment> Segment::open_read_only(std::string_view name, SegmentOpenError* error) {
  if (!valid_segment_name(name)) {
    set_error(error, SegmentError::kInvalidArgument, "segment name must match [A-Za-z0-9._-]");
    return nullptr;
  }
  const std::string name_string(name);
  std::unique_ptr<Segment> segment(new Segment());
  try {
    auto mapping = std::make_unique<Mapping>();
    mapping->object =
        bip::shared_memory_object(bip::open_only, name_string.c_str(), bip::read_only);
    mapping->region = bip::mapped_region(mapping->object, bip::read_only);
    segment->mapping_ = std::move(mapping);
  } catch (const bip::interprocess_exception& e) {
    set_error(error, error_from_interprocess(e),
              "cannot open shared memory '" + name_string + "': " + e.what());
    return nullptr;
  }
  const size_t mapped_bytes = segment->mapping_->region.get_size();
  auto* base = static_cast<char*>(segment->mapping_->region.get_address());
  if (mapped_bytes < kHeaderBytes) {
    set_error(error, SegmentError::kNotReady, "segment smaller than its header: being created");
    return nullptr;
  }
  auto* header = reinterpret_cast<SegmentHeader*>(base);
  // Acquire: pairs with the release store of the magic at creation.
  if (header->magic.load(std::memory_order_acquire) != kSegmentMagic) {
    set_error(error, SegmentError::kNotReady, "segment magic not written yet");
    return nullptr;
  }
  const uint32_t version = header->layout_version.load(std::memory_order_relaxed);
  const uint32_t slot_count = header->slot_count.load(std::memory_order_relaxed);
  if (version != kLayoutVersion || slot_count == 0 || segment_bytes(slot_count) > mapped_bytes) {
    set_error(error, SegmentError::kBadLayout,
              "segment layout version " + std::to_string(version) + ", this reader knows " +
                  std::to_string(kLayoutVersion));
    return nullptr;
  }
  segment->header_ = header;
  segment->slots_ = reinterpret_cast<ActivitySlot*>(base + kHeaderBytes);
  segment->slot_count_ = slot_count;
  segment->activities_max_ = slot_count / 2;
  segment->read_only_ = true;
  segment->name_ = name_string;
  return segment;
}

bool Segment::remove(std::string_view name) {
  return bip::shared_memory_object::remove(std::string(name).c_str());
}

Segment::~Segment() = default;

ActivitySlot& Segment::slot(SlotRef ref) const noexcept {
  assert(ref.index < slot_count_);
  return slots_[ref.index];
}

std::optional<SlotRef> Segment::find(std::string_view id) const noexcept {
  if (id.empty() || id.size() > kActivityIdBytesMax) return std::nullopt;
  const uint64_t hash = activity_id_hash(id);
  const uint32_t mask = slot_count_ - 1;
  const uint32_t hash_low = static_cast<uint32_t>(hash);
  for (uint32_t probe = 0; probe < kProbeLengthMax && probe < slot_count_; ++probe) {
    const uint32_t index = (static_cast<uint32_t>(hash) + probe) & mask;
    const ActivitySlot& candidate = slots_[index];
    // Acquire: pairs with make_visible's release, so the key below is complete.
    const auto state = static_cast<SlotState>(candidate.state.load(std::memory_order_acquire));
    if (state == SlotState::kEmpty) return std::nullopt;
    if (state != SlotState::kOccupied) continue;
    if (candidate.key_hash_low.load(std::memory_order_relaxed) != hash_low) continue;
    if (id_equals(candidate.key, id)) return SlotRef{index};
  }
  return std::nullopt;
}

InsertResult Segment::claim_slot(std::string_view id, uint64_t hash) noexcept {
  assert(!read_only_);
  assert(!id.empty() && id.size() <= kActivityIdBytesMax);
  if (const auto existing = find(id)) return InsertResult{InsertOutcome::kExists, *existing};
  if (!has_room_for(1)) return InsertResult{InsertOutcome::kTableFull, SlotRef{}};
  const uint32_t mask = slot_count_ - 1;
  for (uint32_t probe = 0; probe < kProbeLengthMax && probe < slot_count_; ++probe) {
    const uint32_t index = (static_cast<uint32_t>(hash) + probe) & mask;
    ActivitySlot& candidate = slots_[index];
    if (static_cast<SlotState>(candidate.state.load(std::memory_order_relaxed)) !=
        SlotState::kEmpty) {
      continue;
    }
    store_id(candidate.key, id);
    candidate.key_hash_low.store(static_cast<uint32_t>(hash), std::memory_order_relaxed);
    return InsertResult{InsertOutcome::kInserted, SlotRef{index}};
  }
  return InsertResult{InsertOutcome::kTableFull, SlotRef{}};
}

bool Segment::has_room_for(uint32_t more) const noexcept {
  // Relaxed: only the writer thread, the caller, changes the counters.
  const uint64_t live = header_->live_activities.load(std::memory_order_relaxed);
  const uint64_t used = header_->used_slots.load(std::memory_order_relaxed);
  return live + more <= activities_max_ &&
         (used + more) * 100 <= uint64_t{slot_count_} * kLoadPercentMax;
}

void Segment::make_visible(SlotRef ref) noexcept {
  SegmentHeader& header = *header_;
  header.live_activities.fetch_add(1, std::memory_order_relaxed);  // Statistics only.
  header.used_slots.fetch_add(1, std::memory_order_relaxed);       // Writer-only counter.
  // Release: key, settings, word and snapshot written by the initializer become visible first.
  slot(ref).state.store(static_cast<uint32_t>(SlotState::kOccupied), std::memory_order_release);
}

void Segment::retire(SlotRef ref) noexcept {
  assert(!read_only_);
  ActivitySlot& retired = slot(ref);
  assert(retired.state.load(std::memory_order_relaxed) ==
         static_cast<uint32_t>(SlotState::kOccupied));
  // Release: the archived settings/snapshot published before are visible with the tombstone.
  retired.state.store(static_cast<uint32_t>(SlotState::kTombstone), std::memory_order_release);
  header_->live_activities.fetch_sub(1, std::memory_order_relaxed);  // Statistics only.
}

void Segment::beat_heartbeat() noexcept {
  assert(!read_only_);
  // Relaxed: readers compare it with their own clock; no other data depends on it.
  header_->heartbeat_ms.store(clock_ms(CLOCK_MONOTONIC), std::memory_order_relaxed);
}

void Segment::mark_stopped() noexcept {
  assert(!read_only_);
  header_->stopped.store(1, std::memory_order_release);  // Release: after the final publish.
}

int64_t Segment::heartbeat_age_ms() const noexcept {
  // Relaxed: a single independent value.
  return clock_ms(CLOCK_MONOTONIC) - header_->heartbeat_ms.load(std::memory_order_relaxed);
}

bool Segment::is_current_instance() const noexcept {
  SegmentOpenError error;
  const auto now = open_read_only(name_, &error);
  if (now == nullptr) return false;
  // Relaxed: both are constant for the life of a segment once its magic is visible.
  return now->header().start_time_ns.load(std::memory_order_relaxed) ==
             header_->start_time_ns.load(std::memory_order_relaxed) &&
         now->header().daemon_pid.load(std::memory_order_relaxed) ==
             header_->daemon_pid.load(std::memory_order_relaxed);
}

size_t Segment::read_id(SlotRef ref, char (&out)[kActivityIdBytesMax]) const noexcept {
  const ActivitySlot& source = slot(ref);
  uint64_t words[kIdWords];
  for (size_t i = 0; i < kIdWords; ++i) {
    words[i] = source.key.word[i].load(std::memory_order_relaxed);  // Immutable once visible.
  }
  const size_t length =
      std::min<size_t>(source.key.length.load(std::memory_order_relaxed), kActivityIdBytesMax);
  std::memcpy(out, words, length);
  return length;
}

}  // namespace rsvpd::shm
