// The Asio loop. It mirrors the io_uring loop: the same ConnectionCore, the same pump, and a
// connection is released only after its pending read and write handlers have run.
#include "http/detail/asio_loop.h"

#include "http/detail/connection_table.h"
#include "http/detail/listener.h"

// The epoll reactor, never Asio's io_uring backend (DESIGN.md §4).
#if defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT)
#error "rsvpd must not build Asio with its io_uring backend as default (DESIGN.md §4)"
#endif

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/socket.h>

#include <cassert>
#include <cerrno>
#include <optional>
#include <vector>

namespace rsvpd::http::detail {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;

struct AsioConnection {
  uint32_t generation = 0;
  bool live = false;
  std::optional<tcp::socket> socket;
  bool admitted = false;
  bool receive_pending = false;
  bool send_pending = false;
  bool dropping = false;
  bool write_shut = false;
  bool stream_buffer_bounded = false;  // bound_stream_send_buffer() done for its stream.
  std::optional<ConnectionCore> core;
  std::unique_ptr<char[]> buffer;  // kReceiveChunkBytes, allocated once per slot.
};

class AsioLoop final : public IoLoop {
 public:
  AsioLoop(ServerState& state) : state_(state), tick_timer_(context_) {}

  Status init(int listen_fd);
  void run() override;
  void request_stop_accepting() override {
    commands_.stop_accepting();
    asio::post(context_, [this] { apply_commands(); });
  }
  void request_stop(int64_t deadline_ms) override {
    commands_.stop(deadline_ms);
    asio::post(context_, [this] { apply_commands(); });
  }

 private:
  void do_accept();
  void on_accept(const error_code& ec, tcp::socket socket);
  void open_connection(tcp::socket socket);
  void do_receive(uint32_t slot);
  void on_receive(uint32_t slot, const error_code& ec, std::size_t bytes);
  void do_send(uint32_t slot);
  void on_send(uint32_t slot, const error_code& ec, std::size_t bytes);
  void pump(uint32_t slot);
  void drop(uint32_t slot, bool timed_out);
  void maybe_release(uint32_t slot);
  void do_tick();
  void on_tick(const error_code& ec);
  void drain_inbox();
  void apply_commands();

  ServerState& state_;
  asio::io_context context_{1};
  std::optional<tcp::acceptor> acceptor_;
  asio::steady_timer tick_timer_;
  std::shared_ptr<Inbox> inbox_;
  LoopCommands commands_;
  ConnectionTable<AsioConnection> table_;
  std::vector<Completion> drained_;
  bool accept_armed_ = false;
  bool stopping_ = false;
};

Status AsioLoop::init(int listen_fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  (void)::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
  const tcp protocol = address.ss_family == AF_INET6 ? tcp::v6() : tcp::v4();
  error_code ec;
  acceptor_.emplace(context_);
  acceptor_->assign(protocol, listen_fd, ec);
  if (ec) {
    ::close(listen_fd);
    return Status(StatusCode::kIoError, "asio acceptor assign: " + ec.message());
  }
  inbox_ = std::make_shared<Inbox>([this] { asio::post(context_, [this] { drain_inbox(); }); });
  return Status::ok();
}

void AsioLoop::run() {
  Inbox::current() = inbox_.get();
  do_accept();
  do_tick();
  context_.run();  // Returns once stopped: no accept, no timer, no connection left.
  inbox_->close();
  Inbox::current() = nullptr;
}

void AsioLoop::do_accept() {
  if (accept_armed_ || !acceptor_->is_open()) return;
  accept_armed_ = true;
  acceptor_->async_accept(
      [this](const error_code& ec, tcp::socket socket) { on_accept(ec, std::move(socket)); });
}

void AsioLoop::on_accept(const error_code& ec, tcp::socket socket) {
  accept_armed_ = false;
  if (ec == asio::error::operation_aborted) return;  // stop_accepting closed the acceptor.
  // Out of descriptors or memory: retrying at once would spin; the next tick re-arms.
  if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
      ec == asio::error::no_memory || ec.value() == ENFILE) {
    return;
  }
  if (!ec) open_connection(std::move(socket));  // Other errors (a peer's reset) concern one peer.
  do_accept();
}

void AsioLoop::open_connection(tcp::socket socket) {
  set_no_delay(socket.native_handle());
  const int64_t now = steady_now_ms();
  const uint32_t slot = table_.acquire();
  AsioConnection& c = table_.at(slot);
  c.receive_pending = c.send_pending = c.dropping = c.write_shut = false;
  c.stream_buffer_bounded = false;
  if (!c.buffer) c.buffer = std::make_unique<char[]>(kReceiveChunkBytes);
  c.admitted = state_.admit_connection();
  c.core.emplace(state_.limits(), state_.handler(), inbox_, slot, c.generation,
                 peer_address(socket.native_handle()), now);
  c.socket.emplace(std::move(socket));
  if (!c.admitted) {
    c.core->reject(RejectReason::kOverloaded, now);
  } else if (stopping_) {
    c.core->begin_shutdown(now);
  }
  pump(slot);
}

