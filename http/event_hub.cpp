#include "http/event_hub.h"

#include <pthread.h>

#include <algorithm>
#include <cassert>
#include <chrono>
#include <unordered_map>
#include <utility>

#include "http/detail/representation.h"
#include "http/json_writer.h"

namespace rsvpd::http {
namespace {

using Clock = std::chrono::steady_clock;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}

bool is_rsvp_event(AuditOp op) noexcept {
  return op == AuditOp::kRsvpConfirmed || op == AuditOp::kRsvpWaitlisted ||
         op == AuditOp::kRsvpPromoted || op == AuditOp::kRsvpCancelled;
}

// One SSE event: `id`, `event` and a one-line `data` (our JSON never holds a raw newline).
std::string render_event(uint64_t id, std::string_view name, const picojson::value& data) {
  std::string text = "id: " + std::to_string(id) + "\nevent: ";
  text += name;
  text += "\ndata: ";
  text += to_json_text(data);
  text += "\n\n";
  return text;
}

std::string render_capacity(const CapacityView& view, uint64_t id) {
  picojson::value data = detail::capacity_json(view, /*with_would=*/false);
  data.get<picojson::object>()["version"] = json_int(static_cast<int64_t>(view.version));
  return render_event(id, "capacity", data);
}

// The RSVP as read now, showing the status the event moved it to: a later commit may already
// have moved it on, and a replayed event must still say what happened at its seq.
std::string render_rsvp(const AuditRecord& entry, const RsvpView& view) {
  picojson::value data = detail::rsvp_json(view);
  picojson::object& object = data.get<picojson::object>();
  const bool current = entry.to_status == rsvp_status_name(view.record.status);
  object["status"] = json_string(entry.to_status);
  if (!current) object["waitlist_position"] = json_null();
  return render_event(entry.seq, audit_op_name(entry.op), data);
}

constexpr std::string_view kPing = ": ping\n\n";

}  // namespace

namespace {

struct Subscriber {
  StreamWriter stream;
  uint64_t last_seq = 0;       // The highest event id written to it.
  bool stale = false;          // Capacity: a newer state is owed (it was coalesced).
  uint64_t skipped_seq = 0;    // Capacity: the newest id skipped for it (counted once).
  int64_t last_write_ms = 0;   // For the heartbeat.
};

struct Joining {
  bool user = false;
  std::string key;  // Activity id or user id.
  uint64_t after_seq = 0;  // User streams: replay from LMDB after this seq, then go live.
  StreamWriter stream;
};

}  // namespace

struct EventHub::State {
  // Guarded by mutex: what the writer and the io threads hand to the hub thread.
  std::mutex mutex;
  std::condition_variable wake;
  bool stopping = false;
  std::vector<Joining> joining;
  std::vector<AuditRecord> entries;                      // RSVP transitions for user streams.
  std::unordered_map<std::string, uint64_t> touched;     // Activity → its last seq this round.
  bool overflowed = false;                               // entries hit kSsePendingEntriesMax.
  // Read by the writer without the lock to skip copying when nobody listens. Relaxed: a stale
  // read only copies entries nobody needs, or skips entries for a user registered later, whose
  // admission replays from LMDB anyway.
  std::atomic<uint32_t> user_subscribers{0};

  // Hub thread only.
  std::unordered_map<std::string, std::vector<Subscriber>> by_activity;
  std::unordered_map<std::string, std::vector<Subscriber>> by_user;
  size_t stale_count = 0;
  int64_t next_heartbeat_ms = 0;
};

namespace {

// The hub thread's round: everything that needs the Service and the subscriber maps.
class Round {
 public:
  Round(EventHub::State& state, Service& service, const EventHubOptions& options,
        EventHubMetrics& metrics)
      : state_(state), service_(service), options_(options), metrics_(metrics) {}

  void admit(Joining joining);
  void fan_out_user(const std::vector<AuditRecord>& entries);
  void fan_out_capacity(const std::unordered_map<std::string, uint64_t>& touched);
  void retry_stale();
  void heartbeat(int64_t now_ms);
  void drop_users();
  void close_all();
  void sweep();

 private:
  bool write(Subscriber& subscriber, std::string text);
  void write_capacity(const std::string& activity_id, uint64_t seq_floor,
                      std::vector<Subscriber>& subscribers, bool only_stale);
  size_t replay(const std::string& user_id, uint64_t after_seq, Subscriber& subscriber);
  void forget(Subscriber& subscriber);

