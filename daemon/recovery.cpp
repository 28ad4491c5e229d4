#include "daemon/recovery.h"

#include <algorithm>

#include "daemon/writer.h"
#include "shm/admission.h"
#include "shm/change_counter.h"
#include "shm/snapshot.h"

namespace rsvpd {

namespace {

constexpr size_t kRecoveryPageItems = 1024;

Result<std::vector<ActivityRecord>> read_live_activities(ReadTxn& txn) {
  std::vector<ActivityRecord> live;
  std::string after;
  for (;;) {
    Result<std::vector<ActivityRecord>> page = txn.activities_after(after, kRecoveryPageItems);
    if (!page.is_ok()) return page.status();
    for (ActivityRecord& record : page.value()) {
      after = record.id;
      if (record.status != ActivityStatus::kArchived) live.push_back(std::move(record));
    }
    if (page->size() < kRecoveryPageItems) return live;
  }
}

Status load_waitlist(ReadTxn& txn, const std::string& activity_id, WaitlistRegistry& waitlists) {
  uint64_t after = 0;
  for (;;) {
    Result<Page<RsvpRecord>> page = txn.waiting_of_activity(activity_id, after, kRecoveryPageItems);
    if (!page.is_ok()) return page.status();
    for (const RsvpRecord& waiting : page->items) waitlists.add(activity_id, waiting.ticket);
    if (!page->next_cursor) return Status::ok();
    after = *page->next_cursor;
  }
}

}  // namespace

Result<Recovered> recover(Store& store, const ServiceOptions& options, WaitlistRegistry& waitlists) {
  Result<ReadTxn> txn = store.begin_read();
  if (!txn.is_ok()) return txn.status();
  Result<std::vector<ActivityRecord>> live = read_live_activities(txn.value());
  if (!live.is_ok()) return live.status();
  Result<uint64_t> last_rsvp = txn->last_rsvp_id();
  if (!last_rsvp.is_ok()) return last_rsvp.status();
  Result<uint64_t> last_seq = txn->last_audit_seq();
  if (!last_seq.is_ok()) return last_seq.status();

  Recovered recovered;
  recovered.next_rsvp_id = last_rsvp.value() + 1;
  recovered.next_audit_seq = last_seq.value() + 1;
  const uint64_t wanted = std::max<uint64_t>(options.activities_max, 2 * live->size());
  shm::SegmentOpenError error;
  recovered.segment =
      shm::Segment::create(options.shm_name, static_cast<uint32_t>(std::min<uint64_t>(
                                                 wanted, shm::kSlotCountMax / 2)),
                           &error);
  if (recovered.segment == nullptr) {
    return Status(StatusCode::kIoError, "shared memory segment: " + error.message);
  }
  for (const ActivityRecord& record : live.value()) {
    // The snapshot's audit seq starts at the global last seq: not this activity's own last
    // change, but never behind it, and every later change publishes a larger one.
    const auto inserted = recovered.segment->insert(record.id, [&](shm::ActivitySlot& slot) {
      shm::initialize_slot(slot, settings_of(record), record.confirmed_seats,
                           record.waitlist_length);
      shm::publish_snapshot(slot, snapshot_of(record, last_seq.value()));
    });
    if (inserted.outcome != shm::InsertOutcome::kInserted) {
      return Status(StatusCode::kCorruption, "activity " + record.id + " twice in the store");
    }
    Status loaded = load_waitlist(txn.value(), record.id, waitlists);
    if (!loaded.is_ok()) return loaded;
    recovered.live_activity_ids.push_back(record.id);
  }
  shm::announce_change(recovered.segment->header());
  return recovered;
}

}  // namespace rsvpd
