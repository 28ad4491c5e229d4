// fuzz_http_request: the bytes a client sends on one connection, through the transport-agnostic
// connection core (Beast's request parser, pipelining, in-order responses) into ApiHandler
// (router, CORS, authentication, body and field checks, endpoints) over the FakeService of the
// unit tests. No sockets, no engine, no LMDB: a "loop" here drains the Inbox the sinks answer
// through and collects the core's output, as asio_loop/uring_loop do.
//
// Every input runs twice: fed in receive-sized chunks (kReceiveChunkBytes, what a transport
// reads at most), and in small uneven chunks. Properties:
//   - every dispatched request is answered exactly once, in order, with no stream (no hub);
//   - every response has exactly one X-Request-Id (the client's when valid), no CR/LF in any
//     header, a JSON or problem+json body that is strict JSON (a problem's status and
//     request_id match the response), WWW-Authenticate on 401;
//   - routing: an unmatched target is 404; OPTIONS on a route is 204 with the route's Allow; a
//     method the route does not allow is 405 with that Allow; a 2xx answers an allowed method
//     on a matched route; a 2xx on a non-public route carries a token that verifies;
//   - a request that changed the service state is a POST/PATCH/DELETE answered 200/201, and a
//     request answered 4xx/5xx changed nothing;
//   - the output is a well-formed sequence of HTTP/1.1 responses (Beast's response parser, HEAD
//     bodies omitted) whose final statuses are exactly the answered ones, in order, and only
//     the last may say Connection: close;
//   - chunking changes nothing: both runs answer the same statuses in the same order.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <picojson.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/clock.h"
#include "http/api_handler.h"
#include "http/detail/connection_core.h"
#include "http/detail/inbox.h"
#include "http/detail/router.h"
#include "http/identifiers.h"
#include "http/json_body.h"
#include "http/json_log.h"
#include "http/jwt_auth.h"
#include "http/problem.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/http/fake_service.h"

namespace rsvpd::http {
namespace {

namespace bhttp = boost::beast::http;
using detail::Route;

const std::string kOrigin = "https://app.example";
constexpr int64_t kSteadyMs = 1000;  // The core's steady clock; nothing here times out.

std::string printable(std::string_view text, std::size_t max = 400) {
  std::string out;
  for (const char c : text.substr(0, max)) {
    if ((c >= 0x20 && c < 0x7F) || c == '\n') {
      out += c;
    } else if (c == '\r') {
      out += "\\r";
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    }
  }
  return out;
}

std::string header_of(const bhttp::fields& headers, std::string_view name) {
  const auto found = headers.find(boost::beast::string_view(name.data(), name.size()));
  if (found == headers.end()) return {};
  return std::string(found->value());
}

// What the handler saw of one dispatched request.
struct Dispatched {
  bhttp::verb method = bhttp::verb::unknown;
  std::string target;
  std::string authorization;
  std::string request_id;
  std::string origin;
  int changes_before = 0;
  int changes_after = 0;
  std::optional<HttpResponse> response;
};

// Sits between the core and ApiHandler to record requests and the service's change count.
class RecordingHandler final : public RequestHandler {
 public:
  RecordingHandler(ApiHandler& api, testing::FakeService& service) : api_(api), service_(service) {}

  void handle(HttpRequest&& request, ResponseSink sink) override {
    Dispatched& d = dispatched.emplace_back();
    d.method = request.method;
    d.target = request.target;
    d.authorization = header_of(request.headers, "Authorization");
    d.request_id = header_of(request.headers, "X-Request-Id");
    d.origin = header_of(request.headers, "Origin");
    d.changes_before = service_.changes();
    api_.handle(std::move(request), std::move(sink));
    // FakeService answers changes synchronously, so the change (if any) has happened.
    dispatched.back().changes_after = service_.changes();
  }

  HttpResponse reject(RejectReason reason) override {
    FUZZ_CHECK(!rejected, "a second reject on one connection");
    rejected = true;
    reject_reason = reason;
    // The core answers a reject itself (ConnectionCore::reject), not through a sink.
    reject_response = api_.reject(reason);
    return *reject_response;
  }

  std::vector<Dispatched> dispatched;
  bool rejected = false;
  RejectReason reject_reason = RejectReason::kBadRequest;
  std::optional<HttpResponse> reject_response;

