// The io_uring loop.
//
// Every SQE carries user_data = op | generation | slot (submit_entry() sets it after prep, so no
// entry is ever submitted with a stale value, liburing#848). A connection's slot is released only
// after its receive and send completions have both arrived (cancelled ones included), so no
// completion ever refers to freed memory; the generation check catches the remaining case, a
// ResponseSink firing after its connection was replaced.
#include "http/detail/uring_loop.h"

#include "http/detail/connection_table.h"
#include "http/detail/listener.h"

#include <liburing.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>
#include <vector>

namespace rsvpd::http::detail {

namespace {

inline constexpr unsigned kSubmissionEntries = 1024;
// Each connection has at most a receive, a send and a cancel in flight; the kernel keeps
// overflowing completions (IORING_FEAT_NODROP), this only sizes the fast path.
inline constexpr unsigned kCompletionEntries = 16384;
static_assert(kCompletionEntries >= 2 * kSubmissionEntries);

enum class Op : uint8_t { kAccept = 1, kReceive, kSend, kCancel, kWake, kTick };

uint64_t encode(Op op, uint32_t slot = 0, uint32_t generation = 0) noexcept {
  return (uint64_t{static_cast<uint8_t>(op)} << 56) |
         (uint64_t{generation & kGenerationMask} << 32) | slot;
}
Op decode_op(uint64_t data) noexcept { return static_cast<Op>(data >> 56); }
uint32_t decode_slot(uint64_t data) noexcept { return static_cast<uint32_t>(data); }
uint32_t decode_generation(uint64_t data) noexcept {
  return static_cast<uint32_t>(data >> 32) & kGenerationMask;
}

Status uring_error(const char* what, int negative_errno) {
  return Status(StatusCode::kIoError, std::string(what) + ": " + std::strerror(-negative_errno));
}

struct UringConnection {
  uint32_t generation = 0;
  bool live = false;
  int fd = -1;
  bool admitted = false;         // Counted in connections_open.
  bool receive_pending = false;
  bool send_pending = false;
  bool dropping = false;         // Being torn down; waits for pending completions.
  bool write_shut = false;
  bool stream_buffer_bounded = false;  // bound_stream_send_buffer() done for its stream.       // shutdown(SHUT_WR) done; lingering.
  std::optional<ConnectionCore> core;
  std::unique_ptr<char[]> buffer;  // kReceiveChunkBytes, allocated once per slot.
};

class UringLoop final : public IoLoop {
 public:
  UringLoop(ServerState& state, int listen_fd) : state_(state), listen_fd_(listen_fd) {}
  ~UringLoop() override;

  Status init();
  void run() override;
  void request_stop_accepting() override {
    commands_.stop_accepting();
    wake();
  }
  void request_stop(int64_t deadline_ms) override {
    commands_.stop(deadline_ms);
    wake();
  }

 private:
  io_uring_sqe* get_sqe();
  template <typename Prep>
  void submit_entry(uint64_t user_data, Prep&& prep) {
    io_uring_sqe* sqe = get_sqe();
    prep(sqe);
    io_uring_sqe_set_data64(sqe, user_data);
  }
  void wake() noexcept {
    const uint64_t one = 1;
    (void)!::write(event_fd_, &one, sizeof one);
  }

  void reap();
  void on_completion(uint64_t data, int result, unsigned flags);
  void do_accept();
  void on_accept(int result, unsigned flags);
  void open_connection(int fd);
  void do_receive(uint32_t slot);
  void on_receive(uint32_t slot, uint32_t generation, int result);
  void do_send(uint32_t slot);
  void on_send(uint32_t slot, uint32_t generation, int result);
  void pump(uint32_t slot);
  void drop(uint32_t slot, bool timed_out);
  void maybe_release(uint32_t slot);
  void cancel(uint64_t target);
  void do_wake_read();
  void do_tick();
  void on_tick();
  void drain_inbox();
  void apply_commands();
  void close_listener();
  void check_finished();

