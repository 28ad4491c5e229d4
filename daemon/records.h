// Records: the values the store keeps, and their strict binary encoding.
//
// Every record is encoded as: one format-version byte, then its fields in declaration order.
// Integers are fixed-width little-endian; bools are one byte (0 or 1); optionals are one presence
// byte followed by the value when present; enums are one byte; strings are a u32 length followed
// by that many bytes. Every string field has a `*_max` limit.
//
// Decoding is strict: an unknown format version, a truncated or over-long input, trailing bytes,
// a bool or presence byte other than 0/1, an enum out of range, or a string over its limit all
// return StatusCode::kCorruption. Decoding never reads outside the given bytes.
//
// Thread safety: all functions here are pure and may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "daemon/status.h"

namespace rsvpd {

// Limits on the stored strings. The HTTP layer validates inputs against tighter limits; these
// only bound what a decoder accepts.
inline constexpr size_t kIdBytesMax = 64;               // ^[A-Za-z0-9._:-]{1,64}$
inline constexpr size_t kTitleBytesMax = 200 * 4;       // 200 code points of UTF-8.
inline constexpr size_t kActorBytesMax = kIdBytesMax;  // A user id, or "system".
inline constexpr size_t kStatusNameBytesMax = 16;      // "waitlisted" and friends.
inline constexpr size_t kRequestIdBytesMax = 128;
inline constexpr size_t kIdempotencyKeyBytesMax = 128;
inline constexpr size_t kRequestFingerprintBytesMax = 16 * 1024;  // A request body.
inline constexpr size_t kResponseBodyBytesMax = 64 * 1024;

inline constexpr uint8_t kRecordFormatVersion = 1;

enum class ActivityStatus : uint8_t { kOpen = 0, kClosed = 1, kArchived = 2 };
enum class RsvpStatus : uint8_t { kConfirmed = 0, kWaitlisted = 1, kCancelled = 2 };
enum class AuditOp : uint8_t {
  kActivityCreated = 0,
  kActivityUpdated = 1,
  kRsvpConfirmed = 2,
  kRsvpWaitlisted = 3,
  kRsvpPromoted = 4,
  kRsvpCancelled = 5,
};

// The API's names: "open"/"closed"/"archived", "confirmed"/"waitlisted"/"cancelled",
// "activity.created" ... "rsvp.cancelled". Parsers accept exactly these (case-sensitive).
std::string_view activity_status_name(ActivityStatus status) noexcept;
std::optional<ActivityStatus> parse_activity_status(std::string_view name) noexcept;
std::string_view rsvp_status_name(RsvpStatus status) noexcept;
std::optional<RsvpStatus> parse_rsvp_status(std::string_view name) noexcept;
std::string_view audit_op_name(AuditOp op) noexcept;
std::optional<AuditOp> parse_audit_op(std::string_view name) noexcept;

struct ActivityRecord {
  std::string id;
  std::string title;
  std::string host_id;
  uint32_t capacity = 0;
  uint32_t max_guests = 0;
  bool waitlist_enabled = true;
  uint32_t waitlist_limit = 0;  // Parties; 0 = unlimited.
  ActivityStatus status = ActivityStatus::kOpen;
  std::optional<int64_t> rsvp_opens_at_ms;
  std::optional<int64_t> rsvp_closes_at_ms;
  uint32_t confirmed_seats = 0;
  uint32_t waitlist_length = 0;   // Parties.
  uint32_t waitlisted_seats = 0;  // Seats.
  uint64_t version = 0;
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  uint64_t next_ticket = 1;         // The writer's next waitlist ticket for this activity.
  uint64_t next_confirm_order = 1;  // The writer's next confirmation order for this activity.

  bool operator==(const ActivityRecord&) const = default;
};

struct RsvpRecord {
  uint64_t id = 0;
  std::string activity_id;
  std::string user_id;
  uint32_t guests = 0;
  RsvpStatus status = RsvpStatus::kConfirmed;
  uint64_t ticket = 0;         // Waitlist order key; 0 if it never waited.
  uint64_t confirm_order = 0;  // Confirmation order key; 0 if never confirmed.
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
  std::optional<int64_t> confirmed_at_ms;
  std::optional<int64_t> cancelled_at_ms;

  // 1 + guests. Widened so that guests == UINT32_MAX cannot wrap.
  uint64_t party_size() const noexcept { return uint64_t{1} + guests; }
  bool operator==(const RsvpRecord&) const = default;
};

struct AuditRecord {
  uint64_t seq = 0;
  int64_t at_ms = 0;
  AuditOp op = AuditOp::kActivityCreated;
  std::string actor;
  std::string activity_id;
  uint64_t rsvp_id = 0;  // 0 = none.
  std::string user_id;   // Empty = none (activity operations).
  std::string from_status;
  std::string to_status;
  uint32_t party_size = 0;
  std::string request_id;

  bool operator==(const AuditRecord&) const = default;
};

struct IdempotencyRecord {
  int64_t created_at_ms = 0;
  std::string request_fingerprint;  // Canonical request body; opaque to the store.
  uint64_t rsvp_id = 0;
  std::string response_body;

  bool operator==(const IdempotencyRecord&) const = default;
};

// Encoders replace the contents of `out` (its capacity is reused, so a caller that keeps one
// buffer does not allocate per record). REQUIRES: every string within its `*_max` limit
// (asserted; the HTTP layer validates first).
void encode_into(const ActivityRecord& record, std::string& out);
void encode_into(const RsvpRecord& record, std::string& out);
void encode_into(const AuditRecord& record, std::string& out);
void encode_into(const IdempotencyRecord& record, std::string& out);

template <typename Record>
std::string encode(const Record& record) {
  std::string out;
  encode_into(record, out);
  return out;
}

// Errors: kCorruption with a message naming the record type and the failed field.
Result<ActivityRecord> decode_activity(std::string_view bytes);
Result<RsvpRecord> decode_rsvp(std::string_view bytes);
Result<AuditRecord> decode_audit(std::string_view bytes);
Result<IdempotencyRecord> decode_idempotency(std::string_view bytes);

// The opaque public form of an RSVP id: "r" followed by exactly 16 lowercase hex digits.
// REQUIRES for formatting: id != 0 (0 means "none" everywhere).
inline constexpr size_t kRsvpIdTextBytes = 17;
std::string format_rsvp_id(uint64_t id);
// Accepts exactly the output of format_rsvp_id: returns nullopt for anything else, including
// upper-case hex, a wrong length and the id 0.
std::optional<uint64_t> parse_rsvp_id(std::string_view text) noexcept;

}  // namespace rsvpd
