#include "daemon/store_keys.h"

#include <cassert>
#include <cstring>
#include <string>

namespace rsvpd {

bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kIdBytesMax) return false;
  for (const char c : id) {
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && c != '.' && c != '_' && c != ':' && c != '-') return false;
  }
  return true;
}

bool is_valid_idempotency_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) return false;
  for (const char c : key) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void StoreKey::append(std::string_view part) noexcept {
  assert(size_ + part.size() <= bytes_.size());
  std::memcpy(bytes_.data() + size_, part.data(), part.size());
  size_ += part.size();
}

void StoreKey::append_separator() noexcept {
  assert(size_ < bytes_.size());
  bytes_[size_++] = '\0';
}

void StoreKey::append_u64(uint64_t value) noexcept {
  assert(size_ + kU64KeyBytes <= bytes_.size());
  write_u64_big_endian(value, bytes_.data() + size_);
  size_ += kU64KeyBytes;
}

StoreKey u64_key(uint64_t value) noexcept {
  StoreKey key;
  key.append_u64(value);
  return key;
}

StoreKey id_key(std::string_view id) noexcept {
  assert(is_valid_id(id));
  StoreKey key;
  key.append(id);
  return key;
}

StoreKey id_prefix_key(std::string_view id) noexcept {
  StoreKey key = id_key(id);
  key.append_separator();
  return key;
}

StoreKey id_u64_key(std::string_view id, uint64_t value) noexcept {
  StoreKey key = id_prefix_key(id);
  key.append_u64(value);
  return key;
}

StoreKey id_id_key(std::string_view id, std::string_view other_id) noexcept {
  assert(is_valid_id(other_id));
  StoreKey key = id_prefix_key(id);
  key.append(other_id);
  return key;
}

StoreKey idempotency_store_key(std::string_view sub, std::string_view key_text) noexcept {
  assert(is_valid_idempotency_key(key_text));
  StoreKey key = id_prefix_key(sub);
  key.append(key_text);
  return key;
}

StoreKey user_index_prefix(std::string_view user, UserIndex index) noexcept {
  StoreKey key = id_prefix_key(user);
  const char tag = static_cast<char>(index);
  key.append(std::string_view(&tag, 1));
  return key;
}

StoreKey user_index_end(std::string_view user, UserIndex index) noexcept {
  StoreKey key = id_prefix_key(user);
  const char next_tag = static_cast<char>(static_cast<char>(index) + 1);
  key.append(std::string_view(&next_tag, 1));
  return key;
}

StoreKey user_u64_key(std::string_view user, UserIndex index, uint64_t value) noexcept {
  assert(index != UserIndex::kLive);
  StoreKey key = user_index_prefix(user, index);
  key.append_u64(value);
  return key;
}

StoreKey user_live_key(std::string_view user, std::string_view activity) noexcept {
  assert(is_valid_id(activity));
  StoreKey key = user_index_prefix(user, UserIndex::kLive);
  key.append(activity);
  return key;
}

Result<uint64_t> decode_u64_key(std::string_view bytes) {
  if (bytes.size() != kU64KeyBytes) {
    return Status(StatusCode::kCorruption,
                  "integer key of " + std::to_string(bytes.size()) + " bytes, expected 8");
  }
  return read_u64_big_endian(bytes.data());
}

Result<IdU64Key> decode_id_u64_key(std::string_view bytes) {
  const bool long_enough = bytes.size() >= 1 + 1 + kU64KeyBytes;
  const size_t id_size = long_enough ? bytes.size() - 1 - kU64KeyBytes : 0;
  if (!long_enough || bytes[id_size] != '\0' || !is_valid_id(bytes.substr(0, id_size))) {
    return Status(StatusCode::kCorruption, "malformed id+integer key");
  }
  return IdU64Key{bytes.substr(0, id_size), read_u64_big_endian(bytes.data() + id_size + 1)};
}

Result<UserIndexKey> decode_user_index_key(std::string_view bytes) {
  const auto malformed = [] { return Status(StatusCode::kCorruption, "malformed by_user key"); };
  const size_t separator = bytes.find('\0');
  if (separator == std::string_view::npos || separator + 2 > bytes.size() ||
      !is_valid_id(bytes.substr(0, separator))) {
    return malformed();
  }
  UserIndexKey key;
  key.user = bytes.substr(0, separator);
  key.rest = bytes.substr(separator + 2);
  switch (bytes[separator + 1]) {
    case static_cast<char>(UserIndex::kLive):
      key.index = UserIndex::kLive;
      if (!is_valid_id(key.rest)) return malformed();
      return key;
    case static_cast<char>(UserIndex::kAudit):
    case static_cast<char>(UserIndex::kRsvps):
      key.index = static_cast<UserIndex>(bytes[separator + 1]);
      if (key.rest.size() != kU64KeyBytes) return malformed();
      key.value = read_u64_big_endian(key.rest.data());
      return key;
    default: return malformed();
  }
}

void write_u64_big_endian(uint64_t value, char* out) noexcept {
  for (size_t i = 0; i < kU64KeyBytes; ++i) {
    out[i] = static_cast<char>((value >> (8 * (kU64KeyBytes - 1 - i))) & 0xff);
  }
}

uint64_t read_u64_big_endian(const char* in) noexcept {
  uint64_t value = 0;
  for (size_t i = 0; i < kU64KeyBytes; ++i) value = (value << 8) | static_cast<uint8_t>(in[i]);
  return value;
}

}  // namespace rsvpd
