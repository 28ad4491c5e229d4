#include "http/detail/inbox.h"
#include "http/request_handler.h"

#include <cassert>

namespace rsvpd::http {

const char* reject_reason_name(RejectReason reason) noexcept {
  switch (reason) {
    case RejectReason::kHeaderTooLarge: return "header_too_large";
    case RejectReason::kBodyTooLarge: return "body_too_large";
    case RejectReason::kBadRequest: return "bad_request";
    case RejectReason::kOverloaded: return "overloaded";
  }
  return "unknown";
}

ResponseSink::ResponseSink(std::shared_ptr<detail::Inbox> inbox, uint32_t slot,
                           uint32_t generation, uint64_t sequence) noexcept
    : inbox_(std::move(inbox)), slot_(slot), generation_(generation), sequence_(sequence) {}

ResponseSink::ResponseSink(ResponseSink&& other) noexcept
    : inbox_(std::move(other.inbox_)),
      slot_(other.slot_),
      generation_(other.generation_),
      sequence_(other.sequence_) {}

ResponseSink& ResponseSink::operator=(ResponseSink&& other) noexcept {
  if (this != &other) {
    if (valid()) send(HttpResponse{500, {}, {}, true});
    inbox_ = std::move(other.inbox_);
    slot_ = other.slot_;
    generation_ = other.generation_;
    sequence_ = other.sequence_;
  }
  return *this;
}

ResponseSink::~ResponseSink() {
  if (valid()) send(HttpResponse{500, {}, {}, true});
}

void ResponseSink::send(HttpResponse response) {
  assert(valid() && "ResponseSink::send called twice or on an empty sink");
  std::shared_ptr<detail::Inbox> inbox = std::move(inbox_);
  inbox_ = nullptr;
  // A closed inbox (the loop has stopped) drops the response; that is the documented contract.
  detail::Completion completion =
      detail::make_completion(slot_, generation_, sequence_, detail::CompletionKind::kResponse);
  completion.response = std::move(response);
  (void)inbox->push(std::move(completion));
}

void ResponseSink::post(std::function<void()> task) {
  assert(valid() && "ResponseSink::post on a used or empty sink");
  if (detail::Inbox::current() == inbox_.get()) return task();
  detail::Completion completion =
      detail::make_completion(slot_, generation_, sequence_, detail::CompletionKind::kTask);
  completion.task = std::move(task);
  (void)inbox_->push(std::move(completion));  // Closed: the task dies here, unrun.
}

StreamWriter ResponseSink::start_stream(HttpResponse head) {
  assert(valid() && "ResponseSink::start_stream on a used or empty sink");
  std::shared_ptr<detail::Inbox> inbox = std::move(inbox_);
  inbox_ = nullptr;
  auto control = std::make_shared<detail::StreamControl>();
  head.body.clear();
  detail::Completion completion =
      detail::make_completion(slot_, generation_, sequence_, detail::CompletionKind::kStreamOpen);
  completion.response = std::move(head);
  completion.stream = control;
  (void)inbox->push(std::move(completion));  // A closed inbox marks the stream gone.
  return detail::SinkAccess::make_stream(std::move(inbox), slot_, generation_, sequence_,
                                         std::move(control));
}

}  // namespace rsvpd::http
