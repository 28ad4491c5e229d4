// rsvpd: the reservation daemon. Wires the command line, the JWT verifier, the Service (engine),
// the API handler and the HTTP server together, then runs the signal and tick loop:
//   - every second: Service::tick() (heartbeat, stale LMDB readers);
//   - SIGHUP: re-read the JWT secret file;
//   - SIGTERM / SIGINT: stop accepting, finish in-flight requests (bounded by
//     --shutdown-deadline-ms), stop the Service (it commits what is queued), exit 0.
// Exit codes: 0 after a clean shutdown or --help, 1 when starting failed, 2 for a bad command line.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <memory>

#include "daemon/command_line.h"
#include "daemon/service.h"
#include "daemon/systemd_notify.h"
#include "http/api_handler.h"
#include "http/identifiers.h"
#include "http/json_log.h"
#include "http/json_writer.h"
#include "http/jwt_auth.h"
#include "http/server.h"

extern char** environ;

namespace rsvpd {
namespace {

constexpr int kExitStartFailed = 1;
constexpr int kExitUsage = 2;
constexpr long kTickIntervalNs = 1'000'000'000;
// Descriptors beyond one per connection: listeners, rings, eventfds, LMDB, the log.
constexpr rlim_t kDescriptorsReserved = 256;

picojson::object fields_of(std::initializer_list<std::pair<const char*, picojson::value>> list) {
  picojson::object fields;
  for (const auto& [key, value] : list) fields[key] = value;
  return fields;
}

std::string safe_text(std::string text) {
  return http::detail::is_valid_utf8(text) ? text : std::string("(not UTF-8)");
}

void log_failure(http::JsonLog& log, std::string_view what, const Status& status) {
  log.write(http::LogLevel::kError, what,
            fields_of({{"error", http::json_string(safe_text(status.to_string()))}}));
}

Status ensure_data_dir(const std::string& path) {
  std::error_code error;
  std::filesystem::create_directories(path, error);
  if (error) return Status(StatusCode::kIoError, "cannot create " + path + ": " + error.message());
  return Status::ok();
}

// Each connection is a descriptor: raise the soft RLIMIT_NOFILE toward connections_max plus a
// reserve (never above the hard limit), and warn when it stays below.
void raise_open_files_limit(const DaemonConfig& config, http::JsonLog& log) {
  const rlim_t wanted = rlim_t{config.server.connections_max} + kDescriptorsReserved;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = limit.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, limit.rlim_max);
    setrlimit(RLIMIT_NOFILE, &limit);
    getrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur < wanted) {
    log.write(http::LogLevel::kWarn, "open files limit below --max-connections",
              fields_of({{"limit", http::json_int(static_cast<int64_t>(limit.rlim_cur))},
                         {"wanted", http::json_int(static_cast<int64_t>(wanted))}}));
  }
}

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string status_line(const Service& service) {
  const EngineMetrics& metrics = service.metrics();
  // Relaxed: figures for a human, no ordering with anything else.
  return "serving; " + std::to_string(metrics.commits_total.load(std::memory_order_relaxed)) +
         " commits, " + std::to_string(metrics.batch_requests_total.load(std::memory_order_relaxed)) +
         " requests committed" + (service.ready() ? "" : "; writer stalled");
}

// Blocks until SIGTERM or SIGINT, ticking the service every second and reloading on SIGHUP.
// The watchdog is fed only while the service is ready (its writer not stalled beyond
// writer_stall_ms_max), so systemd restarts a daemon whose writer hangs, not only a dead one.
void run_until_stopped(Service& service, http::JwtVerifier& verifier, const SystemdNotify& systemd,
                       http::JsonLog& log) {
  const sigset_t set = handled_signals();
  const timespec interval{0, kTickIntervalNs - 1};
  while (true) {
    const int signal_number = sigtimedwait(&set, nullptr, &interval);
    if (signal_number == SIGTERM || signal_number == SIGINT) {
      log.write(http::LogLevel::kInfo, "stopping",
                fields_of({{"signal", http::json_string(strsignal(signal_number))}}));
      return;
    }
    if (signal_number == SIGHUP) {
      systemd.notify_reloading();
      const Status status = verifier.reload();
      if (status.is_ok()) log.write(http::LogLevel::kInfo, "jwt secret reloaded");
      else log_failure(log, "jwt secret reload failed; the old secret stays", status);
      systemd.notify_ready();
      continue;
    }
    service.tick();
    if (service.ready()) systemd.notify_watchdog();
    systemd.notify_status(status_line(service));
  }
}

