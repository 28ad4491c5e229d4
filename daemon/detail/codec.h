// Byte-level helpers for the record encoding (records.h describes the format).
// Internal to daemon/: no stability promised to other modules.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rsvpd::detail {

// Appends little-endian fixed-width values and length-prefixed strings to a std::string.
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}

  void u8(uint8_t value) { out_.push_back(static_cast<char>(value)); }
  void u32(uint32_t value) { fixed(value, 4); }
  void u64(uint64_t value) { fixed(value, 8); }
  void i64(int64_t value) { fixed(static_cast<uint64_t>(value), 8); }
  void boolean(bool value) { u8(value ? 1 : 0); }
  void optional_i64(const std::optional<int64_t>& value) {
    boolean(value.has_value());
    if (value) i64(*value);
  }
  // REQUIRES: text.size() <= bytes_max (asserted: the caller validated its input).
  void string(std::string_view text, size_t bytes_max) {
    assert(text.size() <= bytes_max);
    (void)bytes_max;
    u32(static_cast<uint32_t>(text.size()));
    out_.append(text);
  }

 private:
  void fixed(uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) out_.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  std::string& out_;
};

// Reads what ByteWriter wrote. Every read checks the remaining length first; after the first
// failure the reader stays failed and every later read returns a zero value, so a decoder can
// read all fields and check `ok()` once (it still never reads outside the input).
class ByteReader {
 public:
  explicit ByteReader(std::string_view bytes) : rest_(bytes) {}

  bool ok() const noexcept { return failed_field_ == nullptr; }
  // The first field that failed, for the corruption message; nullptr when ok.
  const char* failed_field() const noexcept { return failed_field_; }
  // True when every byte was consumed and nothing failed.
  bool finished() const noexcept { return ok() && rest_.empty(); }

  uint8_t u8(const char* field) { return static_cast<uint8_t>(fixed(field, 1)); }
  uint32_t u32(const char* field) { return static_cast<uint32_t>(fixed(field, 4)); }
  uint64_t u64(const char* field) { return fixed(field, 8); }
  int64_t i64(const char* field) { return static_cast<int64_t>(fixed(field, 8)); }
  bool boolean(const char* field) {
    const uint8_t value = u8(field);
    if (value > 1) fail(field);
    return value == 1;
  }
  std::optional<int64_t> optional_i64(const char* field) {
    if (!boolean(field)) return std::nullopt;
    const int64_t value = i64(field);
    if (!ok()) return std::nullopt;
    return value;
  }
  // An enum stored as one byte; values above `max_value` fail.
  uint8_t enumeration(const char* field, uint8_t max_value) {
    const uint8_t value = u8(field);
    if (value > max_value) fail(field);
    return ok() ? value : 0;
  }
  std::string string(const char* field, size_t bytes_max) {
    const uint32_t size = u32(field);
    if (!ok() || size > bytes_max || size > rest_.size()) {
      fail(field);
      return {};
    }
    std::string text(rest_.substr(0, size));
    rest_.remove_prefix(size);
    return text;
  }
  void fail(const char* field) noexcept {
    if (failed_field_ == nullptr) failed_field_ = field;
  }

 private:
  uint64_t fixed(const char* field, size_t bytes) {
    if (!ok() || rest_.size() < bytes) {
      fail(field);
      return 0;
    }
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i) {
      value |= uint64_t{static_cast<uint8_t>(rest_[i])} << (8 * i);
    }
    rest_.remove_prefix(bytes);
    return value;
  }

  std::string_view rest_;
  const char* failed_field_ = nullptr;
};

}  // namespace rsvpd::detail
