// The fallback transport: Boost.Asio on its default epoll reactor, one io_context per io thread.
#pragma once

#include "daemon/status.h"
#include "http/detail/server_state.h"

#include <memory>

namespace rsvpd::http::detail {

// Takes ownership of `listen_fd`. Errors: kIoError naming the failed call.
// REQUIRES: `state` outlives the loop.
Result<std::unique_ptr<IoLoop>> make_asio_loop(ServerState& state, int listen_fd);

}  // namespace rsvpd::http::detail
