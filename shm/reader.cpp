// The C reader API (rsvpd_reader.h) over Segment, read_snapshot and the change counter.
#include "shm/rsvpd_reader.h"

#include <signal.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "shm/change_counter.h"
#include "shm/failpoint.h"
#include "shm/layout.h"
#include "shm/segment.h"
#include "shm/snapshot.h"

static_assert(RSVPD_ACTIVITY_ID_BYTES_MAX == rsvpd::shm::kActivityIdBytesMax);
static_assert(RSVPD_READ_ATTEMPTS_MAX == rsvpd::shm::kSnapshotReadAttemptsMax);
static_assert(RSVPD_STATUS_OPEN == static_cast<int>(rsvpd::shm::ActivityStatus::kOpen));
static_assert(RSVPD_STATUS_CLOSED == static_cast<int>(rsvpd::shm::ActivityStatus::kClosed));
static_assert(RSVPD_STATUS_ARCHIVED == static_cast<int>(rsvpd::shm::ActivityStatus::kArchived));

struct rsvpd_reader {
  std::unique_ptr<rsvpd::shm::Segment> segment;
  uint64_t attachment = 1;  // +1 per successful reattach; handles of older ones re-find.
};

namespace {

using rsvpd::shm::Segment;
using rsvpd::shm::SegmentError;

int code_from_segment_error(SegmentError error) noexcept {
  switch (error) {
    case SegmentError::kNone: return RSVPD_OK;
    case SegmentError::kNotFound: return RSVPD_NO_SEGMENT;
    case SegmentError::kPermission: return RSVPD_PERMISSION;
    case SegmentError::kNotReady: return RSVPD_NOT_READY;
    case SegmentError::kBadLayout: return RSVPD_BAD_LAYOUT;
    case SegmentError::kInvalidArgument: return RSVPD_INVALID_ARGUMENT;
    case SegmentError::kSystem: return RSVPD_SYSTEM;
  }
  return RSVPD_SYSTEM;
}

int open_segment(const char* name, std::unique_ptr<Segment>& out) noexcept {
  rsvpd::shm::SegmentOpenError error;
  try {
    out = Segment::open_read_only(name, &error);
  } catch (...) {  // std::bad_alloc: never let an exception cross the C boundary.
    errno = ENOMEM;
    return RSVPD_SYSTEM;
  }
  return out != nullptr ? RSVPD_OK : code_from_segment_error(error.code);
}

// The id's length when it is 1..RSVPD_ACTIVITY_ID_BYTES_MAX bytes, else 0.
size_t checked_id_length(const char* id) noexcept {
  if (id == nullptr) return 0;
  const size_t length = strnlen(id, RSVPD_ACTIVITY_ID_BYTES_MAX + 1);
  return length <= RSVPD_ACTIVITY_ID_BYTES_MAX ? length : 0;
}

int find_slot(const rsvpd_reader& reader, std::string_view id, rsvpd_activity& out) noexcept {
  const auto slot = reader.segment->find(id);
  if (!slot) return RSVPD_NO_ACTIVITY;
  std::memcpy(out.id, id.data(), id.size());
  out.id[id.size()] = '\0';
  out.slot = slot->index;
  out.attachment = reader.attachment;
  return RSVPD_OK;
}

void copy_snapshot(const rsvpd::shm::ActivitySnapshot& in, rsvpd_snapshot& out) noexcept {
  out.capacity = in.capacity;
  out.confirmed_seats = in.confirmed_seats;
  out.available_seats = in.available_seats;
  out.waitlist_length = in.waitlist_length;
  out.waitlisted_seats = in.waitlisted_seats;
  out.status = static_cast<uint32_t>(in.status);
  out.version = in.version;
  out.last_audit_seq = in.last_audit_seq;
}

bool process_exists(int64_t pid) noexcept {
  if (pid <= 0) return false;
  // EPERM: it exists but belongs to another user.
  return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

void fill_info(const rsvpd::shm::Segment& segment, rsvpd_daemon_info& info) noexcept {
  const auto& header = segment.header();
  // Relaxed: independent figures for display and liveness, no data depends on them.
  info.pid = header.daemon_pid.load(std::memory_order_relaxed);
  info.start_time_ns = header.start_time_ns.load(std::memory_order_relaxed);
  info.heartbeat_age_ms = segment.heartbeat_age_ms();
  info.live_activities = header.live_activities.load(std::memory_order_relaxed);
  // Acquire: pairs with mark_stopped's release (the final publish happened before).
  info.stopped = header.stopped.load(std::memory_order_acquire);
}

}  // namespace

extern "C" {

int rsvpd_reader_open(const char* name, rsvpd_reader** out) {
  if (name == nullptr || out == nullptr || name[0] == '\0') return RSVPD_INVALID_ARGUMENT;
  std::unique_ptr<Segment> segment;
  const int code = open_segment(name, segment);
  if (code != RSVPD_OK) return code;
  auto* reader = new (std::nothrow) rsvpd_reader;
  if (reader == nullptr) {
    errno = ENOMEM;
    return RSVPD_SYSTEM;
  }
  reader->segment = std::move(segment);
  *out = reader;
  return RSVPD_OK;
}

void rsvpd_reader_close(rsvpd_reader* reader) { delete reader; }

int rsvpd_reader_find(const rsvpd_reader* reader, const char* id, rsvpd_activity* out) {
  const size_t length = checked_id_length(id);
  if (reader == nullptr || out == nullptr || length == 0) return RSVPD_INVALID_ARGUMENT;
  return find_slot(*reader, std::string_view(id, length), *out);
}

int rsvpd_reader_read(const rsvpd_reader* reader, rsvpd_activity* activity, rsvpd_snapshot* out) {
  if (reader == nullptr || activity == nullptr || out == nullptr) return RSVPD_INVALID_ARGUMENT;
  if (activity->attachment != reader->attachment) {
    const size_t length = checked_id_length(activity->id);
    if (length == 0) return RSVPD_INVALID_ARGUMENT;
    const int code = find_slot(*reader, std::string_view(activity->id, length), *activity);
    if (code != RSVPD_OK) return code;
  }
  if (activity->slot >= reader->segment->slot_count()) return RSVPD_INVALID_ARGUMENT;
  const auto& slot = reader->segment->slot(rsvpd::shm::SlotRef{activity->slot});
  rsvpd::shm::ActivitySnapshot snapshot;
  if (rsvpd::shm::read_snapshot(slot, snapshot) != rsvpd::shm::SnapshotRead::kOk) {
    return RSVPD_BUSY;
  }
  // Acquire: a slot retired (archived) before this load is reported as gone, not as stale data.
  const auto state = static_cast<rsvpd::shm::SlotState>(slot.state.load(std::memory_order_acquire));
  if (state != rsvpd::shm::SlotState::kOccupied &&
      !rsvpd::failpoint_enabled("reader_ignore_retired_slot")) {
    return RSVPD_NO_ACTIVITY;
  }
  copy_snapshot(snapshot, *out);
  return RSVPD_OK;
}

uint32_t rsvpd_reader_change_counter(const rsvpd_reader* reader) {
  if (reader == nullptr) return 0;
  return rsvpd::shm::load_change_counter(reader->segment->header());
}

int rsvpd_reader_wait(const rsvpd_reader* reader, uint32_t seen, int64_t timeout_ms) {
  if (reader == nullptr || timeout_ms < 0 || timeout_ms > RSVPD_WAIT_TIMEOUT_MS_MAX) {
    return RSVPD_INVALID_ARGUMENT;
  }
  switch (rsvpd::shm::wait_for_change(reader->segment->header(), seen, timeout_ms)) {
    case rsvpd::shm::WaitOutcome::kChanged: return RSVPD_OK;
    case rsvpd::shm::WaitOutcome::kTimedOut: return RSVPD_TIMEOUT;
    case rsvpd::shm::WaitOutcome::kInterrupted: return RSVPD_INTERRUPTED;
  }
  return RSVPD_TIMEOUT;
}

int rsvpd_reader_check_daemon(const rsvpd_reader* reader, int64_t stale_after_ms,
                              rsvpd_daemon_info* info) {
  if (reader == nullptr || stale_after_ms < 0) return RSVPD_INVALID_ARGUMENT;
  if (stale_after_ms == 0) stale_after_ms = RSVPD_HEARTBEAT_STALE_MS_DEFAULT;
  rsvpd_daemon_info local{};
  rsvpd_daemon_info& out = info != nullptr ? *info : local;
  fill_info(*reader->segment, out);
  const bool exists = process_exists(out.pid);
  // A new instance behind the name wins over everything this (frozen) mapping says.
  if (!reader->segment->is_current_instance()) {
    rsvpd_reader* probe = nullptr;
    const bool replaced = rsvpd_reader_open(reader->segment->name().c_str(), &probe) == RSVPD_OK;
    rsvpd_reader_close(probe);
    if (replaced) return RSVPD_DAEMON_RESTARTED;
    return out.stopped != 0 ? RSVPD_DAEMON_STOPPED : RSVPD_DAEMON_DEAD;
  }
  if (out.stopped != 0) return RSVPD_DAEMON_STOPPED;
  if (!exists) return RSVPD_DAEMON_DEAD;
  return out.heartbeat_age_ms <= stale_after_ms ? RSVPD_OK : RSVPD_DAEMON_STALLED;
}

int rsvpd_reader_reattach(rsvpd_reader* reader) {
  if (reader == nullptr) return RSVPD_INVALID_ARGUMENT;
  std::unique_ptr<Segment> segment;
  const int code = open_segment(reader->segment->name().c_str(), segment);
  if (code != RSVPD_OK) return code;
  reader->segment = std::move(segment);
  reader->attachment += 1;
  return RSVPD_OK;
}

const char* rsvpd_strerror(int code) {
  switch (code) {
    case RSVPD_OK: return "success";
    case RSVPD_NO_SEGMENT: return "no such segment: is rsvpd running (and with this --shm-name)?";
    case RSVPD_PERMISSION: return "permission denied: run as the daemon's user or group";
    case RSVPD_NOT_READY: return "segment is being created: retry shortly";
    case RSVPD_BAD_LAYOUT: return "segment layout unknown: reader and daemon versions differ";
    case RSVPD_INVALID_ARGUMENT: return "invalid argument";
    case RSVPD_NO_ACTIVITY: return "activity not live in the segment (unknown or archived)";
    case RSVPD_BUSY: return "snapshot busy: every read attempt overlapped a publish";
    case RSVPD_TIMEOUT: return "timed out";
    case RSVPD_INTERRUPTED: return "interrupted by a signal";
    case RSVPD_DAEMON_DEAD: return "daemon is dead";
    case RSVPD_DAEMON_RESTARTED: return "daemon restarted: reattach";
    case RSVPD_DAEMON_STOPPED: return "daemon stopped cleanly";
    case RSVPD_DAEMON_STALLED: return "daemon heartbeat is stale but the process exists";
    case RSVPD_SYSTEM: return "operating-system error (see errno)";
    default: return "unknown error";
  }
}

}  // extern "C"
