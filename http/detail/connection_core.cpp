#include "http/detail/connection_core.h"

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>

namespace rsvpd::http::detail {

namespace bhttp = boost::beast::http;

namespace {

// The shortest end of a chunked body: the last chunk and the empty trailer, "0\r\n\r\n".
constexpr std::size_t kChunkedTailBytesMin = 5;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// Headers the transport owns; a handler's copies would contradict the framing.
bool is_framing_header(std::string_view name) noexcept {
  return iequals(name, "content-length") || iequals(name, "transfer-encoding") ||
         iequals(name, "connection");
}

void append_number(std::string& out, std::size_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  assert(ec == std::errc());
  out.append(digits, end);
}

// Status line and the handler's headers, framing headers left out.
void serialize_status_and_headers(const HttpResponse& response, std::string& out) {
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(response.status));
  out += ' ';
  out += bhttp::obsolete_reason(static_cast<bhttp::status>(response.status));
  out += "\r\n";
  for (const auto& [name, value] : response.headers) {
    if (is_framing_header(name)) continue;
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

}  // namespace

void serialize_stream_head(const HttpResponse& head, std::string& out) {
  assert(head.status >= 200 && head.status <= 999);
  serialize_status_and_headers(head, out);
  out += "Connection: close\r\n\r\n";
}

void serialize_response(const HttpResponse& response, unsigned version, bool close,
                        bool omit_body, std::string& out) {
  assert(response.status >= 200 && response.status <= 999);
  assert(response.status != 204 || response.body.empty());
  serialize_status_and_headers(response, out);
  if (response.status != 204) {  // RFC 9110 §8.6: no Content-Length on 204.
    out += "Content-Length: ";
    append_number(out, response.body.size());
    out += "\r\n";
  }
  if (close) {
    out += "Connection: close\r\n";
  } else if (version == 10) {
    out += "Connection: keep-alive\r\n";  // HTTP/1.0 closes unless told otherwise.
  }
  out += "\r\n";
  if (!omit_body) out += response.body;
}

ConnectionCore::ConnectionCore(const CoreLimits& limits, RequestHandler& handler,
                               std::shared_ptr<Inbox> inbox, uint32_t slot, uint32_t generation,
                               std::string remote_address, int64_t now_ms)
    : limits_(limits),
      handler_(handler),
      inbox_(std::move(inbox)),
      slot_(slot),
      generation_(generation),
      remote_address_(std::move(remote_address)),
      idle_since_ms_(now_ms) {
  reset_parser();
}

ConnectionCore::~ConnectionCore() {
  // Release: pairs with StreamWriter::peer_gone's acquire.
  if (stream_) stream_->gone.store(true, std::memory_order_release);
}

void ConnectionCore::reset_parser() {
  parser_.emplace();
  // Beast's own header limit is only a backstop: when the request line and the fields arrive
  // in one put() it applies the limit to each of them apart, so a header of up to twice the
  // limit passed or not depending on how its bytes were split into reads (found by
  // tests/fuzz/fuzz_http_request). do_parse() counts the whole header itself.
  parser_->header_limit(limits_.header_bytes_max);
  parser_->body_limit(limits_.body_bytes_max);
  // Stop at the end of the header, so that put() reports the header's size; do_parse() turns
  // eager parsing on for the body.
  parser_->eager(false);
  header_bytes_ = 0;
}

bool ConnectionCore::has_partial_request() const noexcept {
  return !input_.empty() || parser_->got_some();
}

void ConnectionCore::on_received(std::string_view bytes, int64_t now_ms) {
  if (reading_closed_) return;  // Lingering or closing: the peer's extra bytes are discarded.
  if (!has_partial_request()) request_started_ms_ = now_ms;
  input_.append(bytes);
  do_parse(now_ms);
}

void ConnectionCore::do_parse(int64_t now_ms) {
  while (!reading_closed_ && !input_.empty() && slots_.size() < kPipelineDepthMax) {
    // Boost 1.81's Beast asserts n >= 5 in parse_chunk_header when put() re-enters a last chunk
    // it has seen but not finished ("0\r\n" then "\r"; boostorg/beast#2861, fixed in 1.86), and
    // assertions stay on in every build: an abort any client could cause (found by
    // tests/fuzz/fuzz_http_request). Beast consumes nothing of the last chunk until the message
    // ends, and every unfinished chunked body still needs at least "0\r\n\r\n" unconsumed, so
    // waiting for five bytes changes no answer.
    if (parser_->is_header_done() && parser_->chunked() && input_.size() < kChunkedTailBytesMin) {
      break;
    }
    boost::system::error_code ec;
    const bool in_header = !parser_->is_header_done();
    const std::size_t used = parser_->put(boost::asio::buffer(input_), ec);
    input_.erase(0, used);
    if (ec && ec != bhttp::error::need_more) return on_parse_error(ec, now_ms);
    if (in_header) {
      // Request line and fields together. While the header is unfinished, every buffered byte
      // belongs to it.
      header_bytes_ += used;
      const bool header_done = parser_->is_header_done();
      const std::size_t header_bytes = header_done ? header_bytes_ : header_bytes_ + input_.size();
      if (header_bytes > limits_.header_bytes_max) {
        return reject(RejectReason::kHeaderTooLarge, now_ms);
      }
      if (header_done) parser_->eager(true);  // The body's chunks in as few put()s as possible.
    }
    if (ec == bhttp::error::need_more) break;
    if (parser_->is_done()) {
      on_message(now_ms);
      request_started_ms_ = now_ms;  // Whatever follows is the next request's beginning.
    } else if (used == 0) {
      break;
    }
  }
  if (!reading_closed_) maybe_send_continue(now_ms);
}

// Clients such as curl send `Expect: 100-continue` and wait (about a second) before sending a
// body. The interim answer may only go out when nothing is owed before it, or it would overtake
// earlier responses; otherwise the client sends the body after its own wait.
void ConnectionCore::maybe_send_continue(int64_t now_ms) {
  if (continue_sent_ || !parser_->is_header_done() || parser_->is_done()) return;
  if (!slots_.empty()) return;
  if (!output_pending_.empty() || !output_writing_.empty()) return;
  const auto& header = parser_->get();
  if (header.version() != 11) return;
  const auto expect = header.find(bhttp::field::expect);
  if (expect == header.end() || !iequals(expect->value(), "100-continue")) return;
  output_pending_ = "HTTP/1.1 100 Continue\r\n\r\n";
  write_progress_ms_ = now_ms;
  continue_sent_ = true;
}

void ConnectionCore::on_message(int64_t now_ms) {
  (void)now_ms;
  bhttp::request<bhttp::string_body> message = parser_->release();
  reset_parser();
  continue_sent_ = false;
  Slot& slot = slots_.emplace_back();
  slot.keep_alive = message.keep_alive();
  slot.version = message.version();
  slot.head = message.method() == bhttp::verb::head;
  const uint64_t sequence = first_sequence_ + slots_.size() - 1;
  if (!slot.keep_alive) reading_closed_ = true;  // Nothing after a closing request is read.

  HttpRequest request;
  request.method = message.method();
  request.method_text = std::string(message.method_string());
  request.target = std::string(message.target());
  request.version = message.version();
  request.body = std::move(message.body());
  request.headers = std::move(message.base());
  request.remote_address = remote_address_;
  handler_.handle(std::move(request), SinkAccess::make(inbox_, slot_, generation_, sequence));
}

void ConnectionCore::on_parse_error(const boost::system::error_code& ec, int64_t now_ms) {
  RejectReason reason = RejectReason::kBadRequest;
  if (ec == bhttp::error::header_limit) reason = RejectReason::kHeaderTooLarge;
  if (ec == bhttp::error::body_limit) reason = RejectReason::kBodyTooLarge;
  reject(reason, now_ms);
}

void ConnectionCore::reject(RejectReason reason, int64_t now_ms) {
  reading_closed_ = true;
  input_.clear();
  Slot& slot = slots_.emplace_back();
  slot.keep_alive = false;
  const uint64_t sequence = first_sequence_ + slots_.size() - 1;
  HttpResponse response = handler_.reject(reason);
  response.close_connection = true;
  on_response(sequence, std::move(response), now_ms);
}

void ConnectionCore::begin_shutdown(int64_t now_ms) {
  (void)now_ms;
  reading_closed_ = true;
  input_.clear();
  if (slots_.empty()) closing_ = true;  // An open stream ends with what it has queued.
}

void ConnectionCore::on_response(uint64_t sequence, HttpResponse&& response, int64_t now_ms) {
  if (sequence < first_sequence_ || sequence - first_sequence_ >= slots_.size()) return;
  Slot& slot = slots_[sequence - first_sequence_];
  if (slot.ready) return;
  const bool last_before_shutdown =
      reading_closed_ && sequence - first_sequence_ + 1 == slots_.size();
  slot.close = response.close_connection || !slot.keep_alive || last_before_shutdown;
  serialize_response(response, slot.version, slot.close, slot.head, slot.bytes);
  slot.ready = true;
  if (output_pending_.empty() && output_writing_.empty()) write_progress_ms_ = now_ms;
  flush_ready_slots();
  do_parse(now_ms);  // A full pipeline has room again.
}

void ConnectionCore::on_completion(Completion&& completion, int64_t now_ms) {
  switch (completion.kind) {
    case CompletionKind::kResponse:
      return on_response(completion.sequence, std::move(completion.response), now_ms);
    case CompletionKind::kStreamOpen:
      return on_stream_open(completion.sequence, std::move(completion.response),
                            std::move(completion.stream), now_ms);
    case CompletionKind::kStreamBytes:
      return on_stream_bytes(completion.sequence, std::move(completion.response.body), now_ms);
    case CompletionKind::kStreamClose: return on_stream_close(completion.sequence);
    case CompletionKind::kTask: assert(false && "drain_turn runs tasks"); return;
  }
}

ConnectionCore::Slot* ConnectionCore::waiting_slot(uint64_t sequence) noexcept {
  if (sequence < first_sequence_ || sequence - first_sequence_ >= slots_.size()) return nullptr;
  return &slots_[sequence - first_sequence_];
}

void ConnectionCore::on_stream_open(uint64_t sequence, HttpResponse&& head,
                                    std::shared_ptr<StreamControl> control, int64_t now_ms) {
  Slot* slot = waiting_slot(sequence);
  if (slot == nullptr || slot->ready || stream_) {
    // Release: pairs with StreamWriter::peer_gone's acquire; the producer stops at once.
    control->gone.store(true, std::memory_order_release);
    return;
  }
  stream_ = std::move(control);
  stream_sequence_ = sequence;
  serialize_stream_head(head, slot->bytes);
  slot->stream = true;
  slot->close = true;  // Nothing after a stream is answered; see flush_ready_slots().
  slot->ready = true;
  if (output_pending_.empty() && output_writing_.empty()) write_progress_ms_ = now_ms;
  flush_ready_slots();
}

void ConnectionCore::on_stream_bytes(uint64_t sequence, std::string&& bytes, int64_t now_ms) {
  if (!stream_ || sequence != stream_sequence_ || closing_) return;
  stream_unwritten_bytes_ += static_cast<int64_t>(bytes.size());
  if (!streaming_) {
    Slot* slot = waiting_slot(sequence);
    assert(slot != nullptr && slot->stream);
    slot->bytes += bytes;
    return;
  }
  if (output_pending_.empty() && output_writing_.empty()) write_progress_ms_ = now_ms;
  output_pending_ += bytes;
}

void ConnectionCore::on_stream_close(uint64_t sequence) {
  if (!stream_ || sequence != stream_sequence_) return;
  if (streaming_) {
    closing_ = true;
    return;
  }
  Slot* slot = waiting_slot(sequence);
  if (slot != nullptr) slot->stream_ended = true;
}

void ConnectionCore::flush_ready_slots() {
  while (!slots_.empty() && slots_.front().ready) {
    Slot& front = slots_.front();
    output_pending_ += front.bytes;
    const bool close = front.close;
    // A stream keeps the connection open after its head until its producer closes it.
    if (front.stream && !front.stream_ended) streaming_ = true;
    slots_.pop_front();
    ++first_sequence_;
    if (close) {
      // Later requests are dropped unanswered; their sinks' responses become stale.
      first_sequence_ += slots_.size();
      slots_.clear();
      reading_closed_ = true;
      input_.clear();
    }
  }
  if (reading_closed_ && slots_.empty() && !streaming_) closing_ = true;
}

std::string_view ConnectionCore::pending_output() {
  if (output_writing_.empty()) output_writing_.swap(output_pending_);
  return std::string_view(output_writing_).substr(0, kSendChunkBytesMax);
}

void ConnectionCore::on_written(std::size_t bytes, int64_t now_ms) {
  assert(bytes <= output_writing_.size());
  output_writing_.erase(0, bytes);
  if (stream_unwritten_bytes_ > 0) {
    // The head's bytes are counted too, so the figure may reach zero a little early: a
    // back-pressure estimate, never an overcount.
    const int64_t taken = std::min(stream_unwritten_bytes_, static_cast<int64_t>(bytes));
    stream_unwritten_bytes_ -= taken;
    // Relaxed: a back-pressure figure (StreamControl).
    stream_->unwritten_bytes.fetch_sub(taken, std::memory_order_relaxed);
  }
  write_progress_ms_ = now_ms;
  if (output_writing_.empty() && output_pending_.empty() && slots_.empty()) {
    idle_since_ms_ = now_ms;
  }
  if (!reading_closed_) do_parse(now_ms);  // A full pipeline may have room again.
}

bool ConnectionCore::wants_read() const noexcept {
  return !reading_closed_ && slots_.size() < kPipelineDepthMax &&
         input_.size() < limits_.header_bytes_max + kReceiveChunkBytes;
}

bool ConnectionCore::wants_close() const noexcept {
  return closing_ && output_pending_.empty() && output_writing_.empty();
}

void ConnectionCore::start_linger(int64_t now_ms) noexcept {
  const int64_t linger_ms = std::min<int64_t>(kLingerMsMax, limits_.read_timeout_ms);
  linger_deadline_ms_ = now_ms + linger_ms;
}

int64_t ConnectionCore::deadline_ms() const noexcept {
  if (lingering()) return linger_deadline_ms_;
  if (!output_pending_.empty() || !output_writing_.empty()) {
    return write_progress_ms_ + limits_.write_timeout_ms;
  }
  if (reading_closed_) return kNoDeadline;  // Waiting for the handler; wants_close() follows.
  if (slots_.size() >= kPipelineDepthMax) return kNoDeadline;  // Our turn, not the client's.
  if (has_partial_request()) return request_started_ms_ + limits_.read_timeout_ms;
  if (slots_.empty()) return idle_since_ms_ + limits_.idle_timeout_ms;
  return kNoDeadline;
}

bool ConnectionCore::quiescent() const noexcept {
  return slots_.empty() && !has_partial_request() && output_pending_.empty() &&
         output_writing_.empty();
}

}  // namespace rsvpd::http::detail