// Destroyed in reverse order: the hub outlives the Service, whose writer calls it until it stops.
struct Running {
  std::unique_ptr<http::JwtVerifier> verifier;
  std::unique_ptr<http::EventHub> events;
  std::unique_ptr<Service> service;
  std::unique_ptr<http::ApiHandler> handler;
  std::unique_ptr<http::HttpServer> server;
};

Result<std::unique_ptr<http::JwtVerifier>> open_verifier(const DaemonConfig& config,
                                                         const Clock& clock) {
  const bool given = !config.jwt_secret_file.empty();
  const std::string path = given ? config.jwt_secret_file : config.data_dir + "/jwt.secret";
  return http::JwtVerifier::open(
      clock, path, given ? http::SecretFileMode::kMustExist : http::SecretFileMode::kCreateIfMissing);
}

Status start(const DaemonConfig& config, const Clock& clock, http::JsonLog& log,
             Running& running) {
  Status status = ensure_data_dir(config.data_dir);
  if (!status.is_ok()) return status;
  auto verifier = open_verifier(config, clock);
  if (!verifier.is_ok()) return verifier.status();
  running.verifier = std::move(verifier).value();
  ServiceOptions service_options;
  service_options.data_dir = config.data_dir;
  service_options.shm_name = config.shm_name;
  service_options.activities_max = config.max_activities;
  running.events = std::make_unique<http::EventHub>(config.events, log);
  auto service = Service::open(service_options, clock, running.events.get());
  if (!service.is_ok()) return service.status();
  running.service = std::move(service).value();
  running.events->start(*running.service);
  auto seed = http::RequestIdGenerator::random_seed();
  if (!seed.is_ok()) return seed.status();
  http::ApiOptions api_options;
  api_options.cors_origins = config.cors_origins;
  api_options.request_id_seed = seed.value();
  running.handler = std::make_unique<http::ApiHandler>(std::move(api_options), *running.service,
                                                       *running.verifier, clock, log);
  auto server = http::HttpServer::start(config.server, *running.handler);
  if (!server.is_ok()) return server.status();
  running.server = std::move(server).value();
  running.handler->set_server(running.server.get());
  running.handler->set_event_hub(running.events.get());
  return Status::ok();
}

void log_listening(const DaemonConfig& config, const http::HttpServer& server,
                   http::JsonLog& log) {
  picojson::object fields = fields_of({
      {"host", http::json_string(safe_text(config.server.host))},
      {"port", http::json_int(server.port())},
      {"io", http::json_string(http::io_mode_name(server.mode()))},
      {"threads", http::json_int(config.server.threads)},
      {"data_dir", http::json_string(safe_text(config.data_dir))},
  });
  if (!server.fallback_reason().empty()) {
    fields["io_fallback_reason"] = http::json_string(safe_text(server.fallback_reason()));
  }
  log.write(http::LogLevel::kInfo, "listening", std::move(fields));
}

// Stops in the order that keeps every acknowledged change durable: no new connections, event
// streams closed (they would otherwise hold their connections to the deadline), answers for what
// was dispatched (their commits finish meanwhile), then the writer drains and stops.
void shut_down(const DaemonConfig& config, Running& running) {
  if (running.server) running.server->stop_accepting();
  if (running.events) running.events->stop();
  if (running.server) {
    running.server->stop(std::chrono::milliseconds(config.shutdown_deadline_ms));
    running.handler->set_server(nullptr);
  }
  if (running.service) running.service->stop();
  running.server.reset();
}

int run(const DaemonConfig& config) {
  SystemClock clock;
  http::JsonLog log(config.log_level, clock);
  const sigset_t set = handled_signals();
  // Blocked before any thread starts, so every thread inherits the mask and only sigtimedwait
  // in run_until_stopped receives them.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  raise_open_files_limit(config, log);
  Running running;
  const Status status = start(config, clock, log, running);
  if (!status.is_ok()) {
    log_failure(log, "start failed", status);
    shut_down(config, running);
    return kExitStartFailed;
  }
  log_listening(config, *running.server, log);
  const SystemdNotify systemd;
  if (!systemd.notify_ready()) log.write(http::LogLevel::kWarn, "systemd notification failed");
  run_until_stopped(*running.service, *running.verifier, systemd, log);
  systemd.notify_stopping();
  shut_down(config, running);
  log.write(http::LogLevel::kInfo, "stopped");
  return 0;
}

}  // namespace
}  // namespace rsvpd

int main(int argc, char** argv) {
  const auto command_line = rsvpd::parse_command_line(argc, argv, environ);
  if (!command_line.is_ok()) {
    std::fprintf(stderr, "rsvpd: %s\n", command_line.status().message().c_str());
    return rsvpd::kExitUsage;
  }
  if (command_line->exit_now) return 0;
  return rsvpd::run(command_line->config);
}
