// Complete-or-fail writes for LMDB's data file. Internal to daemon/.
//
// LMDB 0.9.24 writes dirty pages with pwrite (one page run) or lseek+writev (several) and treats
// a short write as EIO ("short write, filesystem full?"). A short write is exactly what a full
// disk (ENOSPC) or a file-size limit (EFBIG) produces when a write straddles the limit, so a full
// disk would look like a failed fsync, which is fatal (DESIGN.md §2). This file interposes
// pwrite and writev for the whole process (LMDB calls them through its PLT): for a registered
// LMDB data-file descriptor a short write is continued until it completes or fails, and a
// failure returns -1 with the real errno, which LMDB then reports as it is. Every other
// descriptor passes straight to the system call.
#pragma once

#include <cstddef>

namespace rsvpd::detail {

// Writable stores one process may hold at once (each locks its own data dir).
inline constexpr size_t kDataFdsMax = 8;
// System calls one interposed write may make before it reports EIO (each must make progress).
inline constexpr size_t kWriteCallsMax = 4096;

// Registers `fd` as an LMDB data file; returns false when every slot is taken (writes to it
// then keep LMDB's own behaviour). Thread-safe.
bool register_data_fd(int fd) noexcept;
// Unregisters `fd`; REQUIRES: no write to it is in progress. Thread-safe.
void unregister_data_fd(int fd) noexcept;
bool is_data_fd(int fd) noexcept;

}  // namespace rsvpd::detail
