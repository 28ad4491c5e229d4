// docs/openapi.yaml against the rsvpd binary: the daemon serves the document byte for byte, every
// operation it lists is routed (never 404 `not-found` nor 405), paths it does not list are 404
// `not-found`, and a method it does not list on one of its paths is 405 with an Allow header
// naming exactly the methods it lists there.
#include <gtest/gtest.h>
#include <picojson.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "tests/http/daemon_process.h"
#include "tests/http/test_client.h"

#ifndef RSVPD_OPENAPI_YAML_PATH
#error "RSVPD_OPENAPI_YAML_PATH must name docs/openapi.yaml (tests/http/openapi_tests.cmake)"
#endif

namespace rsvpd::http::testing {
namespace {

constexpr std::string_view kNotFoundType = "https://rsvpd.dev/problems/not-found";
constexpr std::string_view kCorsOrigin = "https://app.example";
// Every method a client could reasonably try; the document lists a subset per path.
const std::vector<std::string> kProbeMethods = {"GET",    "HEAD",  "POST",   "PUT",
                                                "PATCH",  "DELETE", "OPTIONS"};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string upper(std::string text) {
  for (char& ch : text) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return text;
}

// The operations of the document's `paths:` section: path template → upper-case methods. A
// line-based reader of the layout docs/openapi.yaml keeps: path keys indented by two spaces,
// their operations by four; deeper lines (parameters, responses, block scalars) are skipped.
std::map<std::string, std::set<std::string>> documented_operations(const std::string& yaml) {
  static const std::set<std::string> kOperationKeys = {"get",  "put",     "post", "delete",
                                                       "options", "head", "patch", "trace"};
  std::map<std::string, std::set<std::string>> paths;
  std::istringstream lines(yaml);
  std::string line;
  bool in_paths = false;
  std::string current;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] != ' ') {  // A top-level key starts or ends the section.
      in_paths = line == "paths:";
      continue;
    }
    if (!in_paths || line.back() != ':') continue;
    const std::size_t indent = line.find_first_not_of(' ');
    const std::string key = line.substr(indent, line.size() - indent - 1);
    if (indent == 2 && key.starts_with('/')) {
      current = key;
      paths[current];
    } else if (indent == 4 && !current.empty() && kOperationKeys.contains(key)) {
      paths[current].insert(upper(key));
    }
  }
  return paths;
}

std::vector<std::string> segments_of(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t slash = path.find('/', start);
    const std::size_t end = slash == std::string_view::npos ? path.size() : slash;
    out.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// Whether a concrete path matches a template ("{name}" matches one non-empty segment).
bool matches(const std::string& path, const std::string& path_template) {
  const std::vector<std::string> actual = segments_of(path);
  const std::vector<std::string> wanted = segments_of(path_template);
  if (actual.size() != wanted.size()) return false;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    const bool parameter = wanted[i].starts_with('{') && wanted[i].ends_with('}');
    if (parameter ? actual[i].empty() : actual[i] != wanted[i]) return false;
  }
  return true;
}

// A concrete path for a template: ids that are valid but name nothing (their 404s carry the
// endpoint's own slug, not the router's `not-found`), and a real user for {userId}.
std::string concrete(const std::string& path_template) {
  if (path_template == "/api/v1/rsvps/{id}") return "/api/v1/rsvps/r00000000000000ff";
  std::string path = path_template;
  for (const auto& [name, value] : {std::pair<std::string_view, std::string_view>{"{userId}", "root"},
                                    {"{id}", "no-such"}}) {
    for (std::size_t at = path.find(name); at != std::string::npos; at = path.find(name)) {
      path.replace(at, name.size(), value);
    }
  }
  return path;
}

// A body each operation accepts far enough to be routed and validated.
std::string body_for(const std::string& method, const std::string& path_template) {
  if (method == "POST" && path_template == "/api/v1/activities") return R"({"capacity":1})";
  if (method == "POST" && path_template == "/api/v1/rsvps") return R"({"activity_id":"no-such"})";
  if (method == "PATCH") return "{}";
  return {};
}

std::set<std::string> allow_set(const std::string& allow) {
  std::set<std::string> methods;
  std::istringstream items(allow);
  std::string item;
  while (std::getline(items, item, ',')) {
    const std::size_t first = item.find_first_not_of(' ');
    if (first != std::string::npos) methods.insert(item.substr(first));
  }
  return methods;
}

std::string problem_type(const ClientResponse& response) {
  picojson::value value;
  if (!picojson::parse(value, response.body).empty() || !value.is<picojson::object>()) return {};
  const picojson::object& object = value.get<picojson::object>();
  const auto type = object.find("type");
  return type != object.end() && type->second.is<std::string>() ? type->second.get<std::string>()
                                                                 : std::string();
}

std::string joined(const std::set<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

class OpenApiBinaryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    document_ = read_file(RSVPD_OPENAPI_YAML_PATH);
    ASSERT_FALSE(document_.empty()) << "cannot read " << RSVPD_OPENAPI_YAML_PATH;
    operations_ = documented_operations(document_);
    ASSERT_GE(operations_.size(), 15u) << "the paths: reader found too few paths";
    ASSERT_TRUE(daemon_.start({"--cors-origin", std::string(kCorsOrigin)})) << daemon_.log();
    admin_ = daemon_.auth("root", {"admin"});
  }

  ClientResponse call(std::string_view method, std::string_view target, std::string_view body = {},
                      std::string_view headers = {}) {
    TestClient client(daemon_.port());
    EXPECT_TRUE(client.valid());
    EXPECT_TRUE(client.send_all(TestClient::request(method, target, body, headers)));
    // A HEAD answer has no body, a 204 preflight no Content-Length: read their heads only (each
    // call has its own connection, so nothing is left over for a next response).
    const bool head_only = method == "HEAD" || method == "OPTIONS";
    std::optional<ClientResponse> response =
        head_only ? client.read_response_head_only() : client.read_response();
    EXPECT_TRUE(response.has_value()) << method << " " << target;
    return response.value_or(ClientResponse{});
  }

  DaemonProcess daemon_;
  std::string admin_;
  std::string document_;
  std::map<std::string, std::set<std::string>> operations_;
};

