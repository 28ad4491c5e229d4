#include "daemon/records.h"

#include <array>
#include <utility>

#include "daemon/detail/codec.h"

namespace rsvpd {

namespace {

using detail::ByteReader;
using detail::ByteWriter;

constexpr std::array<std::string_view, 3> kActivityStatusNames = {"open", "closed", "archived"};
constexpr std::array<std::string_view, 3> kRsvpStatusNames = {"confirmed", "waitlisted",
                                                              "cancelled"};
constexpr std::array<std::string_view, 6> kAuditOpNames = {
    "activity.created", "activity.updated", "rsvp.confirmed",
    "rsvp.waitlisted",  "rsvp.promoted",    "rsvp.cancelled"};

// Looks `name` up in `names`; the index is the enum value.
template <typename Enum, size_t N>
std::optional<Enum> parse_name(const std::array<std::string_view, N>& names,
                               std::string_view name) noexcept {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

template <size_t N>
std::string_view name_of(const std::array<std::string_view, N>& names, uint8_t value) noexcept {
  assert(value < N);
  return value < N ? names[value] : std::string_view("invalid");
}

// Starts a record: clears `out` and writes the format version.
ByteWriter begin_record(std::string& out) {
  out.clear();
  ByteWriter writer(out);
  writer.u8(kRecordFormatVersion);
  return writer;
}

// Checks the format version byte; a failed reader reports it.
void check_version(ByteReader& reader) {
  if (reader.u8("format version") != kRecordFormatVersion) reader.fail("format version");
}

// Turns a finished decode into its Result: the record, or kCorruption naming the field.
template <typename Record>
Result<Record> finish(const ByteReader& reader, Record record, std::string_view type) {
  if (reader.finished()) return record;
  std::string message = "cannot decode ";
  message += type;
  message += reader.ok() ? ": trailing bytes" : std::string(": bad ") + reader.failed_field();
  return Status(StatusCode::kCorruption, std::move(message));
}

}  // namespace

std::string_view activity_status_name(ActivityStatus status) noexcept {
  return name_of(kActivityStatusNames, static_cast<uint8_t>(status));
}
std::optional<ActivityStatus> parse_activity_status(std::string_view name) noexcept {
  return parse_name<ActivityStatus>(kActivityStatusNames, name);
}
std::string_view rsvp_status_name(RsvpStatus status) noexcept {
  return name_of(kRsvpStatusNames, static_cast<uint8_t>(status));
}
std::optional<RsvpStatus> parse_rsvp_status(std::string_view name) noexcept {
  return parse_name<RsvpStatus>(kRsvpStatusNames, name);
}
std::string_view audit_op_name(AuditOp op) noexcept {
  return name_of(kAuditOpNames, static_cast<uint8_t>(op));
}
std::optional<AuditOp> parse_audit_op(std::string_view name) noexcept {
  return parse_name<AuditOp>(kAuditOpNames, name);
}

void encode_into(const ActivityRecord& record, std::string& out) {
  ByteWriter writer = begin_record(out);
  writer.string(record.id, kIdBytesMax);
  writer.string(record.title, kTitleBytesMax);
  writer.string(record.host_id, kIdBytesMax);
  writer.u32(record.capacity);
  writer.u32(record.max_guests);
  writer.boolean(record.waitlist_enabled);
  writer.u32(record.waitlist_limit);
  writer.u8(static_cast<uint8_t>(record.status));
  writer.optional_i64(record.rsvp_opens_at_ms);
  writer.optional_i64(record.rsvp_closes_at_ms);
  writer.u32(record.confirmed_seats);
  writer.u32(record.waitlist_length);
  writer.u32(record.waitlisted_seats);
  writer.u64(record.version);
  writer.i64(record.created_at_ms);
  writer.i64(record.updated_at_ms);
  writer.u64(record.next_ticket);
  writer.u64(record.next_confirm_order);
}

Result<ActivityRecord> decode_activity(std::string_view bytes) {
  ByteReader reader(bytes);
  check_version(reader);
  ActivityRecord record;
  record.id = reader.string("id", kIdBytesMax);
  record.title = reader.string("title", kTitleBytesMax);
  record.host_id = reader.string("host_id", kIdBytesMax);
  record.capacity = reader.u32("capacity");
  record.max_guests = reader.u32("max_guests");
  record.waitlist_enabled = reader.boolean("waitlist_enabled");
  record.waitlist_limit = reader.u32("waitlist_limit");
  record.status = static_cast<ActivityStatus>(
      reader.enumeration("status", static_cast<uint8_t>(ActivityStatus::kArchived)));
  record.rsvp_opens_at_ms = reader.optional_i64("rsvp_opens_at");
  record.rsvp_closes_at_ms = reader.optional_i64("rsvp_closes_at");
  record.confirmed_seats = reader.u32("confirmed_seats");
  record.waitlist_length = reader.u32("waitlist_length");
  record.waitlisted_seats = reader.u32("waitlisted_seats");
  record.version = reader.u64("version");
  record.created_at_ms = reader.i64("created_at");
  record.updated_at_ms = reader.i64("updated_at");
  record.next_ticket = reader.u64("next_ticket");
  record.next_confirm_order = reader.u64("next_confirm_order");
  return finish(reader, std::move(record), "activity");
}

void encode_into(const RsvpRecord& record, std::string& out) {
  ByteWriter writer = begin_record(out);
  writer.u64(record.id);
  writer.string(record.activity_id, kIdBytesMax);
  writer.string(record.user_id, kIdBytesMax);
  writer.u32(record.guests);
  writer.u8(static_cast<uint8_t>(record.status));
  writer.u64(record.ticket);
  writer.u64(record.confirm_order);
  writer.i64(record.created_at_ms);
  writer.i64(record.updated_at_ms);
  writer.optional_i64(record.confirmed_at_ms);
  writer.optional_i64(record.cancelled_at_ms);
}

Result<RsvpRecord> decode_rsvp(std::string_view bytes) {
  ByteReader reader(bytes);
  check_version(reader);
  RsvpRecord record;
  record.id = reader.u64("id");
  record.activity_id = reader.string("activity_id", kIdBytesMax);
  record.user_id = reader.string("user_id", kIdBytesMax);
  record.guests = reader.u32("guests");
  record.status = static_cast<RsvpStatus>(
      reader.enumeration("status", static_cast<uint8_t>(RsvpStatus::kCancelled)));
  record.ticket = reader.u64("ticket");
  record.confirm_order = reader.u64("confirm_order");
  record.created_at_ms = reader.i64("created_at");
  record.updated_at_ms = reader.i64("updated_at");
  record.confirmed_at_ms = reader.optional_i64("confirmed_at");
  record.cancelled_at_ms = reader.optional_i64("cancelled_at");
  return finish(reader, std::move(record), "rsvp");
}

void encode_into(const AuditRecord& record, std::string& out) {
  ByteWriter writer = begin_record(out);
  writer.u64(record.seq);
  writer.i64(record.at_ms);
  writer.u8(static_cast<uint8_t>(record.op));
  writer.string(record.actor, kActorBytesMax);
  writer.string(record.activity_id, kIdBytesMax);
  writer.u64(record.rsvp_id);
  writer.string(record.user_id, kIdBytesMax);
  writer.string(record.from_status, kStatusNameBytesMax);
  writer.string(record.to_status, kStatusNameBytesMax);
  writer.u32(record.party_size);
  writer.string(record.request_id, kRequestIdBytesMax);
}

Result<AuditRecord> decode_audit(std::string_view bytes) {
  ByteReader reader(bytes);
  check_version(reader);
  AuditRecord record;
  record.seq = reader.u64("seq");
  record.at_ms = reader.i64("at");
  record.op = static_cast<AuditOp>(
      reader.enumeration("op", static_cast<uint8_t>(AuditOp::kRsvpCancelled)));
  record.actor = reader.string("actor", kActorBytesMax);
  record.activity_id = reader.string("activity_id", kIdBytesMax);
  record.rsvp_id = reader.u64("rsvp_id");
  record.user_id = reader.string("user_id", kIdBytesMax);
  record.from_status = reader.string("from", kStatusNameBytesMax);
  record.to_status = reader.string("to", kStatusNameBytesMax);
  record.party_size = reader.u32("party_size");
  record.request_id = reader.string("request_id", kRequestIdBytesMax);
  return finish(reader, std::move(record), "audit");
}

void encode_into(const IdempotencyRecord& record, std::string& out) {
  ByteWriter writer = begin_record(out);
  writer.i64(record.created_at_ms);
  writer.string(record.request_fingerprint, kRequestFingerprintBytesMax);
  writer.u64(record.rsvp_id);
  writer.string(record.response_body, kResponseBodyBytesMax);
}

Result<IdempotencyRecord> decode_idempotency(std::string_view bytes) {
  ByteReader reader(bytes);
  check_version(reader);
  IdempotencyRecord record;
  record.created_at_ms = reader.i64("created_at");
  record.request_fingerprint = reader.string("request_fingerprint", kRequestFingerprintBytesMax);
  record.rsvp_id = reader.u64("rsvp_id");
  record.response_body = reader.string("response_body", kResponseBodyBytesMax);
  return finish(reader, std::move(record), "idempotency");
}

std::string format_rsvp_id(uint64_t id) {
  assert(id != 0);
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text(kRsvpIdTextBytes, '0');
  text[0] = 'r';
  for (size_t i = 0; i < 16; ++i) text[16 - i] = kDigits[(id >> (4 * i)) & 0xf];
  return text;
}

std::optional<uint64_t> parse_rsvp_id(std::string_view text) noexcept {
  if (text.size() != kRsvpIdTextBytes || text[0] != 'r') return std::nullopt;
  uint64_t id = 0;
  for (size_t i = 1; i < text.size(); ++i) {
    const char c = text[i];
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
    id = (id << 4) | digit;
  }
  if (id == 0) return std::nullopt;
  return id;
}

}  // namespace rsvpd
