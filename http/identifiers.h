// Identifiers the API accepts and generates (API.md, Conventions; RSVPs: Idempotency-Key).
//
// Accepted forms:
//   - activity and user ids (and JWT `sub`): ^[A-Za-z0-9._:-]{1,64}$
//   - Idempotency-Key: 1..128 printable ASCII (0x20..0x7E) that neither starts nor ends with a
//     space, because HTTP parsers trim optional whitespace around header values and two keys
//     differing only there could not be told apart.
//   - X-Request-Id from a client: 1..128 of [A-Za-z0-9._:-]. It is echoed into responses and
//     the audit trail, so anything else (spaces, quotes, control bytes) is replaced by a
//     generated id rather than rejected: the id is for tracing, not a reason to fail a request.
// Generated forms:
//   - request ids: "<10 base32 chars of per-process randomness>-<counter in base32>", unique
//     within a process and, with overwhelming probability, across restarts.
//   - activity ids: "a_" + 20 base32 chars (100 random bits); they match the activity id rule.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "daemon/status.h"

namespace rsvpd::http {

inline constexpr std::size_t kIdBytesMax = 64;
inline constexpr std::size_t kIdempotencyKeyBytesMax = 128;
inline constexpr std::size_t kRequestIdBytesMax = 128;
inline constexpr std::size_t kGeneratedIdRandomCharsCount = 20;
inline constexpr std::string_view kGeneratedActivityIdPrefix = "a_";
static_assert(kGeneratedActivityIdPrefix.size() + kGeneratedIdRandomCharsCount <= kIdBytesMax);

// True for activity ids, user ids and JWT subjects. Thread-safe, no allocation.
bool is_valid_id(std::string_view id) noexcept;

// True for a usable Idempotency-Key header value (see above). Thread-safe, no allocation.
bool is_valid_idempotency_key(std::string_view key) noexcept;

// True for a client X-Request-Id that may be echoed. Thread-safe, no allocation.
bool is_valid_request_id(std::string_view request_id) noexcept;

// Hands out request ids. Thread-safe: next() may be called from every io thread at once; it is a
// single relaxed fetch_add plus formatting.
class RequestIdGenerator {
 public:
  // `seed` supplies the per-process prefix; production passes random bits (see create()), tests
  // may pass a constant.
  explicit RequestIdGenerator(std::uint64_t seed) noexcept;
  // 64 bits from getrandom for the constructor. Errors: kIoError when getrandom fails.
  static Result<std::uint64_t> random_seed();

  std::string next() noexcept;

  // The client's id when is_valid_request_id(client_id), else next().
  std::string accept_or_generate(std::string_view client_id) noexcept;

 private:
  char prefix_[10];
  std::atomic<std::uint64_t> counter_{0};
};

// A fresh activity id, "a_" + 20 random base32 chars. Errors: kIoError when getrandom fails.
// Thread-safe.
Result<std::string> generate_activity_id();

}  // namespace rsvpd::http
