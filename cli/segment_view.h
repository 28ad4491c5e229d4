// SegmentView: what rsvpctl reads from the daemon's shared-memory segment (shm/segment.h), read
// only: the daemon's liveness, its figures, and the committed snapshots of live activities.
//
// Thread safety: one thread per SegmentView (reattach replaces the mapping).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "shm/layout.h"
#include "shm/segment.h"
#include "shm/snapshot.h"

namespace rsvpd::cli {

// A heartbeat older than this means the daemon is stalled (it beats about every second).
inline constexpr int64_t kHeartbeatStaleMsMax = 5000;
// ls lists at most this many activities (the segment holds at most kSlotCountMax / 2).
inline constexpr size_t kListedActivitiesMax = shm::kSlotCountMax / 2;

enum class DaemonState { kRunning, kStalled, kStopped, kDead, kRestarted };

std::string_view daemon_state_name(DaemonState state) noexcept;
std::string_view activity_status_text(shm::ActivityStatus status) noexcept;

struct DaemonFigures {
  DaemonState state = DaemonState::kDead;
  int64_t pid = 0;
  int64_t start_time_ns = 0;
  int64_t uptime_s = 0;
  int64_t heartbeat_age_ms = 0;
  uint32_t live_activities = 0;
  uint32_t activities_max = 0;
  uint32_t used_slots = 0;
  uint32_t change_counter = 0;
  uint64_t commits_total = 0;
  uint64_t changes_committed_total = 0;
  uint64_t commit_latency_us_last = 0;
  uint64_t commit_latency_us_max = 0;
  uint64_t fdatasync_calls_total = 0;
  uint64_t overbooking_detected_total = 0;
};

struct LiveActivity {
  std::string id;
  shm::ActivitySnapshot snapshot;
};

class SegmentView {
 public:
  // Opens the segment read-only. On failure returns nullptr and sets *error to a message that
  // says what to do (e.g. "is rsvpd running with --shm-name X?").
  static std::unique_ptr<SegmentView> open(const std::string& name, std::string* error);

  DaemonFigures figures() const;
  // True only for kRunning.
  bool daemon_alive() const { return figures().state == DaemonState::kRunning; }
  // Opens the name again (after kRestarted). False (old mapping kept) when that fails.
  bool reattach();

  // The committed snapshot of a live activity; nullopt when not live or the read stayed busy.
  std::optional<shm::ActivitySnapshot> read(const std::string& id) const;
  // Live activities in id order.
  std::vector<LiveActivity> list() const;

  uint32_t change_counter() const;
  // True on a change, false on timeout or a signal (check your stop flag).
  bool wait_for_change(uint32_t seen, int64_t timeout_ms) const;

  const shm::Segment& segment() const { return *segment_; }

 private:
  explicit SegmentView(std::unique_ptr<shm::Segment> segment) : segment_(std::move(segment)) {}
  std::unique_ptr<shm::Segment> segment_;
};

}  // namespace rsvpd::cli
