// The io_uring transport: one ring per io thread, written on liburing 2.3 directly.
#pragma once

#include "daemon/status.h"
#include "http/detail/server_state.h"

#include <memory>

namespace rsvpd::http::detail {

// Ok when io_uring can be set up here; otherwise kIoError naming the cause (e.g.
// "io_uring_queue_init: Operation not permitted" under a seccomp filter or
// kernel.io_uring_disabled).
Status probe_uring();

// Takes ownership of `listen_fd`. Errors: kIoError naming the failed call.
// REQUIRES: `state` outlives the loop.
Result<std::unique_ptr<IoLoop>> make_uring_loop(ServerState& state, int listen_fd);

}  // namespace rsvpd::http::detail
