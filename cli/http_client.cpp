#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace rsvpd::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

std::optional<HttpEndpoint> parse_http_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.size() > kUrlBytesMax || url.rfind(scheme, 0) != 0) return std::nullopt;
  std::string rest = url.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  if (rest.empty() || rest.find('/') != std::string::npos) return std::nullopt;
  const size_t colon = rest.rfind(':');
  HttpEndpoint endpoint{rest, "80"};
  if (colon != std::string::npos && rest.find(']') == std::string::npos) {
    endpoint.host = rest.substr(0, colon);
    endpoint.port = rest.substr(colon + 1);
    if (endpoint.port.empty() || endpoint.port.size() > 5 ||
        endpoint.port.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
  }
  if (endpoint.host.empty()) return std::nullopt;
  return endpoint;
}

namespace {

http::request<http::string_body> build_request(const HttpEndpoint& endpoint,
                                               const HttpRequest& request) {
  http::request<http::string_body> out{http::string_to_verb(request.method), request.target, 11};
  out.set(http::field::host, endpoint.host + ":" + endpoint.port);
  out.set(http::field::user_agent, "rsvpctl");
  out.set(http::field::accept, "application/json");
  if (!request.bearer_token.empty()) {
    out.set(http::field::authorization, "Bearer " + request.bearer_token);
  }
  if (!request.if_match.empty()) out.set(http::field::if_match, "\"" + request.if_match + "\"");
  if (!request.body.empty()) {
    out.set(http::field::content_type, "application/json");
    out.body() = request.body;
  }
  out.keep_alive(false);
  out.prepare_payload();
  return out;
}

}  // namespace

std::optional<HttpResponse> send_http(const HttpEndpoint& endpoint, const HttpRequest& request,
                                      std::string* error) {
  asio::io_context context;
  asio::ip::tcp::resolver resolver(context);
  beast::tcp_stream stream(context);
  beast::error_code ec;
  const auto timeout = std::chrono::milliseconds(kHttpTimeoutMs);
  const auto addresses = resolver.resolve(endpoint.host, endpoint.port, ec);
  if (ec) {
    *error = "resolve " + endpoint.host + ": " + ec.message();
    return std::nullopt;
  }
  stream.expires_after(timeout);
  stream.connect(addresses, ec);
  if (ec) {
    *error = "connect " + endpoint.host + ":" + endpoint.port + ": " + ec.message();
    return std::nullopt;
  }
  stream.expires_after(timeout);
  http::write(stream, build_request(endpoint, request), ec);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kResponseBodyBytesMax);
  if (!ec) {
    stream.expires_after(timeout);
    http::read(stream, buffer, parser, ec);
  }
  if (ec) {
    *error = "request to " + endpoint.host + ":" + endpoint.port + ": " + ec.message();
    return std::nullopt;
  }
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);  // Best effort.
  const auto& response = parser.get();
  return HttpResponse{static_cast<int>(response.result_int()),
                      std::string(response[http::field::content_type]), response.body()};
}

}  // namespace rsvpd::cli