  EventHub::State& state_;
  Service& service_;
  const EventHubOptions& options_;
  EventHubMetrics& metrics_;
  const Caller hub_caller_{"rsvpd-events", false, true, ""};  // Reads any RSVP.
};

bool Round::write(Subscriber& subscriber, std::string text) {
  if (!subscriber.stream.valid() || !subscriber.stream.write(std::move(text))) return false;
  subscriber.last_write_ms = steady_ms();
  return true;
}

void Round::forget(Subscriber& subscriber) {
  if (subscriber.stale) --state_.stale_count;
  subscriber.stale = false;
  subscriber.stream.close();
}

void Round::write_capacity(const std::string& activity_id, uint64_t seq_floor,
                           std::vector<Subscriber>& subscribers, bool only_stale) {
  const ServiceOutcome<CapacityView> view = service_.capacity(activity_id, std::nullopt);
  if (!view.ok()) return;  // Gone from the table mid-round; the next change says more.
  // An archived activity is read from LMDB without its last seq: the round's seq stands in.
  const uint64_t id = std::max(view.value.last_audit_seq, seq_floor);
  std::string text;
  for (Subscriber& subscriber : subscribers) {
    if (only_stale && !subscriber.stale) continue;
    if (id <= subscriber.last_seq && !subscriber.stale) continue;
    if (subscriber.stream.unwritten_bytes() > options_.coalesce_bytes_max) {
      if (!subscriber.stale) ++state_.stale_count;
      subscriber.stale = true;
      if (id > subscriber.skipped_seq) {
        subscriber.skipped_seq = id;
        // Relaxed: a figure.
        metrics_.events_coalesced_total.fetch_add(1, std::memory_order_relaxed);
      }
      continue;
    }
    if (text.empty()) text = render_capacity(view.value, id);
    if (subscriber.stale) --state_.stale_count;
    subscriber.stale = false;
    if (!write(subscriber, text)) continue;
    subscriber.last_seq = std::max(subscriber.last_seq, id);
    metrics_.events_sent_total.fetch_add(1, std::memory_order_relaxed);
  }
}

size_t Round::replay(const std::string& user_id, uint64_t after_seq, Subscriber& subscriber) {
  size_t replayed = 0;
  uint64_t after = after_seq;
  // The client has everything up to after_seq: live entries of this round at or below it are
  // not sent again, even when the replay itself finds nothing.
  subscriber.last_seq = std::max(subscriber.last_seq, after_seq);
  while (replayed < kSseReplayEntriesMax) {
    const size_t limit = std::min(kSseReplayPageEntries, kSseReplayEntriesMax - replayed);
    ServiceOutcome<AuditPage> page = service_.user_audit(user_id, after, limit);
    if (!page.ok()) break;
    for (const AuditRecord& entry : page.value.entries) {
      after = entry.seq;
      subscriber.last_seq = entry.seq;
      if (!is_rsvp_event(entry.op)) continue;
      const ServiceOutcome<RsvpView> rsvp = service_.get_rsvp(hub_caller_, entry.rsvp_id);
      if (!rsvp.ok()) continue;
      if (write(subscriber, render_rsvp(entry, rsvp.value))) {
        metrics_.events_sent_total.fetch_add(1, std::memory_order_relaxed);
      }
      ++replayed;
    }
    if (!page.value.next_after) return replayed;
  }
  return replayed;
}

void Round::admit(Joining joining) {
  Subscriber subscriber;
  subscriber.stream = std::move(joining.stream);
  subscriber.last_write_ms = steady_ms();
  if (!joining.user) {
    auto& list = state_.by_activity[joining.key];
    list.push_back(std::move(subscriber));
    list.back().stale = true;  // The current state is owed at once.
    ++state_.stale_count;
    write_capacity(joining.key, 0, list, /*only_stale=*/true);
    return;
  }
  auto& list = state_.by_user[joining.key];
  list.push_back(std::move(subscriber));
  // Relaxed: see State::user_subscribers.
  state_.user_subscribers.fetch_add(1, std::memory_order_relaxed);
  if (replay(joining.key, joining.after_seq, list.back()) >= kSseReplayEntriesMax) {
    forget(list.back());  // More is owed than one replay sends: the client resumes from here.
  }
}

void Round::fan_out_user(const std::vector<AuditRecord>& entries) {
  std::unordered_map<uint64_t, std::optional<RsvpView>> rsvps;  // Read once per round.
  for (const AuditRecord& entry : entries) {
    auto found = state_.by_user.find(entry.user_id);
    if (found == state_.by_user.end()) continue;
    auto [cached, fresh] = rsvps.try_emplace(entry.rsvp_id);
    if (fresh) {
      ServiceOutcome<RsvpView> rsvp = service_.get_rsvp(hub_caller_, entry.rsvp_id);
      if (rsvp.ok()) cached->second = std::move(rsvp.value);
    }
    if (!cached->second) continue;
    const std::string text = render_rsvp(entry, *cached->second);
    for (Subscriber& subscriber : found->second) {
      if (entry.seq <= subscriber.last_seq || !subscriber.stream.valid()) continue;
      if (subscriber.stream.unwritten_bytes() > options_.stream_bytes_max) {
        forget(subscriber);
        metrics_.clients_dropped_total.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (!write(subscriber, text)) continue;
      subscriber.last_seq = entry.seq;
      metrics_.events_sent_total.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Round::fan_out_capacity(const std::unordered_map<std::string, uint64_t>& touched) {
  for (const auto& [activity_id, seq] : touched) {
    auto found = state_.by_activity.find(activity_id);
    if (found == state_.by_activity.end()) continue;
    write_capacity(activity_id, seq, found->second, /*only_stale=*/false);
  }
}

void Round::retry_stale() {
  if (state_.stale_count == 0) return;
  for (auto& [activity_id, subscribers] : state_.by_activity) {
    write_capacity(activity_id, 0, subscribers, /*only_stale=*/true);
  }
}

void Round::heartbeat(int64_t now_ms) {
  const auto ping = [&](std::vector<Subscriber>& subscribers) {
    for (Subscriber& subscriber : subscribers) {
      if (now_ms - subscriber.last_write_ms < options_.heartbeat_ms) continue;
      if (!subscriber.stream.valid()) continue;
      // A client with output still queued is not quiet; the write timeout watches it.
      if (subscriber.stream.unwritten_bytes() > options_.coalesce_bytes_max) continue;
      (void)write(subscriber, std::string(kPing));
    }
  };
  for (auto& [key, subscribers] : state_.by_activity) ping(subscribers);
  for (auto& [key, subscribers] : state_.by_user) ping(subscribers);
}

void Round::drop_users() {
  for (auto& [key, subscribers] : state_.by_user) {
    for (Subscriber& subscriber : subscribers) {
      if (!subscriber.stream.valid()) continue;
      forget(subscriber);
      metrics_.clients_dropped_total.fetch_add(1, std::memory_order_relaxed);
    }
  }
}

void Round::close_all() {
  for (auto* map : {&state_.by_activity, &state_.by_user}) {
    for (auto& [key, subscribers] : *map) {
      for (Subscriber& subscriber : subscribers) forget(subscriber);
    }
  }
  sweep();
}

// Removes closed streams and streams whose peer left, and gives their places back.
void Round::sweep() {
  const auto sweep_map = [&](std::unordered_map<std::string, std::vector<Subscriber>>& map,
                             bool users) {
    for (auto it = map.begin(); it != map.end();) {
      auto& subscribers = it->second;
      const auto gone = std::remove_if(subscribers.begin(), subscribers.end(),
                                       [](const Subscriber& s) {
                                         return !s.stream.valid() || s.stream.peer_gone();
                                       });
      for (auto removed = gone; removed != subscribers.end(); ++removed) {
        if (removed->stale) --state_.stale_count;
        metrics_.clients.fetch_sub(1, std::memory_order_relaxed);
        if (users) state_.user_subscribers.fetch_sub(1, std::memory_order_relaxed);
      }
      subscribers.erase(gone, subscribers.end());
      it = subscribers.empty() ? map.erase(it) : std::next(it);
    }
  };
  sweep_map(state_.by_activity, false);
  sweep_map(state_.by_user, true);
}

}  // namespace

EventHub::EventHub(EventHubOptions options, JsonLog& log)
    : options_(options), log_(log), state_(std::make_unique<State>()) {
  assert(options_.clients_max >= 1 && options_.clients_max <= kSseClientsMaxLimit);
  assert(options_.heartbeat_ms >= 1 && options_.stale_retry_ms >= 1);
}

EventHub::~EventHub() { stop(); }

void EventHub::start(Service& service) {
  assert(service_ == nullptr && "EventHub::start called twice");
  service_ = &service;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "rsvpd-events");  // For top -H, perf and gdb.
    run();
  });
}

void EventHub::stop() {
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool EventHub::reserve_client() {
  // Relaxed: a cap, not a synchronization point; an overshoot is undone at once.
  if (metrics_.clients.fetch_add(1, std::memory_order_relaxed) >= options_.clients_max) {
    metrics_.clients.fetch_sub(1, std::memory_order_relaxed);
    metrics_.clients_rejected_total.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void EventHub::release_client() { metrics_.clients.fetch_sub(1, std::memory_order_relaxed); }

void EventHub::subscribe_activity(std::string activity_id, StreamWriter stream) {
  Joining joining{false, std::move(activity_id), 0, std::move(stream)};
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->stopping) {
      release_client();
      return;  // `joining` closes its stream on destruction.
    }
    state_->joining.push_back(std::move(joining));
  }
  state_->wake.notify_one();
}

void EventHub::subscribe_user(std::string user_id, uint64_t after_seq, StreamWriter stream) {
  Joining joining{true, std::move(user_id), after_seq, std::move(stream)};
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->stopping) {
      release_client();
      return;
    }
    state_->joining.push_back(std::move(joining));
  }
  state_->wake.notify_one();
}