TEST_F(OpenApiBinaryTest, ServesTheDocumentByteForByte) {
  const ClientResponse response = call("GET", "/api/v1/openapi.yaml");
  ASSERT_EQ(response.status, 200) << response.body;
  EXPECT_EQ(response.headers.at("content-type"), "application/yaml");
  EXPECT_EQ(response.headers.at("cache-control"), "public, max-age=3600");
  EXPECT_TRUE(response.headers.contains("x-request-id"));
  // EXPECT_TRUE rather than EXPECT_EQ: a failure must not print 70 KB twice.
  EXPECT_EQ(response.body.size(), document_.size());
  EXPECT_TRUE(response.body == document_) << "the daemon serves another document than "
                                          << RSVPD_OPENAPI_YAML_PATH;
}

TEST_F(OpenApiBinaryTest, DocumentRequestsFollowTheOtherRoutesConventions) {
  // Strict queries like every /api/v1 endpoint, no token needed, CORS as everywhere.
  const ClientResponse query = call("GET", "/api/v1/openapi.yaml?format=json");
  EXPECT_EQ(query.status, 422) << query.body;
  const std::string origin = "Origin: " + std::string(kCorsOrigin) + "\r\n";
  ClientResponse get = call("GET", "/api/v1/openapi.yaml", {}, origin);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.headers["access-control-allow-origin"], kCorsOrigin);
  ClientResponse preflight = call("OPTIONS", "/api/v1/openapi.yaml", {}, origin);
  EXPECT_EQ(preflight.status, 204);
  EXPECT_EQ(preflight.headers["allow"], "GET, OPTIONS");
  EXPECT_EQ(preflight.headers["access-control-allow-methods"], "GET, OPTIONS");
}

TEST_F(OpenApiBinaryTest, ListsTheOperationsEveryRouteServes) {
  // The reader must see what the document plainly says, or the checks below prove nothing.
  ASSERT_TRUE(operations_.contains("/api/v1/activities/{id}"));
  EXPECT_EQ(operations_["/api/v1/activities/{id}"],
            (std::set<std::string>{"GET", "PATCH", "OPTIONS"}));
  ASSERT_TRUE(operations_.contains("/api/v1/openapi.yaml"));
  for (const auto& [path, methods] : operations_) {
    EXPECT_TRUE(methods.contains("OPTIONS")) << path << ": every route answers preflights";
    EXPECT_GE(methods.size(), 2u) << path;
  }
}

TEST_F(OpenApiBinaryTest, EveryDocumentedOperationIsRouted) {
  int requests = 0;
  for (const auto& [path_template, methods] : operations_) {
    for (const std::string& method : methods) {
      const std::string target = concrete(path_template);
      const ClientResponse response =
          call(method, target, body_for(method, path_template), admin_);
      ++requests;
      SCOPED_TRACE(method + " " + target + " → " + std::to_string(response.status) + " " +
                   response.body);
      EXPECT_NE(response.status, 0);
      EXPECT_NE(response.status, 405);
      if (response.status == 404) {
        EXPECT_NE(problem_type(response), kNotFoundType);
      }
      EXPECT_TRUE(response.status < 500 || response.status == 501);
    }
  }
  EXPECT_GE(requests, 30);
}

TEST_F(OpenApiBinaryTest, UndocumentedPathsAreNotFound) {
  const std::vector<std::string> paths = {
      "/api/v1/nope",          "/api/v2/activities",         "/api/v1/activities/x/unknown",
      "/api/v1",               "/api",                       "/",
      "/openapi.yaml",         "/api/v1/openapi.json",       "/api/v1/activities/",
      "/healthz/x",            "/api/v1/users/me",           "/api/v1/users/me/events/x",
      "/api/v1/activities/x/capacity/check/x", "/api/v1/rsvps/user/root/x"};
  for (const std::string& path : paths) {
    for (const auto& [path_template, methods] : operations_) {
      ASSERT_FALSE(matches(path, path_template)) << path << " is documented as " << path_template;
    }
    const ClientResponse response = call("GET", path, {}, admin_);
    EXPECT_EQ(response.status, 404) << path << ": " << response.body;
    EXPECT_EQ(problem_type(response), kNotFoundType) << path;
  }
}

TEST_F(OpenApiBinaryTest, UndocumentedMethodsAreNotAllowedWithTheDocumentedAllow) {
  int probes = 0;
  for (const auto& [path_template, methods] : operations_) {
    for (const std::string& method : kProbeMethods) {
      if (methods.contains(method)) continue;
      const std::string target = concrete(path_template);
      const ClientResponse response = call(method, target, {}, admin_);
      ++probes;
      SCOPED_TRACE(method + " " + target);
      EXPECT_EQ(response.status, 405) << response.body;
      ASSERT_TRUE(response.headers.contains("allow"));
      EXPECT_EQ(allow_set(response.headers.at("allow")), methods)
          << "Allow: " << response.headers.at("allow") << ", documented: " << joined(methods);
    }
  }
  EXPECT_GE(probes, 60);
}

}  // namespace
}  // namespace rsvpd::http::testing
