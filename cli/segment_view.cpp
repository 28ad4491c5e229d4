#include "cli/segment_view.h"

#include <signal.h>
#include <time.h>

#include <algorithm>
#include <cerrno>

#include "shm/change_counter.h"

namespace rsvpd::cli {

namespace {

int64_t realtime_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

bool process_exists(int64_t pid) {
  return pid > 0 && (kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM);
}

std::string open_error_text(const std::string& name, const shm::SegmentOpenError& error) {
  switch (error.code) {
    case shm::SegmentError::kNotFound:
      return "no segment /dev/shm/" + name + ": rsvpd is not running (or uses another --shm-name)";
    case shm::SegmentError::kPermission:
      return "no permission to read /dev/shm/" + name + ": run as the daemon's user or group";
    case shm::SegmentError::kNotReady:
      return "segment " + name + " is being created: retry in a moment";
    case shm::SegmentError::kBadLayout:
      return "segment " + name + " has another layout: rsvpctl and rsvpd versions differ";
    default:
      return error.message;
  }
}

DaemonState classify(const shm::Segment& segment, const DaemonFigures& figures, bool stopped) {
  // A new instance behind the name wins over everything this (frozen) mapping says.
  if (!segment.is_current_instance()) {
    shm::SegmentOpenError error;
    if (shm::Segment::open_read_only(segment.name(), &error) != nullptr) {
      return DaemonState::kRestarted;
    }
  }
  if (stopped) return DaemonState::kStopped;
  if (!process_exists(figures.pid)) return DaemonState::kDead;
  return figures.heartbeat_age_ms <= kHeartbeatStaleMsMax ? DaemonState::kRunning
                                                          : DaemonState::kStalled;
}

}  // namespace

std::string_view daemon_state_name(DaemonState state) noexcept {
  switch (state) {
    case DaemonState::kRunning: return "running";
    case DaemonState::kStalled: return "stalled";
    case DaemonState::kStopped: return "stopped";
    case DaemonState::kDead: return "dead";
    case DaemonState::kRestarted: return "restarted";
  }
  return "unknown";
}

std::string_view activity_status_text(shm::ActivityStatus status) noexcept {
  switch (status) {
    case shm::ActivityStatus::kOpen: return "open";
    case shm::ActivityStatus::kClosed: return "closed";
    case shm::ActivityStatus::kArchived: return "archived";
  }
  return "unknown";
}

std::unique_ptr<SegmentView> SegmentView::open(const std::string& name, std::string* error) {
  shm::SegmentOpenError open_error;
  auto segment = shm::Segment::open_read_only(name, &open_error);
  if (segment == nullptr) {
    if (error != nullptr) *error = open_error_text(name, open_error);
    return nullptr;
  }
  return std::unique_ptr<SegmentView>(new SegmentView(std::move(segment)));
}

DaemonFigures SegmentView::figures() const {
  const shm::SegmentHeader& header = segment_->header();
  DaemonFigures figures;
  // Relaxed throughout: independent display figures; no data is read through them.
  figures.pid = header.daemon_pid.load(std::memory_order_relaxed);
  figures.start_time_ns = header.start_time_ns.load(std::memory_order_relaxed);
  figures.uptime_s = std::max<int64_t>(0, (realtime_ns() - figures.start_time_ns) / 1'000'000'000);
  figures.heartbeat_age_ms = segment_->heartbeat_age_ms();
  figures.live_activities = header.live_activities.load(std::memory_order_relaxed);
  figures.activities_max = segment_->activities_max();
  figures.used_slots = header.used_slots.load(std::memory_order_relaxed);
  figures.change_counter = shm::load_change_counter(header);
  const shm::SegmentStats& stats = header.stats;
  figures.commits_total = stats.commits_total.load(std::memory_order_relaxed);
  figures.changes_committed_total = stats.changes_committed_total.load(std::memory_order_relaxed);
  figures.commit_latency_us_last = stats.commit_latency_us_last.load(std::memory_order_relaxed);
  figures.commit_latency_us_max = stats.commit_latency_us_max.load(std::memory_order_relaxed);
  figures.fdatasync_calls_total = stats.fdatasync_calls_total.load(std::memory_order_relaxed);
  figures.overbooking_detected_total =
      stats.overbooking_detected_total.load(std::memory_order_relaxed);
  // Acquire: pairs with mark_stopped's release.
  const bool stopped = header.stopped.load(std::memory_order_acquire) != 0;
  figures.state = classify(*segment_, figures, stopped);
  return figures;
}

bool SegmentView::reattach() {
  shm::SegmentOpenError error;
  auto segment = shm::Segment::open_read_only(segment_->name(), &error);
  if (segment == nullptr) return false;
  segment_ = std::move(segment);
  return true;
}

std::optional<shm::ActivitySnapshot> SegmentView::read(const std::string& id) const {
  const auto slot = segment_->find(id);
  if (!slot) return std::nullopt;
  shm::ActivitySnapshot snapshot;
  if (shm::read_snapshot(segment_->slot(*slot), snapshot) != shm::SnapshotRead::kOk) {
    return std::nullopt;
  }
  return snapshot;
}

std::vector<LiveActivity> SegmentView::list() const {
  std::vector<LiveActivity> out;
  for (uint32_t index = 0; index < segment_->slot_count(); ++index) {
    const shm::ActivitySlot& slot = segment_->slot(shm::SlotRef{index});
    // Acquire: pairs with make_visible's release, so the key is complete.
    if (slot.state.load(std::memory_order_acquire) !=
        static_cast<uint32_t>(shm::SlotState::kOccupied)) {
      continue;
    }
    char id[shm::kActivityIdBytesMax];
    const size_t length = segment_->read_id(shm::SlotRef{index}, id);
    LiveActivity activity{std::string(id, length), {}};
    if (shm::read_snapshot(slot, activity.snapshot) != shm::SnapshotRead::kOk) continue;
    out.push_back(std::move(activity));
    if (out.size() >= kListedActivitiesMax) break;
  }
  std::sort(out.begin(), out.end(),
            [](const LiveActivity& a, const LiveActivity& b) { return a.id < b.id; });
  return out;
}

uint32_t SegmentView::change_counter() const {
  return shm::load_change_counter(segment_->header());
}

bool SegmentView::wait_for_change(uint32_t seen, int64_t timeout_ms) const {
  return shm::wait_for_change(segment_->header(), seen, timeout_ms) == shm::WaitOutcome::kChanged;
}

}  // namespace rsvpd::cli
