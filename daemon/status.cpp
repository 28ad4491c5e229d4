#include "daemon/status.h"

namespace rsvpd {

std::string_view status_code_name(StatusCode code) noexcept {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kNotFound: return "not-found";
    case StatusCode::kAlreadyExists: return "already-exists";
    case StatusCode::kInvalidArgument: return "invalid-argument";
    case StatusCode::kConflict: return "conflict";
    case StatusCode::kBusy: return "busy";
    case StatusCode::kMapFull: return "map-full";
    case StatusCode::kStorageFull: return "storage-full";
    case StatusCode::kOverloaded: return "overloaded";
    case StatusCode::kTimeout: return "timeout";
    case StatusCode::kIoError: return "io-error";
    case StatusCode::kCorruption: return "corruption";
    case StatusCode::kShutdown: return "shutdown";
  }
  return "unknown";
}

std::string Status::to_string() const {
  std::string text(status_code_name(code_));
  if (!message_.empty()) {
    text += ": ";
    text += message_;
  }
  return text;
}

}  // namespace rsvpd