  ServerState& state_;
  int listen_fd_;
  int event_fd_ = -1;
  io_uring ring_{};
  bool ring_open_ = false;
  bool poll_first_ = false;  // Receives wait for data before their first attempt (init_ring).
  std::shared_ptr<Inbox> inbox_;
  LoopCommands commands_;
  ConnectionTable<UringConnection> table_;
  std::vector<Completion> drained_;

  bool multishot_accept_ = true;  // Cleared when the kernel rejects IORING_ACCEPT_MULTISHOT.
  bool accept_seen_ = false;      // Some accept succeeded, so multishot works.
  bool accept_armed_ = false;
  int64_t accept_paused_until_ms_ = 0;  // After EMFILE/ENFILE: retry at the next tick.
  bool wake_armed_ = false;
  uint64_t wake_value_ = 0;  // The eventfd read's target.
  bool tick_armed_ = false;
  __kernel_timespec tick_spec_{};
  bool stopping_ = false;
  bool finishing_ = false;  // Everything closed; cancelling the wake and tick reads.
  bool finished_ = false;
};

// Sets up a loop's (or the probe's) ring; returns io_uring_queue_init_params's result and sets
// `modern` when the kernel took the 5.19 flags (it then also knows IORING_RECVSEND_POLL_FIRST).
//
// COOP_TASKRUN: by default the kernel interrupts the loop's thread (an IPI, and on a VM an exit)
// whenever a completion arrives while it runs in user space, to run io_uring's task work at
// once. The loop enters the kernel after every batch anyway, so the work can wait for that:
// under rsvpd-load --scenario capacity-read these interrupts were a quarter of the io thread's
// time. (DEFER_TASKRUN, measured the same way, was slower: 66-69k against 92-105k reads/s.)
// Kernels before 5.19 refuse the flag with EINVAL and get the default.
int init_ring(io_uring& ring, bool& modern) {
  io_uring_params params{};
  params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  params.cq_entries = kCompletionEntries;
  int rc = io_uring_queue_init_params(kSubmissionEntries, &ring, &params);
  modern = rc >= 0;
  if (rc != -EINVAL) return rc;
  params = io_uring_params{};
  params.flags = IORING_SETUP_CQSIZE;
  params.cq_entries = kCompletionEntries;
  return io_uring_queue_init_params(kSubmissionEntries, &ring, &params);
}

UringLoop::~UringLoop() {
  if (ring_open_) io_uring_queue_exit(&ring_);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (event_fd_ >= 0) ::close(event_fd_);
}

Status UringLoop::init() {
  const int rc = init_ring(ring_, poll_first_);
  if (rc < 0) return uring_error("io_uring_queue_init", rc);
  ring_open_ = true;
  // Blocking on purpose: an io_uring read of a non-blocking eventfd may complete with -EAGAIN.
  event_fd_ = ::eventfd(0, EFD_CLOEXEC);
  if (event_fd_ < 0) return uring_error("eventfd", -errno);
  const int wake_fd = event_fd_;
  inbox_ = std::make_shared<Inbox>([wake_fd] {
    const uint64_t one = 1;
    (void)!::write(wake_fd, &one, sizeof one);
  });
  const int64_t tick_ms = state_.sweep_interval_ms();
  tick_spec_.tv_sec = tick_ms / 1000;
  tick_spec_.tv_nsec = (tick_ms % 1000) * 1000000;
  return Status::ok();
}

io_uring_sqe* UringLoop::get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
  if (sqe == nullptr) {
    // The submission queue is full: hand it to the kernel and take a fresh entry.
    (void)io_uring_submit(&ring_);
    sqe = io_uring_get_sqe(&ring_);
  }
  assert(sqe != nullptr);
  return sqe;
}

void UringLoop::run() {
  Inbox::current() = inbox_.get();
  do_wake_read();
  do_tick();
  do_accept();
  while (!finished_) {
    const int rc = io_uring_submit_and_wait(&ring_, 1);
    if (rc < 0 && rc != -EINTR && rc != -EBUSY && rc != -EAGAIN) {
      std::fprintf(stderr, "rsvpd: io_uring_submit_and_wait: %s\n", std::strerror(-rc));
      std::abort();  // The ring is unusable; nothing sane is left to do in this thread.
    }
    inbox_->begin_batch();
    reap();
    drain_inbox();
    apply_commands();
    check_finished();
  }
  inbox_->close();
  Inbox::current() = nullptr;
}

void UringLoop::reap() {
  unsigned head;
  unsigned count = 0;
  io_uring_cqe* cqe;
  io_uring_for_each_cqe(&ring_, head, cqe) {
    on_completion(cqe->user_data, cqe->res, cqe->flags);
    ++count;
  }
  io_uring_cq_advance(&ring_, count);
}

void UringLoop::on_completion(uint64_t data, int result, unsigned flags) {
  switch (decode_op(data)) {
    case Op::kAccept: return on_accept(result, flags);
    case Op::kReceive: return on_receive(decode_slot(data), decode_generation(data), result);
    case Op::kSend: return on_send(decode_slot(data), decode_generation(data), result);
    case Op::kCancel: return;  // The cancelled operation reports for itself.
    case Op::kWake:
      wake_armed_ = false;
      if (!finishing_) do_wake_read();
      return;
    case Op::kTick:
      tick_armed_ = false;
      if (!finishing_) on_tick();
      return;
  }
  assert(false && "completion with unknown user_data");
}

void UringLoop::do_accept() {
  if (accept_armed_ || listen_fd_ < 0 || steady_now_ms() < accept_paused_until_ms_) return;
  const bool multishot = multishot_accept_;
  submit_entry(encode(Op::kAccept), [&](io_uring_sqe* sqe) {
    if (multishot) {
      io_uring_prep_multishot_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    } else {
      io_uring_prep_accept(sqe, listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    }
  });
  accept_armed_ = true;
}

void UringLoop::on_accept(int result, unsigned flags) {
  if ((flags & IORING_CQE_F_MORE) == 0) accept_armed_ = false;
  if (result >= 0) {
    accept_seen_ = true;
    open_connection(result);
  } else if (result == -EINVAL && multishot_accept_ && !accept_seen_) {
    multishot_accept_ = false;  // Kernel before 5.19: re-arm single accepts instead.
  } else if (result == -EMFILE || result == -ENFILE || result == -ENOBUFS ||
             result == -ENOMEM) {
    accept_paused_until_ms_ = steady_now_ms() + state_.sweep_interval_ms();
  }
  do_accept();
}

void UringLoop::open_connection(int fd) {
  set_no_delay(fd);
  const int64_t now = steady_now_ms();
  const uint32_t slot = table_.acquire();
  UringConnection& c = table_.at(slot);
  c.fd = fd;
  c.receive_pending = c.send_pending = c.dropping = c.write_shut = false;
  c.stream_buffer_bounded = false;
  if (!c.buffer) c.buffer = std::make_unique<char[]>(kReceiveChunkBytes);
  c.admitted = state_.admit_connection();
  c.core.emplace(state_.limits(), state_.handler(), inbox_, slot, c.generation,
                 peer_address(fd), now);
  if (!c.admitted) {
    c.core->reject(RejectReason::kOverloaded, now);
  } else if (stopping_) {
    c.core->begin_shutdown(now);
  }
  pump(slot);
}

void UringLoop::pump(uint32_t slot) {
  UringConnection& c = table_.at(slot);
  if (c.dropping) return;
  ConnectionCore& core = *c.core;
  if (core.streaming() && !c.stream_buffer_bounded) {
    bound_stream_send_buffer(c.fd);
    c.stream_buffer_bounded = true;
  }
  if (!c.send_pending && !core.pending_output().empty()) do_send(slot);
  if (!c.send_pending && core.wants_close() && !c.write_shut) {
    // Half-close and drain, so the peer reads our last response instead of a reset.
    (void)::shutdown(c.fd, SHUT_WR);
    c.write_shut = true;
    core.start_linger(steady_now_ms());
  }
  if (!c.receive_pending && (core.lingering() || core.wants_read())) do_receive(slot);
}

void UringLoop::do_receive(uint32_t slot) {
  UringConnection& c = table_.at(slot);
  submit_entry(encode(Op::kReceive, slot, c.generation), [&](io_uring_sqe* sqe) {
    io_uring_prep_recv(sqe, c.fd, c.buffer.get(), kReceiveChunkBytes, 0);
    // A keep-alive connection's next request is rarely there yet when its receive is queued:
    // skip the attempt that would find nothing and wait for data first. Under capacity-read
    // this cut the io thread's CPU per request from 14-16 to 9-12 us.
    if (poll_first_) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
  });
  c.receive_pending = true;
}

void UringLoop::on_receive(uint32_t slot, uint32_t generation, int result) {
  UringConnection& c = table_.at(slot);
  assert(c.live && c.generation == generation && c.receive_pending);
  (void)generation;
  c.receive_pending = false;
  if (c.dropping) return maybe_release(slot);
  // EOF or an error (ECONNRESET and friends). EOF is taken as the client going away, not as a
  // half-close: its pending answers are dropped and its resources freed at once, which matters
  // when thousands of clients give up under load.
  if (result <= 0) return drop(slot, false);
  c.core->on_received({c.buffer.get(), static_cast<std::size_t>(result)}, steady_now_ms());
  pump(slot);
}

void UringLoop::do_send(uint32_t slot) {
  UringConnection& c = table_.at(slot);
  const std::string_view output = c.core->pending_output();
  submit_entry(encode(Op::kSend, slot, c.generation), [&](io_uring_sqe* sqe) {
    io_uring_prep_send(sqe, c.fd, output.data(), output.size(), MSG_NOSIGNAL);
  });
  c.send_pending = true;
}

void UringLoop::on_send(uint32_t slot, uint32_t generation, int result) {
  UringConnection& c = table_.at(slot);
  assert(c.live && c.generation == generation && c.send_pending);
  (void)generation;
  c.send_pending = false;
  if (c.dropping) return maybe_release(slot);
  if (result < 0) return drop(slot, false);  // EPIPE, ECONNRESET: the peer is gone.
  c.core->on_written(static_cast<std::size_t>(result), steady_now_ms());
  pump(slot);
}

void UringLoop::drop(uint32_t slot, bool timed_out) {
  UringConnection& c = table_.at(slot);
  assert(!c.dropping);
  c.dropping = true;
  if (timed_out) state_.count_timeout();
  if (c.receive_pending) cancel(encode(Op::kReceive, slot, c.generation));
  if (c.send_pending) cancel(encode(Op::kSend, slot, c.generation));
  maybe_release(slot);
}

void UringLoop::maybe_release(uint32_t slot) {
  UringConnection& c = table_.at(slot);
  if (c.receive_pending || c.send_pending) return;  // Their completions are still to come.
  ::close(c.fd);
  c.fd = -1;
  if (c.admitted) state_.release_connection();
  c.core.reset();
  table_.release(slot);
}

void UringLoop::cancel(uint64_t target) {
  submit_entry(encode(Op::kCancel), [&](io_uring_sqe* sqe) {
    io_uring_prep_cancel64(sqe, target, 0);
  });
}

void UringLoop::do_wake_read() {
  submit_entry(encode(Op::kWake), [&](io_uring_sqe* sqe) {
    io_uring_prep_read(sqe, event_fd_, &wake_value_, sizeof wake_value_, 0);
  });
  wake_armed_ = true;
}

void UringLoop::do_tick() {
  submit_entry(encode(Op::kTick), [&](io_uring_sqe* sqe) {
    io_uring_prep_timeout(sqe, &tick_spec_, 0, 0);
  });
  tick_armed_ = true;
}

void UringLoop::on_tick() {
  const int64_t now = steady_now_ms();
  const bool past_stop_deadline = stopping_ && now >= commands_.stop_deadline_ms();
  table_.for_each_live([&](uint32_t slot, UringConnection& c) {
    if (c.dropping) return;
    if (past_stop_deadline) return drop(slot, false);
    if (c.core->deadline_ms() <= now) drop(slot, !c.core->lingering());
  });
  do_accept();  // Resumes accepting after EMFILE/ENFILE.
  do_tick();
}

void UringLoop::drain_inbox() {
  const int64_t now = steady_now_ms();
  drain_turn(*inbox_, drained_, [&](Completion& completion) {
    UringConnection* c = table_.find(completion.slot, completion.generation);
    if (c == nullptr || c->dropping) {  // The connection is gone: drop the answer.
      discard(completion);
      return;
    }
    c->core->on_completion(std::move(completion), now);
    pump(completion.slot);
  });
}

void UringLoop::apply_commands() {
  if (commands_.stop_accepting_requested() && listen_fd_ >= 0) close_listener();
  if (stopping_ || commands_.stop_deadline_ms() == kNoDeadline) return;
  stopping_ = true;
  const int64_t now = steady_now_ms();
  table_.for_each_live([&](uint32_t slot, UringConnection& c) {
    if (c.dropping) return;
    c.core->begin_shutdown(now);
    pump(slot);
  });
}

void UringLoop::close_listener() {
  if (accept_armed_) cancel(encode(Op::kAccept));
  // The pending accept holds its own reference to the socket, so closing the descriptor after
  // the cancel is queued is safe; the accept completes with -ECANCELED.
  (void)io_uring_submit(&ring_);
  ::close(listen_fd_);
  listen_fd_ = -1;
}

void UringLoop::check_finished() {
  if (!stopping_ || table_.live_count() != 0 || accept_armed_) return;
  if (!finishing_) {
    finishing_ = true;
    if (tick_armed_) cancel(encode(Op::kTick));
    if (wake_armed_) cancel(encode(Op::kWake));
  }
  finished_ = !tick_armed_ && !wake_armed_;
}

}  // namespace

Status probe_uring() {
  // The same setup as a loop's, so that a loop that fails to start after a good probe is rare.
  io_uring ring{};
  bool modern = false;
  const int rc = init_ring(ring, modern);
  if (rc < 0) return uring_error("io_uring_queue_init", rc);
  Status status = Status::ok();
  io_uring_probe* probe = io_uring_get_probe_ring(&ring);
  if (probe == nullptr) {
    status = Status(StatusCode::kIoError, "io_uring_get_probe_ring failed");
  } else {
    const std::pair<int, const char*> needed[] = {
        {IORING_OP_ACCEPT, "IORING_OP_ACCEPT"}, {IORING_OP_RECV, "IORING_OP_RECV"},
        {IORING_OP_SEND, "IORING_OP_SEND"},     {IORING_OP_READ, "IORING_OP_READ"},
        {IORING_OP_TIMEOUT, "IORING_OP_TIMEOUT"},
        {IORING_OP_ASYNC_CANCEL, "IORING_OP_ASYNC_CANCEL"}};
    for (const auto& [op, name] : needed) {
      if (!io_uring_opcode_supported(probe, op)) {
        status = Status(StatusCode::kIoError, std::string("kernel lacks ") + name);
        break;
      }
    }
    io_uring_free_probe(probe);
  }
  io_uring_queue_exit(&ring);
  return status;
}

Result<std::unique_ptr<IoLoop>> make_uring_loop(ServerState& state, int listen_fd) {
  auto loop = std::make_unique<UringLoop>(state, listen_fd);
  Status status = loop->init();
  if (!status.is_ok()) return status;
  return std::unique_ptr<IoLoop>(std::move(loop));
}

}  // namespace rsvpd::http::detail
