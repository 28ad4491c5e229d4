// ChromiumProcess: Debian's chromium, headless, as a subprocess of the `browser` tests. It opens
// one URL with a fresh profile in a temp dir and runs until stop() (headless chromium without
// --dump-dom or --screenshot keeps running), so the page's event streams stay open as long as
// the test needs them.
//
// Chromium forks helpers (zygote, renderer, network service). The child starts its own process
// group, so stop() can kill exactly the browser and its helpers, by that group's id, and nothing
// else on the machine; the crash handlers, which leave the group, by their pids.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

extern char** environ;

namespace rsvpd::http::testing {

// RSVPD_CHROMIUM when set, else the first `chromium` on PATH. nullopt when there is none.
inline std::optional<std::string> find_chromium() {
  if (const char* configured = std::getenv("RSVPD_CHROMIUM"); configured && *configured) {
    if (::access(configured, X_OK) == 0) return std::string(configured);
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/chromium";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

class ChromiumProcess {
 public:
  explicit ChromiumProcess(std::string binary) : binary_(std::move(binary)) {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "rsvpd-chromium-XXXXXX").string();
    dir_ = ::mkdtemp(pattern.data());
  }
  ~ChromiumProcess() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ChromiumProcess(const ChromiumProcess&) = delete;
  ChromiumProcess& operator=(const ChromiumProcess&) = delete;

  // Starts chromium on `url`. REQUIRES: not started yet.
  void start(const std::string& url) {
    std::vector<std::string> args = {
        binary_,
        "--headless",
        // Root (as in CI containers) cannot use chromium's sandbox.
        "--no-sandbox",
        "--disable-gpu",
        // No traffic but the page's: no update checks, no sync, no QUIC probing.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--user-data-dir=" + dir_ + "/profile",
        url};
    // Chromium also writes below $HOME, $TMPDIR and the XDG dirs: all of it goes into the temp
    // dir, which the destructor removes.
    std::vector<std::string> env;
    for (char** entry = environ; *entry != nullptr; ++entry) {
      const std::string text = *entry;
      const std::string name = text.substr(0, text.find('='));
      if (name == "HOME" || name == "TMPDIR" || name == "XDG_CONFIG_HOME" ||
          name == "XDG_CACHE_HOME") {
        continue;
      }
      env.push_back(text);
    }
    for (const char* name : {"HOME", "TMPDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"}) {
      env.push_back(std::string(name) + "=" + dir_);
    }
    // Built before fork(): the child of a threaded process may only make async-signal-safe
    // calls until it execs.
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& entry : env) envp.push_back(entry.data());
    envp.push_back(nullptr);
    const std::string log_file = log_path();
    // Chromium's helpers are children of the browser or of its zygotes; killed together, they
    // would be left to init as zombies. As subreaper, this process inherits and reaps them.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // A test process that dies without stop() (a crash, SIGPIPE, a ctest timeout) takes the
      // browser with it; the helpers and crash handlers end when the browser does.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      ::setpgid(0, 0);
      const int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (fd >= 0) {
        ::dup2(fd, STDOUT_FILENO);
        ::dup2(fd, STDERR_FILENO);
      }
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    // Also from the parent, so that the group exists before stop() could signal it.
    if (pid_ > 0) ::setpgid(pid_, pid_);
  }

  // Whether the browser process still runs (false once it exited or before start()). An exited
  // browser is left unreaped until stop(): while it is a zombie, its pid (the group's id) cannot
  // be reused, so stop() signals only chromium's own helpers.
  bool running() const {
    if (pid_ <= 0) return false;
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
      return false;
    }
    return info.si_pid == 0;
  }

  // Kills the browser's process group (the browser and its helpers) and chromium's crash
  // handlers, and reaps all of them. Returns whether none of them is left. Idempotent.
  bool stop() {
    if (pid_ <= 0) return true;
    // Found before the kill: a crash handler that has exited shows no command line any more.
    const std::vector<pid_t> handlers = crash_handlers();
    ::kill(-pid_, SIGKILL);
    // This process is their subreaper (start()), so each helper becomes its child once its
    // parent died: waiting on the group until there is none left reaps them all, leaving no
    // zombie behind for init.
    int status = 0;
    while (::waitpid(-pid_, &status, 0) > 0 || errno == EINTR) {
    }
    const bool group_gone = ::kill(-pid_, 0) != 0 && errno == ESRCH;
    pid_ = -1;
    // Children of this process (crash_handlers()) and not reaped yet: the pids are still theirs.
    for (const pid_t handler : handlers) {
      ::kill(handler, SIGKILL);
      ::waitpid(handler, &status, 0);
    }
    return group_gone && crash_handlers().empty();
  }

  // The last `bytes` of chromium's stdout and stderr (for failure messages).
  std::string log_tail(size_t bytes = 4000) const {
    std::ifstream file(log_path());
    std::stringstream text;
    text << file.rdbuf();
    const std::string all = text.str();
    return all.size() > bytes ? all.substr(all.size() - bytes) : all;
  }

 private:
  std::string log_path() const { return dir_ + "/chromium.log"; }

  // Chromium's crash handlers (chrome_crashpad_handler) double-fork into sessions of their own,
  // out of the group's reach, and so become children of this process, their subreaper. They are
  // the children whose command line names a crash database in this object's temp dir ($HOME),
  // which no other process does.
  std::vector<pid_t> crash_handlers() const {
    std::vector<pid_t> found;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      if (parent_of(entry.path()) != ::getpid()) continue;
      std::ifstream file(entry.path() / "cmdline");
      const std::string cmdline((std::istreambuf_iterator<char>(file)),
                                std::istreambuf_iterator<char>());
      if (cmdline.find("--database=" + dir_ + "/") != std::string::npos) {
        found.push_back(static_cast<pid_t>(std::stol(name)));
      }
    }
    return found;
  }
  // The parent pid from /proc/<pid>/stat ("pid (comm) state ppid ..."; comm may hold spaces and
  // parentheses, so read after the last ')'); -1 when unreadable.
  static pid_t parent_of(const std::filesystem::path& proc_dir) {
    std::ifstream file(proc_dir / "stat");
    const std::string stat((std::istreambuf_iterator<char>(file)),
                           std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 1));
    std::string state;
    pid_t parent = -1;
    rest >> state >> parent;
    return parent;
  }

  std::string binary_;
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace rsvpd::http::testing
