#include "http/identifiers.h"

#include <array>

#include "http/detail/random.h"

namespace rsvpd::http {
namespace {

constexpr std::string_view kBase32Alphabet =
    "abcdefghijklmnopqrstuvwxyz234567";  // RFC 4648, lower.

bool is_id_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == ':' || c == '-';
}

bool is_id_text(std::string_view text, std::size_t bytes_max) noexcept {
  if (text.empty() || text.size() > bytes_max) return false;
  for (const char c : text) {
    if (!is_id_char(c)) return false;
  }
  return true;
}

// Appends `value` in base32, most significant digit first, without leading zeros ("a" for 0).
void append_base32(std::string& out, std::uint64_t value) {
  char digits[13];  // ceil(64 / 5)
  std::size_t count = 0;
  do {
    digits[count++] = kBase32Alphabet[value & 31];
    value >>= 5;
  } while (value != 0);
  while (count > 0) out.push_back(digits[--count]);
}

}  // namespace

bool is_valid_id(std::string_view id) noexcept { return is_id_text(id, kIdBytesMax); }

bool is_valid_idempotency_key(std::string_view key) noexcept {
  if (key.empty() || key.size() > kIdempotencyKeyBytesMax) return false;
  if (key.front() == ' ' || key.back() == ' ') return false;
  for (const char c : key) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

bool is_valid_request_id(std::string_view request_id) noexcept {
  return is_id_text(request_id, kRequestIdBytesMax);
}

RequestIdGenerator::RequestIdGenerator(std::uint64_t seed) noexcept {
  for (char& c : prefix_) {
    c = kBase32Alphabet[seed & 31];
    seed >>= 5;  // 10 chars use 50 of the 64 seed bits.
  }
}

Result<std::uint64_t> RequestIdGenerator::random_seed() {
  std::array<std::uint8_t, 8> bytes{};
  if (Status status = detail::fill_random(bytes); !status.is_ok()) return status;
  std::uint64_t seed = 0;
  for (const std::uint8_t byte : bytes) seed = (seed << 8) | byte;
  return seed;
}

std::string RequestIdGenerator::next() noexcept {
  // Relaxed: only uniqueness matters, and fetch_add is atomic under any order.
  const std::uint64_t number = counter_.fetch_add(1, std::memory_order_relaxed);
  std::string id(prefix_, sizeof(prefix_));
  id.push_back('-');
  append_base32(id, number);
  return id;
}

std::string RequestIdGenerator::accept_or_generate(std::string_view client_id) noexcept {
  if (is_valid_request_id(client_id)) return std::string(client_id);
  return next();
}

Result<std::string> generate_activity_id() {
  // 13 bytes = 104 bits, of which 100 make the 20 base32 chars.
  std::array<std::uint8_t, 13> bytes{};
  if (Status status = detail::fill_random(bytes); !status.is_ok()) return status;
  std::string id(kGeneratedActivityIdPrefix);
  std::uint32_t buffer = 0;
  int buffered_bits = 0;
  std::size_t next_byte = 0;
  while (id.size() < kGeneratedActivityIdPrefix.size() + kGeneratedIdRandomCharsCount) {
    if (buffered_bits < 5) {
      buffer = (buffer << 8) | bytes[next_byte++];
      buffered_bits += 8;
    }
    id.push_back(kBase32Alphabet[(buffer >> (buffered_bits - 5)) & 31]);
    buffered_bits -= 5;
  }
  return id;
}

}  // namespace rsvpd::http
