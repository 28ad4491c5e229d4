// Composite keys of the store's named databases.
//
// Ids match ^[A-Za-z0-9._:-]{1,64}$ and idempotency keys are 1..128 printable ASCII, so neither
// contains 0x00, which therefore separates the parts of a composite key: all keys of one id sort
// together and before those of any longer id it prefixes. Integers are 8 bytes big-endian, so
// LMDB's bytewise key order is their numeric order.
//
//   u64 key       n                      rsvps (rsvp id), audit (seq)
//   id key        id                     activities
//   id+u64 key    id 0x00 n              confirmed_by_activity, waiting_by_activity,
//                                        audit_by_activity
//   id+text key   id 0x00 text           idempotency (sub, key)
//   user key      user 0x00 tag rest     by_user: three indexes of one user side by side, so that
//                                        an RSVP's three user entries share a leaf page (a
//                                        commit then writes one randomly placed page per RSVP
//                                        for them instead of three); tag and rest:
//                   'a' seq                audit_by_user
//                   'l' activity           live_rsvp_by_user_activity
//                   'r' rsvp id            rsvps_by_user
//
// Keys are built in a fixed-size buffer (no allocation). Thread safety: pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "daemon/records.h"
#include "daemon/status.h"

namespace rsvpd {

inline constexpr size_t kU64KeyBytes = 8;
inline constexpr size_t kKeyBytesMax = kIdBytesMax + 1 + kIdempotencyKeyBytesMax;
// LMDB's default maximum key size (mdb_env_get_maxkeysize) is 511 bytes.
static_assert(kKeyBytesMax <= 511, "keys must fit LMDB's maximum key size");
static_assert(kIdBytesMax + 1 + kU64KeyBytes <= kKeyBytesMax);

// True when `id` matches ^[A-Za-z0-9._:-]{1,64}$.
bool is_valid_id(std::string_view id) noexcept;
// True when `key` is 1..128 bytes of printable ASCII (0x20..0x7e).
bool is_valid_idempotency_key(std::string_view key) noexcept;

// A key in a fixed buffer. Copyable; view() is valid while the Key lives.
class StoreKey {
 public:
  std::string_view view() const noexcept { return {bytes_.data(), size_}; }

  // Appenders; REQUIRE that the result fits kKeyBytesMax (asserted).
  void append(std::string_view part) noexcept;
  void append_separator() noexcept;
  void append_u64(uint64_t value) noexcept;

 private:
  std::array<char, kKeyBytesMax> bytes_{};
  size_t size_ = 0;
};

// REQUIRES (asserted): ids valid per is_valid_id, idempotency keys per is_valid_idempotency_key.
StoreKey u64_key(uint64_t value) noexcept;
StoreKey id_key(std::string_view id) noexcept;
StoreKey id_u64_key(std::string_view id, uint64_t value) noexcept;
StoreKey id_id_key(std::string_view id, std::string_view other_id) noexcept;
StoreKey idempotency_store_key(std::string_view sub, std::string_view key) noexcept;
// `id` 0x00: the common prefix of every id+u64 and id+text key of `id`.
StoreKey id_prefix_key(std::string_view id) noexcept;

// The indexes kept in the by_user tree; the value is the tag byte after `user` 0x00.
enum class UserIndex : char {
  kAudit = 'a',  // rest: the audit seq (u64); value empty.
  kLive = 'l',   // rest: the activity id; value: the live rsvp id (u64).
  kRsvps = 'r',  // rest: the rsvp id (u64); value empty.
};
// `user` 0x00 tag: the common prefix of one user's entries in one index.
StoreKey user_index_prefix(std::string_view user, UserIndex index) noexcept;
// The smallest key above every key that starts with user_index_prefix(user, index).
StoreKey user_index_end(std::string_view user, UserIndex index) noexcept;
// kAudit and kRsvps entries.
StoreKey user_u64_key(std::string_view user, UserIndex index, uint64_t value) noexcept;
// kLive entries.
StoreKey user_live_key(std::string_view user, std::string_view activity) noexcept;

// Decoders for keys read back from a database; malformed bytes → kCorruption.
Result<uint64_t> decode_u64_key(std::string_view bytes);
struct IdU64Key {
  std::string_view id;  // Points into the decoded bytes.
  uint64_t value = 0;
};
Result<IdU64Key> decode_id_u64_key(std::string_view bytes);
struct UserIndexKey {
  std::string_view user;  // Points into the decoded bytes.
  UserIndex index = UserIndex::kRsvps;
  std::string_view rest;  // kLive: a valid id; kAudit, kRsvps: 8 bytes (see `value`).
  uint64_t value = 0;     // kAudit, kRsvps: the seq or rsvp id.
};
Result<UserIndexKey> decode_user_index_key(std::string_view bytes);

// Raw big-endian helpers, also used for u64 values (e.g. the rsvp id an index maps to).
void write_u64_big_endian(uint64_t value, char* out) noexcept;
uint64_t read_u64_big_endian(const char* in) noexcept;

}  // namespace rsvpd