void AsioLoop::pump(uint32_t slot) {
  AsioConnection& c = table_.at(slot);
  if (c.dropping) return;
  ConnectionCore& core = *c.core;
  if (core.streaming() && !c.stream_buffer_bounded) {
    bound_stream_send_buffer(c.socket->native_handle());
    c.stream_buffer_bounded = true;
  }
  if (!c.send_pending && !core.pending_output().empty()) do_send(slot);
  if (!c.send_pending && core.wants_close() && !c.write_shut) {
    // Half-close and drain, so the peer reads our last response instead of a reset.
    error_code ignored;
    c.socket->shutdown(tcp::socket::shutdown_send, ignored);
    c.write_shut = true;
    core.start_linger(steady_now_ms());
  }
  if (!c.receive_pending && (core.lingering() || core.wants_read())) do_receive(slot);
}

void AsioLoop::do_receive(uint32_t slot) {
  AsioConnection& c = table_.at(slot);
  c.receive_pending = true;
  c.socket->async_read_some(
      asio::buffer(c.buffer.get(), kReceiveChunkBytes),
      [this, slot](const error_code& ec, std::size_t bytes) { on_receive(slot, ec, bytes); });
}

void AsioLoop::on_receive(uint32_t slot, const error_code& ec, std::size_t bytes) {
  AsioConnection& c = table_.at(slot);
  assert(c.live && c.receive_pending);
  c.receive_pending = false;
  if (c.dropping) return maybe_release(slot);
  // EOF or an error: the client went away (see the io_uring loop's on_receive).
  if (ec) return drop(slot, false);
  c.core->on_received({c.buffer.get(), bytes}, steady_now_ms());
  pump(slot);
}

void AsioLoop::do_send(uint32_t slot) {
  AsioConnection& c = table_.at(slot);
  const std::string_view output = c.core->pending_output();
  c.send_pending = true;
  c.socket->async_write_some(
      asio::buffer(output.data(), output.size()),
      [this, slot](const error_code& ec, std::size_t bytes) { on_send(slot, ec, bytes); });
}

void AsioLoop::on_send(uint32_t slot, const error_code& ec, std::size_t bytes) {
  AsioConnection& c = table_.at(slot);
  assert(c.live && c.send_pending);
  c.send_pending = false;
  if (c.dropping) return maybe_release(slot);
  if (ec) return drop(slot, false);  // EPIPE, reset: the peer is gone.
  c.core->on_written(bytes, steady_now_ms());
  pump(slot);
}

void AsioLoop::drop(uint32_t slot, bool timed_out) {
  AsioConnection& c = table_.at(slot);
  assert(!c.dropping);
  c.dropping = true;
  if (timed_out) state_.count_timeout();
  // Closing cancels the pending handlers; they run with operation_aborted and release the slot.
  error_code ignored;
  c.socket->close(ignored);
  maybe_release(slot);
}

void AsioLoop::maybe_release(uint32_t slot) {
  AsioConnection& c = table_.at(slot);
  if (c.receive_pending || c.send_pending) return;  // Their handlers are still to run.
  c.socket.reset();
  if (c.admitted) state_.release_connection();
  c.core.reset();
  table_.release(slot);
}

void AsioLoop::do_tick() {
  tick_timer_.expires_after(std::chrono::milliseconds(state_.sweep_interval_ms()));
  tick_timer_.async_wait([this](const error_code& ec) { on_tick(ec); });
}

void AsioLoop::on_tick(const error_code& ec) {
  if (ec == asio::error::operation_aborted) return;
  const int64_t now = steady_now_ms();
  const bool past_stop_deadline = stopping_ && now >= commands_.stop_deadline_ms();
  table_.for_each_live([&](uint32_t slot, AsioConnection& c) {
    if (c.dropping) return;
    if (past_stop_deadline) return drop(slot, false);
    if (c.core->deadline_ms() <= now) drop(slot, !c.core->lingering());
  });
  if (!stopping_) do_accept();  // Resumes accepting after EMFILE/ENFILE.
  if (stopping_ && table_.live_count() == 0) return;  // No tick: lets context_.run() return.
  do_tick();
}

void AsioLoop::drain_inbox() {
  inbox_->begin_batch();  // Tasks run below push responses: no post() for each.
  const int64_t now = steady_now_ms();
  drain_turn(*inbox_, drained_, [&](Completion& completion) {
    AsioConnection* c = table_.find(completion.slot, completion.generation);
    if (c == nullptr || c->dropping) {  // The connection is gone: drop the answer.
      discard(completion);
      return;
    }
    c->core->on_completion(std::move(completion), now);
    pump(completion.slot);
  });
}

void AsioLoop::apply_commands() {
  if (commands_.stop_accepting_requested() && acceptor_->is_open()) {
    error_code ignored;
    acceptor_->close(ignored);
  }
  if (stopping_ || commands_.stop_deadline_ms() == kNoDeadline) return;
  stopping_ = true;
  const int64_t now = steady_now_ms();
  table_.for_each_live([&](uint32_t slot, AsioConnection& c) {
    if (c.dropping) return;
    c.core->begin_shutdown(now);
    pump(slot);
  });
}

}  // namespace

Result<std::unique_ptr<IoLoop>> make_asio_loop(ServerState& state, int listen_fd) {
  auto loop = std::make_unique<AsioLoop>(state);
  Status status = loop->init(listen_fd);
  if (!status.is_ok()) return status;
  return std::unique_ptr<IoLoop>(std::move(loop));
}

}  // namespace rsvpd::http::detail
