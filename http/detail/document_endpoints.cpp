#include "http/detail/endpoints.h"
#include "http/detail/openapi_document.h"
#include "http/detail/request_checks.h"

namespace rsvpd::http::detail {
namespace {

// The document changes only with the binary: an hour of caching costs a client at most an hour
// of a stale description after an upgrade. Not "no-store": it is not live state.
constexpr std::string_view kOpenApiCacheControl = "public, max-age=3600";

}  // namespace

void get_openapi_document(const ExchangePtr& exchange) {
  if (!check_no_query(*exchange)) return;
  HttpResponse response;
  response.headers.emplace_back("Content-Type", "application/yaml");  // RFC 9512.
  response.headers.emplace_back("Cache-Control", std::string(kOpenApiCacheControl));
  response.body = std::string(openapi_document());
  exchange->respond(std::move(response));
}

}  // namespace rsvpd::http::detail
