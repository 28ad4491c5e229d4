#include "daemon/records.h"

#include <gtest/gtest.h>

#include <string>

namespace rsvpd {
namespace {

ActivityRecord sample_activity() {
  ActivityRecord record;
  record.id = "act-1";
  record.title = "Yoga \xc3\xa0 la plage";
  record.host_id = "host:7";
  record.capacity = 40;
  record.max_guests = 3;
  record.waitlist_enabled = true;
  record.waitlist_limit = 12;
  record.status = ActivityStatus::kClosed;
  record.rsvp_opens_at_ms = -5;  // Negative times must survive too.
  record.rsvp_closes_at_ms = 1'800'000'000'000;
  record.confirmed_seats = 39;
  record.waitlist_length = 2;
  record.waitlisted_seats = 5;
  record.version = 7;
  record.created_at_ms = 1'700'000'000'000;
  record.updated_at_ms = 1'700'000'000'123;
  record.next_ticket = 1ull << 40;
  record.next_confirm_order = 0xfedcba9876543210ull;
  return record;
}

RsvpRecord sample_rsvp() {
  RsvpRecord record;
  record.id = 0x0123456789abcdefull;
  record.activity_id = "act-1";
  record.user_id = "u_9";
  record.guests = 2;
  record.status = RsvpStatus::kCancelled;
  record.ticket = 5;
  record.confirm_order = 9;
  record.created_at_ms = 10;
  record.updated_at_ms = 20;
  record.confirmed_at_ms = 15;
  record.cancelled_at_ms = 20;
  return record;
}

AuditRecord sample_audit() {
  AuditRecord record;
  record.seq = 42;
  record.at_ms = 1'700'000'000'999;
  record.op = AuditOp::kRsvpPromoted;
  record.actor = "system";
  record.activity_id = "act-1";
  record.rsvp_id = 77;
  record.user_id = "u_9";
  record.from_status = "waitlisted";
  record.to_status = "confirmed";
  record.party_size = 3;
  record.request_id = "req-abc";
  return record;
}

IdempotencyRecord sample_idempotency() {
  IdempotencyRecord record;
  record.created_at_ms = 123;
  record.request_fingerprint = R"({"activity_id":"act-1","guests":2})";
  record.rsvp_id = 77;
  record.response_body = std::string("{\"id\":\"r\"}\0binary", 17);
  return record;
}

TEST(RecordsTest, ActivityRoundTrips) {
  const ActivityRecord record = sample_activity();
  const Result<ActivityRecord> decoded = decode_activity(encode(record));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), record);

  ActivityRecord defaults;  // Absent optionals and empty strings round-trip too.
  defaults.id = "a";
  const Result<ActivityRecord> decoded_defaults = decode_activity(encode(defaults));
  ASSERT_TRUE(decoded_defaults.is_ok());
  EXPECT_EQ(decoded_defaults.value(), defaults);
  EXPECT_FALSE(decoded_defaults.value().rsvp_opens_at_ms.has_value());
}

TEST(RecordsTest, RsvpRoundTripsAndPartySize) {
  const RsvpRecord record = sample_rsvp();
  const Result<RsvpRecord> decoded = decode_rsvp(encode(record));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded.value(), record);
  EXPECT_EQ(record.party_size(), 3u);
  RsvpRecord huge;
  huge.guests = UINT32_MAX;
  EXPECT_EQ(huge.party_size(), uint64_t{UINT32_MAX} + 1);  // No wrap.
}

TEST(RecordsTest, AuditAndIdempotencyRoundTrip) {
  const AuditRecord audit = sample_audit();
  const Result<AuditRecord> decoded_audit = decode_audit(encode(audit));
  ASSERT_TRUE(decoded_audit.is_ok());
  EXPECT_EQ(decoded_audit.value(), audit);

  const IdempotencyRecord idempotency = sample_idempotency();
  const Result<IdempotencyRecord> decoded = decode_idempotency(encode(idempotency));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded.value(), idempotency);
}

