// rsvpd-load: the HTTP load driver for rsvpd (and for nginx, to calibrate it).
//
// Usage: see benchmarks/README.md or `rsvpd-load --help`. In short:
//   rsvpd-load --target 127.0.0.1:8080 --scenario spread --connections 256 --duration-s 10
//              --secret-file DATA/jwt.secret [--rate 20000] [--json-out out.json]
// Setup creates the run's activities through the API with an admin token minted from the
// daemon's secret (or given with --token); RSVPs are made on behalf of a unique user per
// request. After the run it verifies the invariants through the API (see loadgen/verify.h).
// Exit status: 0 when the run completed and verification (if any) passed; 1 when verification
// failed or no request succeeded; 2 on a usage or setup error.
#include <sys/resource.h>

#include <boost/program_options.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "benchmarks/loadgen/api_client.h"
#include "benchmarks/loadgen/driver.h"
#include "benchmarks/loadgen/verify.h"
#include "http/jwt_auth.h"

namespace rsvpd::loadgen {
namespace {

namespace po = boost::program_options;

constexpr int kActivitiesMax = 100'000;
constexpr int kCapacityMax = 1'000'000;     // API.md's capacity range.
constexpr int kGuestsMax = 100;             // API.md's max_guests range.
constexpr int64_t kTokenLifetimeSeconds = 24 * 3600;
constexpr rlim_t kFileDescriptorsSpare = 64;  // Beyond the connections: setup, verify, stdio.
constexpr const char* kAdminSubject = "rsvpd-load-admin";
constexpr int kUserTokensMax = 1'000'000;

struct Options {
  std::string target = "127.0.0.1:8080";
  std::string scenario = "static";
  int connections = 64;
  int threads = 1;
  double duration_s = 10;
  double warmup_s = 1;
  double rate = 0;
  uint64_t requests_max = kRequestsMax;
  int timeout_ms = 5000;
  int activities = 0;  // 0: the scenario's default.
  int capacity = 1000;
  int guests = 0;
  int user_tokens = 0;
  std::string mix = "80:15:5";
  std::string path = "/";
  std::string secret_file;
  std::string token;
  std::string json_out;
  std::string activity_id;  // hot: book this existing activity instead of creating one.
  bool verify = true;
};

struct Setup {
  Plan plan;
  std::string admin_token;
};

bool parse_options(int argc, char** argv, Options& o) {
  po::options_description d("rsvpd-load options");
  d.add_options()("help,h", "this help")
    ("target", po::value(&o.target)->default_value(o.target), "IPv4 HOST:PORT (loopback)")
    ("scenario", po::value(&o.scenario)->default_value(o.scenario),
     "static | capacity-read | spread | hot | mixed")
    ("connections,c", po::value(&o.connections)->default_value(o.connections), "keep-alive connections")
    ("threads,t", po::value(&o.threads)->default_value(o.threads), "threads (one io_context each)")
    ("duration-s,d", po::value(&o.duration_s)->default_value(o.duration_s), "measured seconds")
    ("warmup-s", po::value(&o.warmup_s)->default_value(o.warmup_s), "unmeasured seconds first")
    ("rate,R", po::value(&o.rate)->default_value(o.rate), "open loop: offered req/s (0: closed loop)")
    ("requests-max", po::value(&o.requests_max)->default_value(o.requests_max), "stop after this many")
    ("timeout-ms", po::value(&o.timeout_ms)->default_value(o.timeout_ms), "per-request timeout")
    ("activities", po::value(&o.activities)->default_value(o.activities),
     "activities to create (0: 100, or 1 for hot)")
    ("capacity", po::value(&o.capacity)->default_value(o.capacity), "seats per activity")
    ("guests", po::value(&o.guests)->default_value(o.guests), "guests per RSVP")
    ("user-tokens", po::value(&o.user_tokens)->default_value(o.user_tokens),
     "pre-mint this many per-user tokens and RSVP with them (0: admin on behalf of user_id)")
    ("mix", po::value(&o.mix)->default_value(o.mix), "mixed: read:rsvp:cancel percentages")
    ("path", po::value(&o.path)->default_value(o.path), "static: the URL path to GET")
    ("secret-file", po::value(&o.secret_file), "the daemon's jwt.secret, to mint an admin token")
    ("token", po::value(&o.token), "an admin bearer token (instead of --secret-file)")
    ("json-out", po::value(&o.json_out), "write the results as JSON to this file")
    ("activity-id", po::value(&o.activity_id),
     "hot: book this existing activity (e.g. one others watch) instead of creating one")
    ("no-verify", "skip the invariant check after the run");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, d), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "rsvpd-load: " << e.what() << "\n" << d;
    return false;
  }
  if (vm.count("help")) {
    std::cout << d;
    std::exit(0);
  }
  o.verify = vm.count("no-verify") == 0;
  return true;
}

