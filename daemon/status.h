// Status and Result: the value types every module returns for operating errors (DESIGN.md §5).
//
// Programmer errors abort through assertions; everything an operator or a client can cause
// (full, closed, contended, map full, timeout, bad input) comes back as a Status. No exception
// crosses a module boundary.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace rsvpd {

enum class StatusCode {
  kOk = 0,
  kNotFound,        // The named thing does not exist.
  kAlreadyExists,   // Creating something that exists.
  kInvalidArgument, // Input rejected before anything was changed.
  kConflict,        // The current state forbids the change (a 409 family).
  kBusy,            // Another process holds a resource (e.g. the data dir lock).
  kMapFull,         // LMDB map is full; the caller may grow the map and retry.
  kStorageFull,     // ENOSPC / EFBIG / a map that cannot grow: writes fail, reads keep working.
  kOverloaded,      // A bounded queue or table is full; nothing was taken.
  kTimeout,         // A bounded wait ran out.
  kIoError,         // EIO and other errors from the operating system.
  kCorruption,      // Stored data failed to decode or a schema version does not match.
  kShutdown,        // The component is stopping and no longer accepts work.
};

std::string_view status_code_name(StatusCode code) noexcept;

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }

  bool is_ok() const noexcept { return code_ == StatusCode::kOk; }
  StatusCode code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  // "<code name>: <message>", for logs.
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// A value or the Status that explains its absence. REQUIRES: a Result built from a Status
// holds a non-ok one.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design, like expected.
  Result(Status status) : status_(std::move(status)) { assert(!status_.is_ok()); }

  bool is_ok() const noexcept { return value_.has_value(); }
  const Status& status() const noexcept { return status_; }
  T& value() & { assert(is_ok()); return *value_; }
  const T& value() const& { assert(is_ok()); return *value_; }
  T&& value() && { assert(is_ok()); return std::move(*value_); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace rsvpd
