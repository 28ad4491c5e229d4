// DaemonProcess: runs build/bin/rsvpd for the `binary` tests, with a temp data dir, a unique
// --shm-name and an ephemeral port (read back from the "listening" log line), and mints tokens
// with the secret file the daemon created.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <picojson.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "http/jwt_auth.h"
#include "shm/segment.h"

namespace rsvpd::http::testing {

inline constexpr auto kDaemonStartTimeout = std::chrono::seconds(20);

class DaemonProcess {
 public:
  DaemonProcess() {
    static std::atomic<int> counter{0};
    const int n = counter.fetch_add(1, std::memory_order_relaxed);  // Relaxed: a unique number.
    std::string pattern = (std::filesystem::temp_directory_path() / "rsvpd-api-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
    shm_name_ = "rsvpd-test-api-" + std::to_string(::getpid()) + "-" + std::to_string(n);
  }
  ~DaemonProcess() {
    if (pid_ > 0) kill_hard();
    shm::Segment::remove(shm_name_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  // Arguments every start() passes before its own (e.g. {"--io", "epoll"}).
  void set_base_args(std::vector<std::string> args) { base_args_ = std::move(args); }

  std::string data_dir() const { return dir_ + "/data"; }
  const std::string& shm_name() const { return shm_name_; }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }

  // Starts the daemon and waits for its "listening" line. Returns false (with the log in the
  // failure message) when it exits or does not listen in time.
  bool start(std::vector<std::string> extra_args = {}) {
    const std::string log_path = dir_ + "/stderr-" + std::to_string(starts_++) + ".log";
    log_path_ = log_path;
    std::vector<std::string> args = {binary(), "--data-dir", data_dir(), "--listen",
                                     "127.0.0.1:0", "--shm-name", shm_name_, "--threads", "2",
                                     "--log-level", "info"};
    args.insert(args.end(), base_args_.begin(), base_args_.end());
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    pid_ = spawn(args, log_path);
    const auto deadline = std::chrono::steady_clock::now() + kDaemonStartTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto port = port_from_log()) {
        port_ = *port;
        return true;
      }
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        exit_status_ = status;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // SIGTERM and wait; returns the exit code (or -signal).
  int stop() {
    if (pid_ <= 0) return exit_code(exit_status_);
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return exit_code(status);
  }
  void kill_hard() {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  int exit_status_code() const { return exit_code(exit_status_); }
  std::string log() const {
    std::ifstream file(log_path_);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  }

  std::string secret() const {
    Result<std::string> secret =
        load_or_create_secret(data_dir() + "/jwt.secret", SecretFileMode::kMustExist);
    EXPECT_TRUE(secret.is_ok());
    return secret.is_ok() ? secret.value() : std::string();
  }
  // "Authorization: Bearer ...\r\n" for `sub` with `roles`, valid for an hour, signed with the
  // secret as first read from the daemon's file.
  std::string auth(std::string_view sub, std::vector<std::string> roles = {}) {
    if (secret_.empty()) secret_ = secret();
    return auth_with(secret_, sub, std::move(roles));
  }
  // The secret as auth() first read it (read once, so safe to share between threads after).
  const std::string& secret_cached() {
    if (secret_.empty()) secret_ = secret();
    return secret_;
  }
  // A minter using the secret file's current contents (after a rewrite and SIGHUP).
  using Auth = std::function<std::string(std::string_view, std::vector<std::string>)>;
  Auth fresh_auth() const {
    return [secret = secret()](std::string_view sub, std::vector<std::string> roles) {
      return auth_with(secret, sub, std::move(roles));
    };
  }
  static std::string auth_with(const std::string& secret, std::string_view sub,
                               std::vector<std::string> roles) {
    const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
    Result<std::string> token = mint_token(secret, sub, roles, now_s + 3600);
    EXPECT_TRUE(token.is_ok());
    return "Authorization: Bearer " + (token.is_ok() ? token.value() : "") + "\r\n";
  }

 private:
  static int exit_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return -WTERMSIG(status);
    return -1000;
  }
  // RSVPD_BIN_DIR (set by ctest), else the directory of this test program: the rsvpd of the
  // same build, which matters for the fault-injection build's negative controls.
  static std::string binary() {
    if (const char* dir = std::getenv("RSVPD_BIN_DIR")) return std::string(dir) + "/rsvpd";
    std::error_code error;
    const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
    return (error ? std::filesystem::path("build/bin") : self.parent_path()).string() + "/rsvpd";
  }
  static pid_t spawn(const std::vector<std::string>& args, const std::string& log_path) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      // A test that crashes or is killed by its timeout must not leave a daemon running.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, STDERR_FILENO);
      std::vector<char*> argv;
      for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }
  std::optional<uint16_t> port_from_log() const {
    std::ifstream file(log_path_);
    std::string line;
    while (std::getline(file, line)) {
      if (line.find("\"msg\":\"listening\"") == std::string::npos) continue;
      picojson::value value;
      if (!picojson::parse(value, line).empty() || !value.get("port").is<int64_t>()) continue;
      return static_cast<uint16_t>(value.get("port").get<int64_t>());
    }
    return std::nullopt;
  }

  std::vector<std::string> base_args_;
  std::string dir_;
  std::string shm_name_;
  std::string log_path_;
  std::string secret_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
  int starts_ = 0;
  uint16_t port_ = 0;
};

// Raises RLIMIT_NOFILE's soft limit to at least `wanted` (up to the hard limit); returns it.
inline rlim_t raise_open_files_limit(rlim_t wanted) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < wanted) {
    limit.rlim_cur = std::min(wanted, limit.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ::getrlimit(RLIMIT_NOFILE, &limit);
  return limit.rlim_cur;
}

}  // namespace rsvpd::http::testing