bool parse_scenario(const std::string& name, Scenario& out) {
  static const std::pair<const char*, Scenario> kNames[] = {
      {"static", Scenario::kStatic}, {"capacity-read", Scenario::kCapacityRead},
      {"spread", Scenario::kSpread}, {"hot", Scenario::kHot}, {"mixed", Scenario::kMixed}};
  for (const auto& [text, scenario] : kNames) {
    if (name == text) {
      out = scenario;
      return true;
    }
  }
  return false;
}

// Fills the limits-checked parts of the plan; false with a message on bad input.
bool validate(const Options& o, Plan& plan, std::string& error) {
  const auto colon = o.target.rfind(':');
  const int port = colon == std::string::npos ? 0 : std::atoi(o.target.c_str() + colon + 1);
  if (port <= 0 || port > 65535) return error = "--target must be HOST:PORT", false;
  plan.host = o.target.substr(0, colon);
  plan.port = static_cast<uint16_t>(port);
  if (!parse_scenario(o.scenario, plan.scenario)) return error = "unknown --scenario", false;
  if (o.connections < 1 || o.connections > kConnectionsMax) return error = "--connections out of range", false;
  if (o.threads < 1 || o.threads > kThreadsMax || o.threads > o.connections) {
    return error = "--threads must be 1..min(64, connections)", false;
  }
  if (!(o.duration_s > 0 && o.duration_s <= kDurationSecondsMax)) return error = "--duration-s must be in (0, 600]", false;
  if (!(o.warmup_s >= 0 && o.warmup_s <= kWarmupSecondsMax)) return error = "--warmup-s must be in [0, 60]", false;
  if (o.rate < 0 || o.timeout_ms < 1 || o.requests_max < 1 || o.requests_max > kRequestsMax) {
    return error = "--rate, --timeout-ms or --requests-max out of range", false;
  }
  if (o.activities < 0 || o.activities > kActivitiesMax || o.capacity < 1 ||
      o.capacity > kCapacityMax || o.guests < 0 || o.guests > kGuestsMax ||
      o.user_tokens < 0 || o.user_tokens > kUserTokensMax) {
    return error = "--activities, --capacity, --guests or --user-tokens out of range", false;
  }
  if (!o.activity_id.empty() && plan.scenario != Scenario::kHot) {
    return error = "--activity-id goes with --scenario hot", false;
  }
  int cancel = 0;
  if (std::sscanf(o.mix.c_str(), "%d:%d:%d", &plan.read_percent, &plan.rsvp_percent, &cancel) != 3 ||
      plan.read_percent < 0 || plan.rsvp_percent < 0 || cancel < 0 ||
      plan.read_percent + plan.rsvp_percent + cancel != 100) {
    return error = "--mix must be three percentages adding up to 100", false;
  }
  plan.connections = o.connections;
  plan.threads = o.threads;
  plan.rate_per_second = o.rate;
  plan.requests_max = o.requests_max;
  plan.timeout_ns = int64_t{o.timeout_ms} * 1'000'000;
  plan.warmup_ns = static_cast<int64_t>(o.warmup_s * 1e9);
  plan.duration_ns = static_cast<int64_t>(o.duration_s * 1e9);
  plan.guests = o.guests;
  plan.static_path = o.path;
  return true;
}

