// FieldError: one entry of a 422 `invalid-field` problem's "errors" list (API.md, Conventions).
#pragma once

#include <string>

namespace rsvpd::http {

struct FieldError {
  std::string field;    // The body field or query parameter, as the client spelled it.
  std::string message;  // A short human sentence fragment, e.g. "must be an integer from 1 to 500".

  bool operator==(const FieldError&) const = default;
};

}  // namespace rsvpd::http