void EventHub::on_recovered(uint64_t last_audit_seq) {
  // Release: pairs with committed_seq()'s acquire (the value is all a reader needs).
  committed_seq_.store(last_audit_seq, std::memory_order_release);
}

void EventHub::on_commit(const std::vector<AuditRecord>& entries) {
  assert(!entries.empty() && entries.back().seq > committed_seq_.load(std::memory_order_relaxed));
  // Release: pairs with committed_seq()'s acquire. Before the early return below: a live user
  // stream starts after this seq whether or not anyone listened when it was committed.
  committed_seq_.store(entries.back().seq, std::memory_order_release);
  // Relaxed: with no stream open there is nothing to tell; a stream opened meanwhile starts
  // from the committed state it reads itself.
  if (metrics_.clients.load(std::memory_order_relaxed) == 0) return;
  const bool users = state_->user_subscribers.load(std::memory_order_relaxed) != 0;
  {
    std::lock_guard<std::mutex> lock(state_->mutex);
    for (const AuditRecord& entry : entries) {
      uint64_t& seq = state_->touched[entry.activity_id];
      seq = std::max(seq, entry.seq);
      if (!users || !is_rsvp_event(entry.op) || entry.user_id.empty()) continue;
      if (state_->entries.size() >= kSsePendingEntriesMax) {
        state_->overflowed = true;
        continue;
      }
      state_->entries.push_back(entry);
    }
  }
  state_->wake.notify_one();
}