bool raise_file_limit(int connections, std::string& error) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return error = "getrlimit failed", false;
  const rlim_t wanted = static_cast<rlim_t>(connections) + kFileDescriptorsSpare;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(std::max(wanted, limit.rlim_cur), limit.rlim_max);
    if (limit.rlim_cur < wanted) {
      limit.rlim_max = wanted;  // Raising the hard limit needs CAP_SYS_RESOURCE (root has it).
      limit.rlim_cur = wanted;
    }
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      return error = "cannot raise RLIMIT_NOFILE to " + std::to_string(wanted), false;
    }
  }
  return true;
}

std::string run_prefix() {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  return "lg" + std::to_string(ms);
}

int64_t unix_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch()).count();
}

// Mints the admin token (or takes --token) and, with --user-tokens, the per-user tokens.
bool mint_tokens(const Options& o, Plan& plan, std::string& error) {
  if (!o.token.empty() && o.user_tokens == 0) return plan.bearer_token = o.token, true;
  if (o.secret_file.empty()) return error = "this scenario needs --secret-file (or --token)", false;
  auto secret = http::load_or_create_secret(o.secret_file, http::SecretFileMode::kMustExist);
  if (!secret.is_ok()) return error = "secret: " + secret.status().message(), false;
  const int64_t exp_s = unix_seconds() + kTokenLifetimeSeconds;
  const std::vector<std::string> admin_roles = {"admin"};
  auto admin = http::mint_token(secret.value(), kAdminSubject, admin_roles, exp_s);
  if (!admin.is_ok()) return error = "mint: " + admin.status().message(), false;
  plan.bearer_token = o.token.empty() ? std::move(admin).value() : o.token;
  plan.user_tokens.reserve(static_cast<std::size_t>(o.user_tokens));
  for (int i = 0; i < o.user_tokens; ++i) {
    const std::string sub = plan.user_prefix + ".u" + std::to_string(i);
    auto token = http::mint_token(secret.value(), sub, {}, exp_s);
    if (!token.is_ok()) return error = "mint: " + token.status().message(), false;
    plan.user_tokens.push_back(std::move(token).value());
  }
  return true;
}

// Creates the run's activities through the API; false with the first failure. With
// --activity-id, checks that the given activity exists and uses it instead.
bool create_activities(ApiClient& client, const Options& o, Plan& plan, std::string& error) {
  if (!o.activity_id.empty()) {
    const auto reply = client.call("GET", "/api/v1/activities/" + o.activity_id);
    if (!reply || reply->status != 200) {
      error = "activity " + o.activity_id + ": " +
              (reply ? std::to_string(reply->status) + " " + reply->body : client.last_error());
      return false;
    }
    plan.activity_ids.push_back(o.activity_id);
    return true;
  }
  int count = o.activities > 0 ? o.activities : 100;
  if (plan.scenario == Scenario::kHot) count = 1;
  for (int i = 0; i < count; ++i) {
    std::string id = plan.user_prefix + "-a" + std::to_string(i);
    std::string body = "{\"id\":\"" + id + "\",\"title\":\"rsvpd-load\",\"capacity\":" +
                       std::to_string(o.capacity) + ",\"max_guests\":" + std::to_string(o.guests) +
                       ",\"waitlist\":true}";
    const auto reply = client.call("POST", "/api/v1/activities", body);
    if (!reply || reply->status != 201) {
      error = "creating activity " + id + ": " +
              (reply ? std::to_string(reply->status) + " " + reply->body : client.last_error());
      return false;
    }
    plan.activity_ids.push_back(std::move(id));
  }
  return true;
}

double ms(uint64_t ns) { return static_cast<double>(ns) / 1e6; }

std::string status_list(const ThreadStats& s) {
  std::ostringstream out;
  for (int code = 0; code < kStatusCodesMax; ++code) {
    if (s.status_counts[code] > 0) out << (out.tellp() > 0 ? ", " : "") << code << ": " << s.status_counts[code];
  }
  return out.str();
}

