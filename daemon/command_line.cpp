#include "daemon/command_line.h"

#include <boost/program_options.hpp>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace rsvpd {
namespace {

namespace po = boost::program_options;

constexpr std::string_view kEnvPrefix = "RSVPD_";
constexpr uint32_t kActivitiesMaxLimit = 1u << 24;
constexpr uint32_t kTimeoutMsMax = 3'600'000;

po::options_description describe_options() {
  po::options_description options("rsvpd options");
  options.add_options()
      ("help,h", "print this help and exit")
      ("version", "print the version and exit")
      ("config", po::value<std::string>(), "ini-style file of key = value settings")
      ("data-dir", po::value<std::string>(), "data directory (default ./rsvpd-data)")
      ("listen", po::value<std::string>(), "HOST:PORT to listen on (default 127.0.0.1:8080)")
      ("shm-name", po::value<std::string>(), "shared-memory segment name (default rsvpd)")
      ("jwt-secret-file", po::value<std::string>(), "HS256 secret (default <data-dir>/jwt.secret)")
      ("threads", po::value<uint32_t>(), "io threads (default 1)")
      ("max-activities", po::value<uint32_t>(), "activity table size (default 10000)")
      ("cors-origin", po::value<std::vector<std::string>>(), "allowed CORS origin (repeatable)")
      ("log-level", po::value<std::string>(), "debug | info | warn | error (default info)")
      ("io", po::value<std::string>(), "auto | uring | epoll (default auto)")
      ("max-connections", po::value<uint32_t>(), "open connections (default 10000)")
      ("read-timeout-ms", po::value<uint32_t>(), "a request must arrive within this (10000)")
      ("idle-timeout-ms", po::value<uint32_t>(), "idle keep-alive connections close (60000)")
      ("write-timeout-ms", po::value<uint32_t>(), "a stalled response write drops (10000)")
      ("shutdown-deadline-ms", po::value<uint32_t>(), "in-flight requests get this long (5000)")
      ("max-sse-clients", po::value<uint32_t>(),
       "open event streams; beyond → 503 (half of --max-connections)")
      ("sse-heartbeat-ms", po::value<uint32_t>(), "a quiet stream gets ': ping' (15000)");
  return options;
}

// RSVPD_MAX_CONNECTIONS → "max-connections" when that is an option; else "" (ignored).
std::string environment_name(const po::options_description& options, const std::string& name) {
  if (name.rfind(kEnvPrefix, 0) != 0) return {};
  std::string flag = name.substr(kEnvPrefix.size());
  for (char& ch : flag) ch = ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
  if (flag == "help" || flag == "version" || options.find_nothrow(flag, false) == nullptr) return {};
  return flag;
}

// The environment as program_options sees it, with comma-separated CORS origins split.
po::parsed_options parse_environment(const po::options_description& options,
                                     const char* const* envp) {
  po::parsed_options parsed(&options);
  for (const char* const* entry = envp; entry != nullptr && *entry != nullptr; ++entry) {
    const char* equals = std::strchr(*entry, '=');
    if (equals == nullptr) continue;
    const std::string flag = environment_name(options, std::string(*entry, equals));
    if (flag.empty()) continue;
    std::stringstream values(equals + 1);
    std::string value;
    const char separator = flag == "cors-origin" ? ',' : '\0';
    while (separator != '\0' ? std::getline(values, value, separator) : std::getline(values, value)) {
      if (value.empty()) continue;
      po::option option(flag, {value});
      parsed.options.push_back(std::move(option));
      if (separator == '\0') break;
    }
  }
  return parsed;
}

template <typename T>
Status in_range(const char* flag, T value, T min, T max) {
  if (value >= min && value <= max) return Status::ok();
  return Status(StatusCode::kInvalidArgument, std::string("--") + flag + " must be from " +
                                                  std::to_string(min) + " to " +
                                                  std::to_string(max));
}

Status set_uint(const po::variables_map& vm, const char* flag, uint32_t min, uint32_t max,
                uint32_t& out) {
  if (!vm.count(flag)) return Status::ok();
  const uint32_t value = vm[flag].as<uint32_t>();
  Status status = in_range(flag, value, min, max);
  if (status.is_ok()) out = value;
  return status;
}

Status apply_strings(const po::variables_map& vm, DaemonConfig& config) {
  if (vm.count("data-dir")) config.data_dir = vm["data-dir"].as<std::string>();
  if (vm.count("shm-name")) config.shm_name = vm["shm-name"].as<std::string>();
  if (vm.count("jwt-secret-file")) config.jwt_secret_file = vm["jwt-secret-file"].as<std::string>();
  if (vm.count("cors-origin")) {
    config.cors_origins = vm["cors-origin"].as<std::vector<std::string>>();
  }
  if (config.data_dir.empty()) return Status(StatusCode::kInvalidArgument, "--data-dir is empty");
  if (config.shm_name.empty()) return Status(StatusCode::kInvalidArgument, "--shm-name is empty");
  if (vm.count("log-level")) {
    const auto level = http::parse_log_level(vm["log-level"].as<std::string>());
    if (!level) return Status(StatusCode::kInvalidArgument, "--log-level: debug|info|warn|error");
    config.log_level = *level;
  }
  if (vm.count("io")) {
    const std::string io = vm["io"].as<std::string>();
    if (io == "auto") config.server.io_mode = http::IoMode::kAuto;
    else if (io == "uring") config.server.io_mode = http::IoMode::kUring;
    else if (io == "epoll") config.server.io_mode = http::IoMode::kEpoll;
    else return Status(StatusCode::kInvalidArgument, "--io must be auto, uring or epoll");
  }
  if (vm.count("listen")) return parse_listen_address(vm["listen"].as<std::string>(), config.server);
  return Status::ok();
}

Status apply_numbers(const po::variables_map& vm, DaemonConfig& config) {
  http::ServerOptions& server = config.server;
  for (Status status : {
           set_uint(vm, "threads", 1, http::kThreadsMax, server.threads),
           set_uint(vm, "max-activities", 1, kActivitiesMaxLimit, config.max_activities),
           set_uint(vm, "max-connections", 1, http::kConnectionsMaxLimit, server.connections_max),
           set_uint(vm, "read-timeout-ms", 1, kTimeoutMsMax, server.read_timeout_ms),
           set_uint(vm, "idle-timeout-ms", 1, kTimeoutMsMax, server.idle_timeout_ms),
           set_uint(vm, "write-timeout-ms", 1, kTimeoutMsMax, server.write_timeout_ms),
           set_uint(vm, "shutdown-deadline-ms", 0, kShutdownDeadlineMsMax,
                    config.shutdown_deadline_ms),
           set_uint(vm, "max-sse-clients", 1, http::kSseClientsMaxLimit, config.events.clients_max),
           set_uint(vm, "sse-heartbeat-ms", 1, http::kSseHeartbeatMsDefault,
                    config.events.heartbeat_ms),
       }) {
    if (!status.is_ok()) return status;
  }
  // Streams stay open for hours: if they could take every connection, a crowd of watchers would
  // lock out the people trying to RSVP. By default they get half; an explicit value must still
  // leave at least one connection for requests.
  if (!vm.count("max-sse-clients")) {
    config.events.clients_max = std::max<uint32_t>(1, server.connections_max / 2);
  } else if (config.events.clients_max >= server.connections_max) {
    return Status(StatusCode::kInvalidArgument,
                  "--max-sse-clients must be below --max-connections (" +
                      std::to_string(server.connections_max) +
                      "), so that streams cannot take every connection");
  }
  return Status::ok();
}

Result<po::variables_map> collect(const po::options_description& options, int argc,
                                  const char* const* argv, const char* const* envp) {
  po::variables_map vm;
  po::store(po::parse_command_line(argc, argv, options), vm);
  po::store(parse_environment(options, envp), vm);
  if (vm.count("config")) {
    const std::string path = vm["config"].as<std::string>();
    std::ifstream file(path);
    if (!file) return Status(StatusCode::kInvalidArgument, "--config: cannot read " + path);
    po::store(po::parse_config_file(file, options), vm);
  }
  po::notify(vm);
  return vm;
}

}  // namespace

