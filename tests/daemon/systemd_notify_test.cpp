// SystemdNotify against a NOTIFY_SOCKET datagram socket this test owns.
#include "daemon/systemd_notify.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace rsvpd {
namespace {

constexpr int kReceiveTimeoutMs = 2000;

class SystemdNotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = "/tmp/rsvpd-notify-test-" + std::to_string(getpid()) + ".sock";
    unlink(path_.c_str());
    fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(fd_, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    ASSERT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    setenv("NOTIFY_SOCKET", path_.c_str(), 1);
  }
  void TearDown() override {
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    close(fd_);
    unlink(path_.c_str());
  }
  std::string receive(int timeout_ms = kReceiveTimeoutMs) {
    pollfd poll_fd{fd_, POLLIN, 0};
    if (poll(&poll_fd, 1, timeout_ms) != 1) return "<nothing>";
    char buffer[1024];
    const ssize_t got = recv(fd_, buffer, sizeof(buffer), 0);
    return got < 0 ? "<error>" : std::string(buffer, static_cast<size_t>(got));
  }

  std::string path_;
  int fd_ = -1;
  SystemdNotify notify_;
};

TEST_F(SystemdNotifyTest, SendsReadyWatchdogStatusAndStopping) {
  EXPECT_TRUE(SystemdNotify::enabled());
  EXPECT_TRUE(notify_.notify_ready());
  EXPECT_EQ(receive(), "READY=1\nSTATUS=ready");
  EXPECT_TRUE(notify_.notify_watchdog());
  EXPECT_EQ(receive(), "WATCHDOG=1");
  EXPECT_TRUE(notify_.notify_status("serving 3 activities"));
  EXPECT_EQ(receive(), "STATUS=serving 3 activities");
  EXPECT_TRUE(notify_.notify_stopping());
  EXPECT_EQ(receive(), "STOPPING=1");
}

TEST_F(SystemdNotifyTest, StatusIsOneLineAndBounded) {
  EXPECT_TRUE(notify_.notify_status("two\nlines"));
  EXPECT_EQ(receive(), "STATUS=two lines");
  EXPECT_TRUE(notify_.notify_status(std::string(SystemdNotify::kStatusBytesMax + 50, 'x')));
  EXPECT_EQ(receive(), "STATUS=" + std::string(SystemdNotify::kStatusBytesMax, 'x'));
}

TEST_F(SystemdNotifyTest, WatchdogIntervalComesFromTheEnvironment) {
  EXPECT_EQ(SystemdNotify::watchdog_interval().count(), 0);
  setenv("WATCHDOG_USEC", "2000000", 1);
  setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
  EXPECT_EQ(SystemdNotify::watchdog_interval().count(), 2000000);
  setenv("WATCHDOG_PID", "1", 1);  // Meant for another process.
  EXPECT_EQ(SystemdNotify::watchdog_interval().count(), 0);
}

TEST_F(SystemdNotifyTest, WithoutNotifySocketEverythingIsANoOp) {
  unsetenv("NOTIFY_SOCKET");
  EXPECT_FALSE(SystemdNotify::enabled());
  EXPECT_TRUE(notify_.notify_ready());
  EXPECT_TRUE(notify_.notify_watchdog());
  EXPECT_TRUE(notify_.notify_status("x"));
  EXPECT_EQ(receive(/*timeout_ms=*/50), "<nothing>");
}

TEST_F(SystemdNotifyTest, AVanishedSocketIsReportedNotFatal) {
  setenv("NOTIFY_SOCKET", "/tmp/rsvpd-notify-test-no-such.sock", 1);
  EXPECT_FALSE(notify_.notify_watchdog());
}

}  // namespace
}  // namespace rsvpd