 private:
  ApiHandler& api_;
  testing::FakeService& service_;
};

std::FILE* null_log() {
  static std::FILE* file = std::fopen("/dev/null", "w");
  return file;
}

bool is_public(Route route) {
  switch (route) {
    case Route::kHealthz:
    case Route::kReadyz:
    case Route::kMetrics:
    case Route::kActivity:  // GET only; PATCH is checked by the method test below.
    case Route::kCapacity:
    case Route::kCapacityCheck:
    case Route::kActivityEvents:
    case Route::kOpenApiDocument:
      return true;
    default:
      return false;
  }
}

bool is_change(bhttp::verb method) {
  return method == bhttp::verb::post || method == bhttp::verb::patch ||
         method == bhttp::verb::delete_;
}

// One connection's worth of handler, service and core.
class Connection {
 public:
  Connection()
      : clock_(fuzz::kNowMs),
        verifier_(clock_, fuzz::kSecret),
        service_(clock_),
        log_(LogLevel::kDebug, clock_, null_log()),
        api_(options(), service_, verifier_, clock_, log_),
        handler_(api_, service_),
        inbox_(std::make_shared<detail::Inbox>([] {})),
        core_(limits(), handler_, inbox_, 3, 5, "127.0.0.1:40000", kSteadyMs) {
    // This thread plays the io loop: answers posted here run at once, as they do on a loop.
    detail::Inbox::current() = inbox_.get();
  }
  ~Connection() { detail::Inbox::current() = nullptr; }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  static ApiOptions options() {
    ApiOptions result;
    result.cors_origins = {kOrigin};
    result.request_id_seed = 42;
    return result;
  }
  // Small limits, so short inputs reach 413 and 431 too.
  static detail::CoreLimits limits() {
    detail::CoreLimits result;
    result.header_bytes_max = 2048;
    result.body_bytes_max = 2048;
    return result;
  }

  // Feeds `stream` in chunks of the sizes `chunk(i)` gives (clamped to what a read returns).
  template <typename ChunkSize>
  void run(std::string_view stream, ChunkSize chunk) {
    std::size_t position = 0;
    for (std::size_t i = 0; position < stream.size(); ++i) {
      if (!core_.wants_read() && !core_.lingering()) break;  // Closed, or the pipeline is full.
      const std::size_t size =
          std::min({std::max<std::size_t>(chunk(i), 1), detail::kReceiveChunkBytes,
                    stream.size() - position});
      core_.on_received(stream.substr(position, size), kSteadyMs);
      position += size;
      pump();
    }
    pump();
  }

  std::size_t dispatched() const { return handler_.dispatched.size(); }

  void pump() {
    std::vector<detail::Completion> completions;
    while (true) {
      bool progress = false;
      inbox_->drain(completions);
      for (detail::Completion& completion : completions) {
        if (completion.kind == detail::CompletionKind::kTask) {  // As the loop's drain_turn.
          completion.task();
          progress = true;
          continue;
        }
        FUZZ_CHECK(completion.slot == 3 && completion.generation == 5, "completion address");
        FUZZ_CHECK(completion.kind == detail::CompletionKind::kResponse,
                   "a stream without an event hub");
        record(completion.sequence, completion.response);
        core_.on_completion(std::move(completion), kSteadyMs);
        progress = true;
      }
      const std::string_view output = core_.pending_output();
      if (!output.empty()) {
        output_.append(output);
        core_.on_written(output.size(), kSteadyMs);
        progress = true;
      }
      if (core_.wants_close() && !core_.lingering()) core_.start_linger(kSteadyMs);
      if (!progress) break;
    }
  }

  // The final statuses, in request order (the reject's last), checked against the output bytes.
  std::vector<int> finish(std::string_view input) {
    const std::string what = "input: " + printable(input);
    std::vector<int> statuses;
    for (const Dispatched& d : handler_.dispatched) {
      FUZZ_CHECK(d.response.has_value(), what + "\nrequest " + printable(d.target) +
                                             " was never answered");
      statuses.push_back(d.response->status);
    }
    if (handler_.rejected) {
      const HttpResponse& response = *handler_.reject_response;
      check_common(response, "reject");
      const RejectReason reason = handler_.reject_reason;
      const int expected = reason == RejectReason::kHeaderTooLarge ? 431
                           : reason == RejectReason::kBodyTooLarge  ? 413
                                                                     : 400;
      FUZZ_CHECK(response.status == expected, what + "\nreject answered " +
                                                  std::to_string(response.status));
      statuses.push_back(response.status);
    }
    check_output(statuses, what);
    return statuses;
  }

 private:
  void record(uint64_t sequence, const HttpResponse& response) {
    FUZZ_CHECK(sequence < handler_.dispatched.size(), "a response for a request never made");
    Dispatched& d = handler_.dispatched[sequence];
    FUZZ_CHECK(!d.response.has_value(), "answered twice: " + printable(d.target));
    d.response = response;
    check_response(d, response);
  }