void print_table(const Options& o, const Plan& plan, const ThreadStats& s, double rps,
                 const VerifyReport* verify) {
  std::printf("rsvpd-load  %s  scenario=%s  %s  connections=%d threads=%d  %.1f s (+%.1f s warmup)\n",
              o.target.c_str(), o.scenario.c_str(),
              plan.rate_per_second > 0 ? ("open loop " + std::to_string(static_cast<long>(plan.rate_per_second)) + " req/s").c_str() : "closed loop",
              plan.connections, plan.threads, o.duration_s, o.warmup_s);
  std::printf("  caveat: the driver shares this machine's cores with the server\n");
  std::printf("  throughput  %.0f req/s  (sent %lu, measured %lu)\n", rps,
              static_cast<unsigned long>(s.sent), static_cast<unsigned long>(s.completed_in_window));
  std::printf("  latency ms  %-9s %-9s %-9s %-9s %-9s %-9s\n", "p50", "p95", "p99", "p99.9", "max", "(n)");
  for (const auto& [name, h] : {std::pair<const char*, const Histogram*>{plan.rate_per_second > 0 ? "  from intended" : "  from send", &s.latency},
                                {"  service", &s.service}}) {
    std::printf("%-14s %-9.3f %-9.3f %-9.3f %-9.3f %-9.3f %lu\n", name, ms(h->value_at(0.50)),
                ms(h->value_at(0.95)), ms(h->value_at(0.99)), ms(h->value_at(0.999)), ms(h->max()),
                static_cast<unsigned long>(h->total()));
  }
  std::printf("  statuses    %s\n", status_list(s).c_str());
  std::printf("  errors      unexpected-status %lu, transport %lu, timeouts %lu, protocol %lu, "
              "reconnects %lu, connections-lost %lu, late-sends %lu\n",
              (unsigned long)s.unexpected_status, (unsigned long)s.transport_errors,
              (unsigned long)s.timeouts, (unsigned long)s.protocol_errors,
              (unsigned long)s.reconnects, (unsigned long)s.connections_lost,
              (unsigned long)s.late_sends);
  if (verify == nullptr) return;
  std::printf("  verify      %s: activities %lu, overbooked %lu, confirmed seats %lu, waitlisted %lu,"
              " position errors %lu, fifo violations %lu, acknowledged %lu, lost %lu, cancelled-but-listed %lu,"
              " listed-unacknowledged %lu, overbooking metric %ld\n",
              verify->ok ? "OK" : "FAILED", (unsigned long)verify->activities_checked,
              (unsigned long)verify->overbooked_activities, (unsigned long)verify->confirmed_seats,
              (unsigned long)verify->waitlisted_parties, (unsigned long)verify->waitlist_position_errors,
              (unsigned long)verify->fifo_violations,
              (unsigned long)verify->acknowledged_expected, (unsigned long)verify->acknowledged_missing,
              (unsigned long)verify->cancelled_but_listed, (unsigned long)verify->listed_unacknowledged,
              (long)verify->overbooking_metric);
  for (const auto& problem : verify->problems) std::printf("    - %s\n", problem.c_str());
}

void write_histogram_json(std::ostream& out, const char* name, const Histogram& h) {
  out << "  \"" << name << "_ms\": {\"p50\": " << ms(h.value_at(0.5)) << ", \"p95\": "
      << ms(h.value_at(0.95)) << ", \"p99\": " << ms(h.value_at(0.99)) << ", \"p99_9\": "
      << ms(h.value_at(0.999)) << ", \"max\": " << ms(h.max()) << ", \"count\": " << h.total()
      << "},\n";
}

