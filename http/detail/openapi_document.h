// The OpenAPI document (docs/openapi.yaml), embedded at build time: CMake generates its
// definition into the build directory (http/embed_file.cmake), so the daemon serves exactly the
// file it was built from.
#pragma once

#include <string_view>

namespace rsvpd::http::detail {

// The document's bytes, unchanged. Static storage; thread-safe.
std::string_view openapi_document() noexcept;

}  // namespace rsvpd::http::detail
