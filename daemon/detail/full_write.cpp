#include "daemon/detail/full_write.h"

#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>

namespace rsvpd::detail {

namespace {

constexpr int kFreeSlot = -1;

// The registered descriptors. A global by necessity: the interposed libc functions have no
// context. Relaxed loads suffice: a descriptor is registered before LMDB first writes to it
// (both in the thread that opens the store, and a write txn begins after that with acquire).
struct DataFdSlot {
  std::atomic<int> fd{kFreeSlot};
};
std::array<DataFdSlot, kDataFdsMax> g_data_fds;

ssize_t raw_pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  return static_cast<ssize_t>(::syscall(SYS_pwrite64, fd, buffer, count, offset));
}

ssize_t raw_write(int fd, const void* buffer, size_t count) {
  return static_cast<ssize_t>(::syscall(SYS_write, fd, buffer, count));
}

// Writes `count` bytes, at `offset` or (offset < 0) at the file position, continuing short
// writes. Returns 0, or the errno that stopped it (EIO when no progress is made).
int write_fully(int fd, const char* buffer, size_t count, off_t offset) {
  for (size_t calls = 0; count > 0; ++calls) {
    if (calls == kWriteCallsMax) return EIO;
    const ssize_t written =
        offset < 0 ? raw_write(fd, buffer, count) : raw_pwrite(fd, buffer, count, offset);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return errno;
    if (written == 0) return EIO;
    buffer += written;
    count -= static_cast<size_t>(written);
    if (offset >= 0) offset += written;
  }
  return 0;
}

// Finishes a writev that wrote only `done` bytes, at the file position it left.
int finish_writev(int fd, const iovec* iov, int iovcnt, size_t done) {
  for (int i = 0; i < iovcnt; ++i) {
    if (done >= iov[i].iov_len) {
      done -= iov[i].iov_len;
      continue;
    }
    const int error = write_fully(fd, static_cast<const char*>(iov[i].iov_base) + done,
                                  iov[i].iov_len - done, -1);
    if (error != 0) return error;
    done = 0;
  }
  return 0;
}

size_t total_length(const iovec* iov, int iovcnt) {
  size_t total = 0;
  for (int i = 0; i < iovcnt; ++i) total += iov[i].iov_len;
  return total;
}

}  // namespace

bool register_data_fd(int fd) noexcept {
  for (auto& slot : g_data_fds) {
    int expected = kFreeSlot;
    // Relaxed: see g_data_fds; the slot value is the only data.
    if (slot.fd.compare_exchange_strong(expected, fd, std::memory_order_relaxed)) return true;
  }
  return false;
}

void unregister_data_fd(int fd) noexcept {
  for (auto& slot : g_data_fds) {
    int expected = fd;
    // Relaxed: see g_data_fds; the slot value is the only data.
    if (slot.fd.compare_exchange_strong(expected, kFreeSlot, std::memory_order_relaxed)) return;
  }
}

bool is_data_fd(int fd) noexcept {
  if (fd < 0) return false;
  for (const auto& slot : g_data_fds) {
    if (slot.fd.load(std::memory_order_relaxed) == fd) return true;  // Relaxed: see g_data_fds.
  }
  return false;
}

}  // namespace rsvpd::detail

// The interposed functions (see full_write.h). Defined with C linkage and libc's signatures.

extern "C" ssize_t pwrite(int fd, const void* buffer, size_t count, off_t offset) {
  if (!rsvpd::detail::is_data_fd(fd)) return rsvpd::detail::raw_pwrite(fd, buffer, count, offset);
  const int error =
      rsvpd::detail::write_fully(fd, static_cast<const char*>(buffer), count, offset);
  if (error == 0) return static_cast<ssize_t>(count);
  errno = error;
  return -1;
}

extern "C" ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  const ssize_t written = static_cast<ssize_t>(::syscall(SYS_writev, fd, iov, iovcnt));
  if (written < 0 || !rsvpd::detail::is_data_fd(fd)) return written;
  const size_t total = rsvpd::detail::total_length(iov, iovcnt);
  if (static_cast<size_t>(written) == total) return written;
  const int error =
      rsvpd::detail::finish_writev(fd, iov, iovcnt, static_cast<size_t>(written));
  if (error == 0) return static_cast<ssize_t>(total);
  errno = error;
  return -1;
}
