#include "http/stream_writer.h"

#include <cassert>

#include "http/detail/inbox.h"

namespace rsvpd::http {

StreamWriter::StreamWriter(std::shared_ptr<detail::Inbox> inbox, uint32_t slot,
                           uint32_t generation, uint64_t sequence,
                           std::shared_ptr<detail::StreamControl> control) noexcept
    : inbox_(std::move(inbox)),
      slot_(slot),
      generation_(generation),
      sequence_(sequence),
      control_(std::move(control)) {}

StreamWriter& StreamWriter::operator=(StreamWriter&& other) noexcept {
  if (this != &other) {
    close();
    inbox_ = std::move(other.inbox_);
    slot_ = other.slot_;
    generation_ = other.generation_;
    sequence_ = other.sequence_;
    control_ = std::move(other.control_);
  }
  return *this;
}

StreamWriter::~StreamWriter() { close(); }

bool StreamWriter::write(std::string bytes) {
  assert(valid() && "StreamWriter::write on a closed or empty writer");
  if (peer_gone()) return false;
  const auto size = static_cast<int64_t>(bytes.size());
  // Relaxed: a back-pressure figure (see StreamControl).
  control_->unwritten_bytes.fetch_add(size, std::memory_order_relaxed);
  detail::Completion completion =
      detail::make_completion(slot_, generation_, sequence_, detail::CompletionKind::kStreamBytes);
  completion.response.body = std::move(bytes);
  return inbox_->push(std::move(completion));
}

void StreamWriter::close() {
  if (!valid()) return;
  detail::Completion completion =
      detail::make_completion(slot_, generation_, sequence_, detail::CompletionKind::kStreamClose);
  (void)inbox_->push(std::move(completion));
  inbox_ = nullptr;
}

bool StreamWriter::peer_gone() const noexcept {
  // Acquire: pairs with the connection's release when it closed.
  return control_ == nullptr || control_->gone.load(std::memory_order_acquire);
}

int64_t StreamWriter::unwritten_bytes() const noexcept {
  return control_ == nullptr ? 0 : control_->unwritten_bytes.load(std::memory_order_relaxed);
}

}  // namespace rsvpd::http
