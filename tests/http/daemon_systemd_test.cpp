// The real rsvpd under a NOTIFY_SOCKET this test owns, the way systemd runs a Type=notify unit:
// READY=1 arrives only once the daemon listens, WATCHDOG=1 pings keep coming while it serves,
// STATUS= lines describe it, and SIGTERM announces STOPPING=1 before a clean exit.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "tests/http/daemon_process.h"

namespace rsvpd::http::testing {
namespace {

class DaemonSystemdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("rsvpd-notify-" + std::to_string(::getpid()) + ".sock"))
                .string();
    ::unlink(path_.c_str());
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    // The child inherits these; WATCHDOG_PID is left unset so the watchdog applies to it.
    ::setenv("NOTIFY_SOCKET", path_.c_str(), 1);
    ::setenv("WATCHDOG_USEC", "3000000", 1);
  }
  void TearDown() override {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::close(fd_);
    ::unlink(path_.c_str());
  }
  // Every datagram until `until` is seen in one, or the deadline passes.
  std::vector<std::string> receive_until(const std::string& until, std::chrono::seconds limit) {
    std::vector<std::string> messages;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd poll_fd{fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 100) != 1) continue;
      char buffer[4096];
      const ssize_t got = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (got <= 0) continue;
      messages.emplace_back(buffer, static_cast<size_t>(got));
      if (messages.back().find(until) != std::string::npos) break;
    }
    return messages;
  }
  static int count_containing(const std::vector<std::string>& messages, const std::string& text) {
    int count = 0;
    for (const std::string& message : messages) count += message.find(text) != std::string::npos;
    return count;
  }

  std::string path_;
  int fd_ = -1;
};

TEST_F(DaemonSystemdTest, ReadyAfterListeningThenWatchdogPingsThenStopping) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start()) << daemon.log();
  const auto ready = receive_until("READY=1", std::chrono::seconds(10));
  ASSERT_EQ(count_containing(ready, "READY=1"), 1) << daemon.log();

  const auto serving = receive_until("WATCHDOG=1", std::chrono::seconds(5));
  ASSERT_EQ(count_containing(serving, "WATCHDOG=1"), 1);
  const auto more = receive_until("WATCHDOG=1", std::chrono::seconds(5));
  EXPECT_EQ(count_containing(more, "WATCHDOG=1"), 1) << "pings must keep coming";
  EXPECT_GE(count_containing(serving, "STATUS=serving") + count_containing(more, "STATUS=serving"),
            1);

  ::kill(daemon.pid(), SIGTERM);
  const auto stopping = receive_until("STOPPING=1", std::chrono::seconds(10));
  EXPECT_EQ(count_containing(stopping, "STOPPING=1"), 1);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(DaemonSystemdTest, SighupReloadIsAnnouncedAndEndsReady) {
  DaemonProcess daemon;
  ASSERT_TRUE(daemon.start()) << daemon.log();
  ASSERT_EQ(count_containing(receive_until("READY=1", std::chrono::seconds(10)), "READY=1"), 1);
  ::kill(daemon.pid(), SIGHUP);
  const auto reload = receive_until("READY=1", std::chrono::seconds(10));
  EXPECT_EQ(count_containing(reload, "RELOADING=1"), 1);
  EXPECT_EQ(count_containing(reload, "READY=1"), 1);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

}  // namespace
}  // namespace rsvpd::http::testing