  static std::vector<std::string> values_of(const HttpResponse& response, std::string_view name) {
    std::vector<std::string> values;
    for (const auto& [key, value] : response.headers) {
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) ==
                   std::tolower(static_cast<unsigned char>(b));
          })) {
        values.push_back(value);
      }
    }
    return values;
  }

  // What every response, the reject included, must satisfy.
  void check_common(const HttpResponse& response, const std::string& what) {
    FUZZ_CHECK(response.status >= 200 && response.status <= 599,
               what + "\nstatus " + std::to_string(response.status));
    for (const auto& [name, value] : response.headers) {
      FUZZ_CHECK(!name.empty() && name.find_first_of("\r\n: ") == std::string::npos &&
                     value.find_first_of("\r\n") == std::string::npos,
                 what + "\nheader " + printable(name) + ": " + printable(value));
    }
    const std::vector<std::string> ids = values_of(response, "X-Request-Id");
    FUZZ_CHECK(ids.size() == 1 && is_valid_request_id(ids.front()), what + "\nX-Request-Id");
    if (response.status == 204) FUZZ_CHECK(response.body.empty(), what + "\n204 with a body");
    const std::vector<std::string> types = values_of(response, "Content-Type");
    FUZZ_CHECK(types.size() <= 1, what + "\nContent-Type twice");
    if (!response.body.empty()) FUZZ_CHECK(types.size() == 1, what + "\nbody without a type");
    if (types.empty()) return;
    const bool problem = types.front() == kProblemContentType;
    if (!problem && types.front().rfind("application/json", 0) != 0) return;
    Result<picojson::value> body = parse_json_object(response.body);
    FUZZ_CHECK(body.is_ok() || response.body.size() > kJsonBodyBytesMax,
               what + "\nbody is not strict JSON: " + printable(response.body));
    if (!problem || !body.is_ok()) return;
    const picojson::object& object = body->get<picojson::object>();
    const auto status = object.find("status");
    const auto request_id = object.find("request_id");
    const auto type = object.find("type");
    FUZZ_CHECK(status != object.end() && status->second.is<int64_t>() &&
                   status->second.get<int64_t>() == response.status,
               what + "\nproblem status: " + printable(response.body));
    FUZZ_CHECK(request_id != object.end() && request_id->second.is<std::string>() &&
                   request_id->second.get<std::string>() == ids.front(),
               what + "\nproblem request_id: " + printable(response.body));
    FUZZ_CHECK(type != object.end() && type->second.is<std::string>() &&
                   type->second.get<std::string>().rfind(kProblemTypePrefix, 0) == 0,
               what + "\nproblem type: " + printable(response.body));
  }

  void check_response(const Dispatched& d, const HttpResponse& response) {
    const std::string what = std::string(bhttp::to_string(d.method)) + " " + printable(d.target);
    check_common(response, what);
    const int status = response.status;
    if (is_valid_request_id(d.request_id)) {
      FUZZ_CHECK(values_of(response, "X-Request-Id").front() == d.request_id,
                 what + "\na valid X-Request-Id was not echoed");
    }
    const bool cors = d.origin == kOrigin;
    FUZZ_CHECK(values_of(response, "Access-Control-Allow-Origin").size() == (cors ? 1u : 0u),
               what + "\nCORS headers");

    const detail::RouteMatch match = detail::match_route(d.target);
    if (match.route == Route::kNotFound) {
      FUZZ_CHECK(status == 404, what + "\nunmatched route answered " + std::to_string(status));
    } else if (d.method == bhttp::verb::options) {
      FUZZ_CHECK(status == 204, what + "\npreflight answered " + std::to_string(status));
      const std::vector<std::string> allow = values_of(response, "Allow");
      FUZZ_CHECK(allow.size() == 1 && allow.front() == detail::allowed_methods(match.route),
                 what + "\npreflight Allow");
    } else if (!detail::route_allows(match.route, d.method)) {
      FUZZ_CHECK(status == 405, what + "\ndisallowed method answered " + std::to_string(status));
      const std::vector<std::string> allow = values_of(response, "Allow");
      FUZZ_CHECK(allow.size() == 1 && allow.front() == detail::allowed_methods(match.route),
                 what + "\n405 Allow");
    } else {
      FUZZ_CHECK(status != 405, what + "\nallowed method answered 405");
    }
    if (status >= 200 && status < 300) {
      FUZZ_CHECK(match.route != Route::kNotFound, what + "\n2xx on no route");
      if (d.method != bhttp::verb::options &&
          (!is_public(match.route) || is_change(d.method)) &&
          match.route != Route::kCapacityCheck) {
        FUZZ_CHECK(verifier_.verify(d.authorization).is_ok(),
                   what + "\n2xx without a valid token: " + printable(d.authorization));
      }
    }
    if (status == 401) {
      FUZZ_CHECK(values_of(response, "WWW-Authenticate").size() == 1, what + "\n401 challenge");
    }
    if (d.changes_after != d.changes_before) {
      FUZZ_CHECK(d.changes_after == d.changes_before + 1 && is_change(d.method) &&
                     (status == 200 || status == 201),
                 what + "\na change answered " + std::to_string(status));
    }
    if (status >= 400) {
      FUZZ_CHECK(d.changes_after == d.changes_before, what + "\nrefused but changed state");
    }
  }

  // The output must be exactly the answered responses, in order, as HTTP/1.1.
  void check_output(const std::vector<int>& statuses, const std::string& what) {
    std::string_view rest = output_;
    std::size_t index = 0;
    bool closed = false;
    while (!rest.empty()) {
      FUZZ_CHECK(!closed, what + "\nbytes after Connection: close: " + printable(rest));
      bhttp::response_parser<bhttp::string_body> parser;
      parser.eager(true);
      parser.body_limit(64 * 1024 * 1024);
      const bool head = index < handler_.dispatched.size() &&
                        handler_.dispatched[index].method == bhttp::verb::head;
      if (head) parser.skip(true);
      boost::system::error_code ec;
      const std::size_t used = parser.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      FUZZ_CHECK(!ec && parser.is_done(),
                 what + "\nunparseable output (" + ec.message() + "): " + printable(rest));
      rest.remove_prefix(used);
      const auto& message = parser.get();
      FUZZ_CHECK(message.version() == 11, what + "\nnot HTTP/1.1");
      const int status = static_cast<int>(message.result_int());
      if (status == 100) continue;  // The interim answer to Expect: 100-continue.
      FUZZ_CHECK(index < statuses.size(), what + "\nmore responses than requests");
      FUZZ_CHECK(status == statuses[index],
                 what + "\nresponse " + std::to_string(index) + " is " + std::to_string(status) +
                     ", answered " + std::to_string(statuses[index]));
      closed = !message.keep_alive();
      ++index;
    }
    FUZZ_CHECK(index == statuses.size(),
               what + "\n" + std::to_string(statuses.size()) + " answered, " +
                   std::to_string(index) + " written");
    if (handler_.rejected) FUZZ_CHECK(closed, what + "\na reject that did not close");
  }

  ManualClock clock_;
  JwtVerifier verifier_;
  testing::FakeService service_;
  JsonLog log_;
  ApiHandler api_;
  RecordingHandler handler_;
  std::shared_ptr<detail::Inbox> inbox_;
  detail::ConnectionCore core_;
  std::string output_;
};

}  // namespace
}  // namespace rsvpd::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace rsvpd::http;
  const std::string_view stream(reinterpret_cast<const char*>(data), size);
  std::vector<int> whole;
  std::size_t whole_dispatched = 0;
  {
    Connection connection;
    connection.run(stream, [](std::size_t) { return detail::kReceiveChunkBytes; });
    whole = connection.finish(stream);
    whole_dispatched = connection.dispatched();
  }
  std::vector<int> pieces;
  std::size_t pieces_dispatched = 0;
  {
    Connection connection;
    static constexpr std::size_t kSizes[] = {1, 7, 2, 64, 3, 19, 500, 5};
    connection.run(stream, [](std::size_t i) { return kSizes[i % std::size(kSizes)]; });
    pieces = connection.finish(stream);
    pieces_dispatched = connection.dispatched();
  }
  // Beast checks the characters of a request line or header only once it has all of it, or in
  // the first put() that sees its beginning: a bad byte in an unfinished request is answered 400
  // at once when it arrives with that beginning, and later (400, or 431 once the header limit
  // is reached) or never (the input ends) when it arrives after it. So only the dispatched
  // requests' answers must agree; the reject of an unfinished last request may differ.
  whole.resize(whole_dispatched);
  pieces.resize(pieces_dispatched);
  const auto list = [](const std::vector<int>& statuses) {
    std::string text;
    for (const int status : statuses) text += " " + std::to_string(status);
    return text;
  };
  FUZZ_CHECK(whole == pieces, "input: " + printable(stream) + "\nchunking changed the answers:" +
                                  list(whole) + " in one piece," + list(pieces) + " in pieces");
  return 0;
}
