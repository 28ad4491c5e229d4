// rsvpctl activity create|update: changes through the daemon's HTTP API (the daemon is the only
// LMDB writer), authenticated with a short-lived admin token minted from its secret.
#include <time.h>

#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/http_client.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "cli/table.h"
#include "daemon/store_keys.h"
#include "http/jwt_auth.h"

namespace rsvpd::cli {

namespace {

constexpr int64_t kAdminTokenTtlS = 300;  // Long enough for one request and clock skew.
constexpr const char* kActorDefault = "rsvpctl";

struct ActivityFlags {
  std::string action;
  std::string id;
  std::string title;
  int64_t capacity = 0;
  int64_t max_guests = 0;
  std::string waitlist;        // "true" / "false".
  std::string waitlist_limit;  // A number or "none".
  std::string status;
  std::string opens_at, closes_at;  // RFC 3339 or "none".
  std::string host_id;
  std::string if_match;
  std::string url;
  std::string secret_file;
  std::string actor;
};

void add_activity_options(po::options_description& options, ActivityFlags& f) {
  options.add_options()
      ("action", po::value(&f.action)->required(), "create or update")
      ("id", po::value(&f.id), "activity id (create: optional; update: required, or positional)")
      ("title", po::value(&f.title), "title (up to 200 characters)")
      ("capacity", po::value(&f.capacity), "seats, 1..1000000 (create: required)")
      ("max-guests", po::value(&f.max_guests), "guests per RSVP, 0..100")
      ("waitlist", po::value(&f.waitlist), "true or false")
      ("waitlist-limit", po::value(&f.waitlist_limit), "parties, >= 1, or 'none'")
      ("status", po::value(&f.status), "update only: open, closed or archived")
      ("opens-at", po::value(&f.opens_at), "RSVP window start (RFC 3339) or 'none'")
      ("closes-at", po::value(&f.closes_at), "RSVP window end (RFC 3339) or 'none'")
      ("host-id", po::value(&f.host_id), "create only: the host user id")
      ("if-match", po::value(&f.if_match), "update only: the version you expect")
      ("url", po::value(&f.url)->default_value(env_or("RSVPD_URL", kUrlDefault)),
       "the daemon's HTTP API (env RSVPD_URL)")
      ("jwt-secret-file", po::value(&f.secret_file)->default_value(
                              env_or("RSVPD_JWT_SECRET_FILE", "")),
       "the daemon's secret (default <data-dir>/jwt.secret)")
      ("actor", po::value(&f.actor)->default_value(kActorDefault),
       "the sub of the admin token (recorded as the audit actor)");
}

// Adds `name` to the body from a flag given on the command line. Returns false on a bad value.
bool add_nullable(picojson::object& body, const po::variables_map& variables, const char* flag,
                  const char* name, const std::string& value, bool number) {
  if (variables.count(flag) == 0) return true;
  if (value == "none") {
    body[name] = picojson::value();
    return true;
  }
  if (!number) {
    body[name] = picojson::value(value);
    return true;
  }
  if (value.empty() || value.size() > 10 || value.find_first_not_of("0123456789") != std::string::npos) {
    return false;
  }
  body[name] = picojson::value(static_cast<int64_t>(std::stoll(value)));
  return true;
}

std::optional<picojson::object> build_body(const ActivityFlags& f, const po::variables_map& v,
                                           bool create) {
  picojson::object body;
  if (create && v.count("id") != 0) body["id"] = picojson::value(f.id);
  if (v.count("title") != 0) body["title"] = picojson::value(f.title);
  if (v.count("capacity") != 0) body["capacity"] = picojson::value(f.capacity);
  if (v.count("max-guests") != 0) body["max_guests"] = picojson::value(f.max_guests);
  if (v.count("waitlist") != 0) {
    if (f.waitlist != "true" && f.waitlist != "false") return std::nullopt;
    body["waitlist"] = picojson::value(f.waitlist == "true");
  }
  if (!create && v.count("status") != 0) body["status"] = picojson::value(f.status);
  if (create && v.count("host-id") != 0) body["host_id"] = picojson::value(f.host_id);
  if (!add_nullable(body, v, "waitlist-limit", "waitlist_limit", f.waitlist_limit, true) ||
      !add_nullable(body, v, "opens-at", "rsvp_opens_at", f.opens_at, false) ||
      !add_nullable(body, v, "closes-at", "rsvp_closes_at", f.closes_at, false)) {
    return std::nullopt;
  }
  return body;
}

int exit_code_for_http(int status) {
  if (status >= 200 && status < 300) return kExitOk;
  if (status == 401 || status == 403) return kExitAuth;
  if (status == 404) return kExitNotFound;
  if (status == 400 || status == 409 || status == 412 || status == 413 || status == 422) {
    return kExitRejected;
  }
  if (status >= 500) return kExitUnavailable;
  return kExitFailure;
}

void print_response(const HttpResponse& response, bool json) {
  picojson::value body;
  const std::string parse_error = picojson::parse(body, response.body);
  if (json || !parse_error.empty() || !body.is<picojson::object>()) {
    std::cout << response.body << '\n';
    return;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const auto& [key, value] : body.get<picojson::object>()) {
    fields.emplace_back(key, value.is<std::string>() ? value.get<std::string>() : value.serialize());
  }
  if (response.status >= 200 && response.status < 300) {
    print_fields(std::cout, fields);
  } else {
    std::cerr << "rsvpctl: HTTP " << response.status << '\n';
    print_fields(std::cerr, fields);
  }
}

std::optional<std::string> admin_token(const ActivityFlags& f, const CommonOptions& options) {
  const std::string path = f.secret_file.empty() ? options.data_dir + "/jwt.secret" : f.secret_file;
  Result<std::string> secret = http::load_or_create_secret(path, http::SecretFileMode::kMustExist);
  if (!secret.is_ok()) {
    std::cerr << "rsvpctl: secret " << path << ": " << secret.status().to_string() << '\n';
    return std::nullopt;
  }
  const std::vector<std::string> roles = {"admin"};
  Result<std::string> token =
      http::mint_token(secret.value(), f.actor, roles, time(nullptr) + kAdminTokenTtlS);
  if (!token.is_ok()) {
    std::cerr << "rsvpctl: " << token.status().to_string() << '\n';
    return std::nullopt;
  }
  return token.value();
}

}  // namespace

int run_activity(const Args& args) {
  CommandLine line{"rsvpctl activity create|update [ACTIVITY] [OPTIONS]",
                   "Creates or changes an activity through the daemon's HTTP API with an admin\n"
                   "token minted from its secret; prints the activity, or the problem (exit 8 when\n"
                   "refused: 400/409/412/422; 7 on 401/403; 4 on 404; 9 when unreachable or 5xx)."};
  CommonOptions options;
  ActivityFlags flags;
  add_common_options(line.options, options);
  add_activity_options(line.options, flags);
  line.positional.add("action", 1).add("id", 1);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  const bool create = flags.action == "create";
  const auto endpoint = parse_http_url(flags.url);
  const auto body = build_body(flags, variables, create);
  if ((!create && flags.action != "update") || !endpoint || !body ||
      (create && variables.count("capacity") == 0) || (!create && !is_valid_id(flags.id))) {
    std::cerr << "rsvpctl: usage: " << line.usage << " (see --help)\n";
    return kExitUsage;
  }
  const auto token = admin_token(flags, options);
  if (!token) return kExitAuth;
  HttpRequest request{create ? "POST" : "PATCH",
                      create ? "/api/v1/activities" : "/api/v1/activities/" + flags.id,
                      picojson::value(*body).serialize(), *token, create ? "" : flags.if_match};
  std::string error;
  const auto response = send_http(*endpoint, request, &error);
  if (!response) {
    std::cerr << "rsvpctl: daemon unavailable: " << error << '\n';
    return kExitUnavailable;
  }
  print_response(*response, options.json);
  return exit_code_for_http(response->status);
}

}  // namespace rsvpd::cli