TEST(RecordsTest, EncodingIsLittleEndianAndVersioned) {
  IdempotencyRecord record;
  record.created_at_ms = 0x0102;
  const std::string bytes = encode(record);
  ASSERT_GE(bytes.size(), 3u);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kRecordFormatVersion);
  EXPECT_EQ(bytes[1], '\x02');
  EXPECT_EQ(bytes[2], '\x01');
}

TEST(RecordsTest, EncodeIntoReplacesBufferContents) {
  std::string buffer = "stale bytes that must go";
  encode_into(sample_rsvp(), buffer);
  EXPECT_EQ(buffer, encode(sample_rsvp()));
}

// Every strict prefix of a valid encoding is truncated and must fail (covers every field).
template <typename Record, typename Decode>
void expect_every_truncation_fails(const Record& record, Decode decode) {
  const std::string bytes = encode(record);
  for (size_t size = 0; size < bytes.size(); ++size) {
    const auto decoded = decode(std::string_view(bytes).substr(0, size));
    ASSERT_FALSE(decoded.is_ok()) << "prefix of " << size << " bytes decoded";
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  }
  const auto with_trailing = decode(bytes + "x");
  ASSERT_FALSE(with_trailing.is_ok());
  EXPECT_EQ(with_trailing.status().code(), StatusCode::kCorruption);
  EXPECT_NE(with_trailing.status().message().find("trailing"), std::string::npos);
}

TEST(RecordsTest, TruncatedOrTrailingBytesAreCorruption) {
  expect_every_truncation_fails(sample_activity(), decode_activity);
  expect_every_truncation_fails(sample_rsvp(), decode_rsvp);
  expect_every_truncation_fails(sample_audit(), decode_audit);
  expect_every_truncation_fails(sample_idempotency(), decode_idempotency);
}

TEST(RecordsTest, UnknownVersionIsCorruption) {
  std::string bytes = encode(sample_rsvp());
  bytes[0] = static_cast<char>(kRecordFormatVersion + 1);
  const Result<RsvpRecord> decoded = decode_rsvp(bytes);
  ASSERT_FALSE(decoded.is_ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
  EXPECT_NE(decoded.status().message().find("format version"), std::string::npos);
}

// Offsets into the activity encoding: version(1) id(4+5) title(4+n) host(4+6) capacity(4)
// max_guests(4) waitlist_enabled(1) waitlist_limit(4) status(1) opens(1+8) ...
size_t activity_offset_after_host(const ActivityRecord& record) {
  return 1 + 4 + record.id.size() + 4 + record.title.size() + 4 + record.host_id.size();
}

TEST(RecordsTest, BadBoolEnumAndPresenceBytesAreCorruption) {
  const ActivityRecord record = sample_activity();
  const std::string bytes = encode(record);
  const size_t bool_offset = activity_offset_after_host(record) + 8;
  const size_t status_offset = bool_offset + 1 + 4;
  const size_t presence_offset = status_offset + 1;
  for (const auto& [offset, value, field] :
       {std::tuple{bool_offset, 2, "waitlist_enabled"}, std::tuple{status_offset, 3, "status"},
        std::tuple{presence_offset, 7, "rsvp_opens_at"}}) {
    std::string bad = bytes;
    bad[offset] = static_cast<char>(value);
    const Result<ActivityRecord> decoded = decode_activity(bad);
    ASSERT_FALSE(decoded.is_ok()) << field;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    EXPECT_NE(decoded.status().message().find(field), std::string::npos)
        << decoded.status().message();
  }
}

TEST(RecordsTest, BadEnumsInRsvpAndAuditAreCorruption) {
  std::string rsvp = encode(sample_rsvp());
  const size_t rsvp_status_offset = 1 + 8 + 4 + 5 + 4 + 3 + 4;
  ASSERT_EQ(static_cast<uint8_t>(rsvp[rsvp_status_offset]),
            static_cast<uint8_t>(RsvpStatus::kCancelled));
  rsvp[rsvp_status_offset] = 3;
  EXPECT_EQ(decode_rsvp(rsvp).status().code(), StatusCode::kCorruption);

  std::string audit = encode(sample_audit());
  const size_t op_offset = 1 + 8 + 8;
  audit[op_offset] = 6;
  EXPECT_EQ(decode_audit(audit).status().code(), StatusCode::kCorruption);
}

TEST(RecordsTest, OverlongOrHugeStringLengthIsCorruption) {
  // A length prefix far beyond the input must not be trusted (no huge allocation, no overread).
  std::string bytes = encode(sample_rsvp());
  const size_t length_offset = 1 + 8;
  for (const uint32_t length : {0xffffffffu, static_cast<uint32_t>(kIdBytesMax + 1)}) {
    std::string bad = bytes;
    for (int i = 0; i < 4; ++i) bad[length_offset + i] = static_cast<char>(length >> (8 * i));
    const Result<RsvpRecord> decoded = decode_rsvp(bad);
    ASSERT_FALSE(decoded.is_ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    EXPECT_NE(decoded.status().message().find("activity_id"), std::string::npos);
  }
}

TEST(RecordsTest, RandomBytesNeverCrash) {
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int round = 0; round < 20000; ++round) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    std::string bytes(static_cast<size_t>(state >> 58), '\0');
    for (char& c : bytes) {
      state = state * 6364136223846793005ull + 1;
      c = static_cast<char>(state >> 56);
    }
    if (!bytes.empty()) bytes[0] = static_cast<char>(kRecordFormatVersion);
    (void)decode_activity(bytes);
    (void)decode_rsvp(bytes);
    (void)decode_audit(bytes);
    (void)decode_idempotency(bytes);
  }
}