Status parse_listen_address(const std::string& text, http::ServerOptions& server) {
  const std::size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status(StatusCode::kInvalidArgument, "--listen must be HOST:PORT");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto [end, error] =
      std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535 || host.empty()) {
    return Status(StatusCode::kInvalidArgument, "--listen must be HOST:PORT with PORT 0..65535");
  }
  server.host = host;
  server.port = static_cast<uint16_t>(port);
  return Status::ok();
}

Result<CommandLine> parse_command_line(int argc, const char* const* argv,
                                       const char* const* envp) {
  const po::options_description options = describe_options();
  CommandLine result;
  try {
    Result<po::variables_map> vm = collect(options, argc, argv, envp);
    if (!vm.is_ok()) return vm.status();
    if (vm->count("help")) {
      std::cout << "usage: rsvpd [options]\n" << options << '\n';
      result.exit_now = true;
      return result;
    }
    if (vm->count("version")) {
      std::cout << "rsvpd 0.1.0\n";
      result.exit_now = true;
      return result;
    }
    Status status = apply_strings(vm.value(), result.config);
    if (status.is_ok()) status = apply_numbers(vm.value(), result.config);
    if (!status.is_ok()) return status;
  } catch (const po::error& error) {
    return Status(StatusCode::kInvalidArgument, error.what());
  }
  return result;
}

}  // namespace rsvpd