bool write_json(const std::string& path, const Options& o, const Plan& plan, const ThreadStats& s,
                double rps, const VerifyReport* v) {
  std::ofstream out(path);
  out << "{\n  \"target\": \"" << o.target << "\",\n  \"scenario\": \"" << o.scenario
      << "\",\n  \"mode\": \"" << (plan.rate_per_second > 0 ? "open" : "closed")
      << "\",\n  \"offered_rate\": " << plan.rate_per_second << ",\n  \"connections\": "
      << plan.connections << ",\n  \"threads\": " << plan.threads << ",\n  \"duration_s\": "
      << o.duration_s << ",\n  \"warmup_s\": " << o.warmup_s << ",\n  \"throughput_rps\": " << rps
      << ",\n  \"sent\": " << s.sent << ",\n  \"completed_in_window\": " << s.completed_in_window << ",\n";
  write_histogram_json(out, "latency", s.latency);
  write_histogram_json(out, "service", s.service);
  out << "  \"statuses\": {";
  bool first = true;
  for (int code = 0; code < kStatusCodesMax; ++code) {
    if (s.status_counts[code] == 0) continue;
    out << (first ? "" : ", ") << "\"" << code << "\": " << s.status_counts[code];
    first = false;
  }
  out << "},\n  \"errors\": {\"unexpected_status\": " << s.unexpected_status << ", \"transport\": "
      << s.transport_errors << ", \"timeouts\": " << s.timeouts << ", \"protocol\": "
      << s.protocol_errors << ", \"reconnects\": " << s.reconnects << ", \"connections_lost\": "
      << s.connections_lost << ", \"late_sends\": " << s.late_sends << "},\n";
  if (v != nullptr) {
    out << "  \"verify\": {\"ok\": " << (v->ok ? "true" : "false") << ", \"activities\": "
        << v->activities_checked << ", \"overbooked\": " << v->overbooked_activities
        << ", \"confirmed_seats\": " << v->confirmed_seats << ", \"waitlisted_parties\": "
        << v->waitlisted_parties << ", \"position_errors\": " << v->waitlist_position_errors
        << ", \"fifo_violations\": " << v->fifo_violations
        << ", \"acknowledged\": " << v->acknowledged_expected << ", \"lost\": "
        << v->acknowledged_missing << ", \"cancelled_but_listed\": " << v->cancelled_but_listed
        << ", \"listed_unacknowledged\": " << v->listed_unacknowledged
        << ", \"overbooking_metric\": " << v->overbooking_metric << "},\n";
  }
  out << "  \"caveat\": \"the load generator shares the machine's cores with the server\"\n}\n";
  return static_cast<bool>(out);
}

int run(int argc, char** argv) {
  Options o;
  Plan plan;
  std::string error;
  if (!parse_options(argc, argv, o) || !validate(o, plan, error) ||
      !raise_file_limit(o.connections, error)) {
    if (!error.empty()) std::cerr << "rsvpd-load: " << error << "\n";
    return 2;
  }
  plan.user_prefix = run_prefix();
  const bool uses_api = plan.scenario != Scenario::kStatic;
  if (uses_api && !mint_tokens(o, plan, error)) {
    std::cerr << "rsvpd-load: " << error << "\n";
    return 2;
  }
  ApiClient client(plan.host, plan.port, plan.bearer_token);
  if (uses_api && !create_activities(client, o, plan, error)) {
    std::cerr << "rsvpd-load: setup: " << error << "\n";
    return 2;
  }
  ThreadStats stats = run_load(plan, error);
  if (!error.empty()) {
    std::cerr << "rsvpd-load: " << error << "\n";
    return 2;
  }
  const double rps = static_cast<double>(stats.completed_in_window) * 1e9 /
                     static_cast<double>(plan.duration_ns);
  VerifyReport report;
  const bool verified = uses_api && o.verify;
  if (verified) {
    report = verify_run(client, plan.activity_ids, stats.records, stats.unanswered_rsvps,
                        !o.activity_id.empty());
  }
  print_table(o, plan, stats, rps, verified ? &report : nullptr);
  if (!o.json_out.empty() && !write_json(o.json_out, o, plan, stats, rps, verified ? &report : nullptr)) {
    std::cerr << "rsvpd-load: cannot write " << o.json_out << "\n";
    return 2;
  }
  return (verified && !report.ok) || stats.completed_in_window == 0 ? 1 : 0;
}

}  // namespace
}  // namespace rsvpd::loadgen

int main(int argc, char** argv) { return rsvpd::loadgen::run(argc, argv); }