void EventHub::run() {
  State& state = *state_;
  Round round(state, *service_, options_, metrics_);
  std::vector<Joining> joining;
  std::vector<AuditRecord> entries;
  std::unordered_map<std::string, uint64_t> touched;
  std::unique_lock<std::mutex> lock(state.mutex);
  state.next_heartbeat_ms = steady_ms() + options_.heartbeat_ms;
  while (!state.stopping) {
    const int64_t wait_ms = state.stale_count > 0
                                ? options_.stale_retry_ms
                                : std::max<int64_t>(1, state.next_heartbeat_ms - steady_ms());
    state.wake.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] {
      return state.stopping || !state.joining.empty() || !state.entries.empty() ||
             !state.touched.empty() || state.overflowed;
    });
    if (state.stopping) break;
    joining.swap(state.joining);
    entries.swap(state.entries);
    touched.swap(state.touched);
    const bool overflowed = std::exchange(state.overflowed, false);
    lock.unlock();

    // Admission first: a new user stream replays up to what LMDB holds now, and the entries of
    // this round then skip what it replayed (no gap, no duplicate at the seam).
    for (Joining& join : joining) round.admit(std::move(join));
    joining.clear();
    if (overflowed) round.drop_users();
    round.fan_out_user(entries);
    entries.clear();
    round.fan_out_capacity(touched);
    touched.clear();
    round.retry_stale();
    const int64_t now_ms = steady_ms();
    if (now_ms >= state.next_heartbeat_ms) {
      round.heartbeat(now_ms);
      state.next_heartbeat_ms = now_ms + std::min<int64_t>(options_.heartbeat_ms, 1000);
    }
    round.sweep();
    lock.lock();
  }
  for (Joining& join : state.joining) {
    (void)join;
    metrics_.clients.fetch_sub(1, std::memory_order_relaxed);
  }
  state.joining.clear();  // Their writers close their streams.
  lock.unlock();
  round.close_all();
  log_.write(LogLevel::kDebug, "event streams closed");
}

}  // namespace rsvpd::http