TEST(RecordsTest, EnumNamesRoundTrip) {
  for (const auto status : {ActivityStatus::kOpen, ActivityStatus::kClosed,
                            ActivityStatus::kArchived}) {
    EXPECT_EQ(parse_activity_status(activity_status_name(status)), status);
  }
  for (const auto status : {RsvpStatus::kConfirmed, RsvpStatus::kWaitlisted,
                            RsvpStatus::kCancelled}) {
    EXPECT_EQ(parse_rsvp_status(rsvp_status_name(status)), status);
  }
  EXPECT_EQ(audit_op_name(AuditOp::kActivityCreated), "activity.created");
  EXPECT_EQ(audit_op_name(AuditOp::kRsvpCancelled), "rsvp.cancelled");
  for (uint8_t op = 0; op <= static_cast<uint8_t>(AuditOp::kRsvpCancelled); ++op) {
    EXPECT_EQ(parse_audit_op(audit_op_name(static_cast<AuditOp>(op))), static_cast<AuditOp>(op));
  }
  EXPECT_FALSE(parse_audit_op("rsvp.Cancelled").has_value());
  EXPECT_FALSE(parse_rsvp_status("").has_value());
  EXPECT_FALSE(parse_activity_status("opened").has_value());
}

TEST(RecordsTest, RsvpIdTextRoundTrips) {
  EXPECT_EQ(format_rsvp_id(1), "r0000000000000001");
  EXPECT_EQ(format_rsvp_id(0xfedcba9876543210ull), "rfedcba9876543210");
  for (const uint64_t id : {uint64_t{1}, uint64_t{255}, uint64_t{1} << 32, uint64_t{UINT64_MAX}}) {
    EXPECT_EQ(parse_rsvp_id(format_rsvp_id(id)), id);
  }
}

TEST(RecordsTest, RsvpIdParserIsStrict) {
  for (const char* bad : {"", "r", "r000000000000001", "r00000000000000001", "R0000000000000001",
                          "r000000000000000A", "r000000000000000g", "x0000000000000001",
                          "r0000000000000000", "r-000000000000001", " r000000000000001"}) {
    EXPECT_FALSE(parse_rsvp_id(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace rsvpd
