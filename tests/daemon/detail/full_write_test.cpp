#include "daemon/detail/full_write.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace rsvpd::detail {
namespace {

constexpr off_t kFileBytes = 4096;
constexpr off_t kRoomBytes = 100;  // The size limit sits this far past the file's end.

// Checks, in a child with RLIMIT_FSIZE = file size + kRoomBytes, what writes straddling the
// limit return. Returns "" or a complaint.
std::string straddling_writes(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return "open failed";
  const std::string block(kFileBytes, 'b');
  if (::pwrite(fd, block.data(), block.size(), 0) != kFileBytes) return "setup write failed";
  ::signal(SIGXFSZ, SIG_IGN);
  rlimit limit{};
  ::getrlimit(RLIMIT_FSIZE, &limit);
  const rlimit original = limit;
  limit.rlim_cur = static_cast<rlim_t>(kFileBytes + kRoomBytes);
  if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) return "setrlimit failed";
  const std::string data(1000, 'd');

  // Unregistered: the kernel's short count passes through unchanged.
  if (::pwrite(fd, data.data(), data.size(), kFileBytes) != kRoomBytes) return "no short pwrite";
  if (!register_data_fd(fd) || !is_data_fd(fd)) return "register failed";
  // Registered: a straddling pwrite reports the real errno instead of a short count.
  errno = 0;
  if (::pwrite(fd, data.data(), data.size(), kFileBytes) != -1 || errno != EFBIG) {
    return "registered pwrite did not fail with EFBIG";
  }
  ::lseek(fd, kFileBytes, SEEK_SET);
  iovec parts[2] = {{const_cast<char*>(data.data()), 60}, {const_cast<char*>(data.data()), 500}};
  errno = 0;
  if (::writev(fd, parts, 2) != -1 || errno != EFBIG) return "registered writev: no EFBIG";
  // With room again, both complete in full.
  if (::setrlimit(RLIMIT_FSIZE, &original) != 0) return "setrlimit up failed";
  if (::pwrite(fd, data.data(), data.size(), kFileBytes) != 1000) return "pwrite after raise";
  ::lseek(fd, kFileBytes, SEEK_SET);
  if (::writev(fd, parts, 2) != 560) return "writev after raise";
  unregister_data_fd(fd);
  if (is_data_fd(fd)) return "still registered";
  ::close(fd);
  return "";
}

TEST(FullWriteTest, StraddlingWritesReportTheRealErrno) {
  char pattern[] = "/tmp/rsvpd-full-write-XXXXXX";
  ASSERT_NE(::mkdtemp(pattern), nullptr);
  const std::string path = std::string(pattern) + "/file";
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string complaint = straddling_writes(path);
    (void)!::write(pipe_fds[1], complaint.data(), complaint.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string complaint;
  char buffer[256];
  ssize_t got = 0;
  while ((got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) complaint.append(buffer, got);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(complaint, "");
  ::unlink(path.c_str());
  ::rmdir(pattern);
}

TEST(FullWriteTest, SlotsAreBounded) {
  // Descriptor numbers only; nothing is written. Use numbers no test opens.
  constexpr int kFirstFd = 100'000;
  size_t registered = 0;
  for (int fd = kFirstFd; fd < kFirstFd + static_cast<int>(kDataFdsMax) + 2; ++fd) {
    if (register_data_fd(fd)) ++registered;
  }
  EXPECT_EQ(registered, kDataFdsMax);
  EXPECT_FALSE(is_data_fd(-1));
  for (int fd = kFirstFd; fd < kFirstFd + static_cast<int>(kDataFdsMax) + 2; ++fd) {
    unregister_data_fd(fd);
    EXPECT_FALSE(is_data_fd(fd));
  }
  EXPECT_TRUE(register_data_fd(kFirstFd));
  unregister_data_fd(kFirstFd);
}

}  // namespace
}  // namespace rsvpd::detail
