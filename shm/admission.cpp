#include "shm/admission.h"

#include <cassert>

#include "shm/detail/seqlock.h"
#include "shm/failpoint.h"

namespace rsvpd::shm {

namespace {

void write_settings_fields(SettingsBlock& block, const ActivitySettings& settings,
                           uint32_t epoch) noexcept {
  // Relaxed: ordered by the surrounding seqlock (DESIGN.md §3).
  block.epoch.store(epoch, std::memory_order_relaxed);
  block.capacity.store(settings.capacity, std::memory_order_relaxed);
  block.max_guests.store(settings.max_guests, std::memory_order_relaxed);
  block.status.store(static_cast<uint32_t>(settings.status), std::memory_order_relaxed);
  block.waitlist_enabled.store(settings.waitlist_enabled ? 1 : 0, std::memory_order_relaxed);
  block.waitlist_limit.store(settings.waitlist_limit, std::memory_order_relaxed);
  block.rsvp_opens_at_ms.store(settings.rsvp_opens_at_ms, std::memory_order_relaxed);
  block.rsvp_closes_at_ms.store(settings.rsvp_closes_at_ms, std::memory_order_relaxed);
}

enum class Decision { kConfirm, kWaitlist, kReject };

struct Evaluation {
  Decision decision;
  AdmitOutcome outcome;  // For kReject: why. Otherwise the outcome a successful CAS gives.
};

// Pure: what a party of `party_size` gets under `settings` given the word `now`.
Evaluation evaluate(const ActivitySettings& settings, AdmissionWord word, uint32_t guests,
                    int64_t now_ms) noexcept {
  const uint64_t party_size = uint64_t{guests} + 1;
  if (guests > settings.max_guests) return {Decision::kReject, AdmitOutcome::kTooManyGuests};
  if (party_size > settings.capacity) return {Decision::kReject, AdmitOutcome::kPartyTooLarge};
  if (settings.status == ActivityStatus::kArchived) {
    return {Decision::kReject, AdmitOutcome::kArchived};
  }
  const bool in_window = now_ms >= settings.rsvp_opens_at_ms && now_ms < settings.rsvp_closes_at_ms;
  if (settings.status != ActivityStatus::kOpen || !in_window) {
    return {Decision::kReject, AdmitOutcome::kClosed};
  }
  // Rule: a newcomer never overtakes a waiting party. The failpoint removes exactly this
  // condition so the model test can show it catches the overtaking (negative control).
  const bool nobody_waiting =
      word.waiting == 0 || rsvpd::failpoint_enabled("admit_ignore_waiting");
  if (nobody_waiting && word.taken + party_size <= settings.capacity) {
    return {Decision::kConfirm, AdmitOutcome::kConfirmed};
  }
  const bool below_limit =
      settings.waitlist_limit == 0 || word.waiting < settings.waitlist_limit;
  if (settings.waitlist_enabled && below_limit && word.waiting < kWaitingMax) {
    return {Decision::kWaitlist, AdmitOutcome::kWaitlisted};
  }
  return {Decision::kReject, AdmitOutcome::kFull};
}

}  // namespace

bool read_settings(const ActivitySlot& slot, ActivitySettings& settings,
                   uint32_t& epoch) noexcept {
  const SettingsBlock& block = slot.settings;
  for (int attempt = 0; attempt < detail::kSeqlockReadAttemptsMax; ++attempt) {
    const uint32_t begin = detail::seqlock_read_begin(block.sequence);
    if ((begin & 1u) != 0) continue;
    // Relaxed: validated by the seqlock below.
    epoch = block.epoch.load(std::memory_order_relaxed);
    settings.capacity = block.capacity.load(std::memory_order_relaxed);
    settings.max_guests = block.max_guests.load(std::memory_order_relaxed);
    settings.status = static_cast<ActivityStatus>(block.status.load(std::memory_order_relaxed));
    settings.waitlist_enabled = block.waitlist_enabled.load(std::memory_order_relaxed) != 0;
    settings.waitlist_limit = block.waitlist_limit.load(std::memory_order_relaxed);
    settings.rsvp_opens_at_ms = block.rsvp_opens_at_ms.load(std::memory_order_relaxed);
    settings.rsvp_closes_at_ms = block.rsvp_closes_at_ms.load(std::memory_order_relaxed);
    if (detail::seqlock_read_valid(block.sequence, begin)) return true;
  }
  return false;
}

AdmissionWord load_admission_word(const ActivitySlot& slot) noexcept {
  // Acquire: callers may act on the counts (the writer's bookkeeping).
  return AdmissionWord::unpack(slot.admission_word.load(std::memory_order_acquire));
}

void initialize_slot(ActivitySlot& slot, const ActivitySettings& settings, uint32_t taken,
                     uint32_t waiting) noexcept {
  assert(taken <= settings.capacity && settings.capacity <= kCapacityMax);
  assert(waiting <= kWaitingMax);
  const uint32_t epoch = next_epoch(load_admission_word(slot).epoch);
  detail::seqlock_write_begin(slot.settings.sequence);
  write_settings_fields(slot.settings, settings, epoch);
  // Release: the settings (and key) are visible to whoever sees this word.
  slot.admission_word.store(AdmissionWord{taken, waiting, epoch}.pack(),
                            std::memory_order_release);
  detail::seqlock_write_end(slot.settings.sequence);
}

AdmitResult admit(ActivitySlot& slot, uint32_t guests, int64_t now_ms,
                  int attempts_max) noexcept {
  AdmitResult result;
  for (int attempt = 1; attempt <= attempts_max; ++attempt) {
    result.attempts = attempt;
    uint32_t epoch = 0;
    if (!read_settings(slot, result.settings, epoch)) continue;
    // Acquire: pairs with the release CAS of change_settings, so an epoch we match belongs to
    // settings at least as new as the ones just read.
    uint64_t observed = slot.admission_word.load(std::memory_order_acquire);
    const AdmissionWord word = AdmissionWord::unpack(observed);
    if (word.epoch != epoch) continue;  // Settings changed between the two reads.
    result.epoch = epoch;
    result.observed = word;
    const Evaluation evaluation = evaluate(result.settings, word, guests, now_ms);
    if (evaluation.decision == Decision::kReject) {
      result.outcome = evaluation.outcome;
      return result;
    }
    AdmissionWord next = word;
    if (evaluation.decision == Decision::kConfirm) {
      next.taken += guests + 1;
    } else {
      next.waiting += 1;
    }
    // acq_rel: success publishes our take to the writer; failure re-reads the latest word.
    if (slot.admission_word.compare_exchange_strong(observed, next.pack(),
                                                    std::memory_order_acq_rel,
                                                    std::memory_order_acquire)) {
      result.outcome = evaluation.outcome;
      return result;
    }
  }
  result.outcome = AdmitOutcome::kContended;
  return result;
}

void undo_admission(ActivitySlot& slot, AdmitOutcome outcome, uint32_t party_size) noexcept {
  assert(admission_holds_place(outcome));
  const uint64_t delta = outcome == AdmitOutcome::kConfirmed ? release_delta(party_size, 0)
                                                             : release_delta(0, 1);
  // Release: whoever reads the word after this sees the place free again; the fetch_sub leaves
  // the epoch untouched because neither field can borrow (REQUIRES above).
  const uint64_t before = slot.admission_word.fetch_sub(delta, std::memory_order_acq_rel);
  [[maybe_unused]] const AdmissionWord was = AdmissionWord::unpack(before);
  assert(outcome == AdmitOutcome::kConfirmed ? was.taken >= party_size : was.waiting >= 1);
}

void release_committed(ActivitySlot& slot, uint32_t seats, uint32_t parties) noexcept {
  if (seats == 0 && parties == 0) return;
  // acq_rel: the release orders the commit before any io thread can reuse these places.
  const uint64_t before =
      slot.admission_word.fetch_sub(release_delta(seats, parties), std::memory_order_acq_rel);
  [[maybe_unused]] const AdmissionWord was = AdmissionWord::unpack(before);
  assert(was.taken >= seats && was.waiting >= parties);
}

bool take_seats_for_promotion(ActivitySlot& slot, uint32_t seats, uint32_t capacity) noexcept {
  assert(capacity <= kCapacityMax);
  uint64_t observed = slot.admission_word.load(std::memory_order_acquire);
  for (int attempt = 0; attempt < kWriterCasAttemptsMax; ++attempt) {
    AdmissionWord word = AdmissionWord::unpack(observed);
    if (uint64_t{word.taken} + seats > capacity) return false;
    word.taken += seats;
    // acq_rel: as in admit.
    if (slot.admission_word.compare_exchange_weak(observed, word.pack(),
                                                  std::memory_order_acq_rel,
                                                  std::memory_order_acquire)) {
      return true;
    }
  }
  return false;
}

SettingsChangeOutcome change_settings(ActivitySlot& slot, const ActivitySettings& next) noexcept {
  assert(next.capacity >= 1 && next.capacity <= kCapacityMax);
  detail::seqlock_write_begin(slot.settings.sequence);
  uint64_t observed = slot.admission_word.load(std::memory_order_acquire);
  SettingsChangeOutcome outcome = SettingsChangeOutcome::kContended;
  uint32_t epoch = 0;
  for (int attempt = 0; attempt < kWriterCasAttemptsMax; ++attempt) {
    AdmissionWord word = AdmissionWord::unpack(observed);
    if (word.taken > next.capacity) {
      outcome = SettingsChangeOutcome::kCapacityBelowTaken;
      break;
    }
    word.epoch = next_epoch(word.epoch);
    // acq_rel: the new epoch is published together with the check on the provisional total.
    if (slot.admission_word.compare_exchange_weak(observed, word.pack(),
                                                  std::memory_order_acq_rel,
                                                  std::memory_order_acquire)) {
      outcome = SettingsChangeOutcome::kApplied;
      epoch = word.epoch;
      break;
    }
  }
  if (outcome == SettingsChangeOutcome::kApplied) {
    write_settings_fields(slot.settings, next, epoch);
  }
  detail::seqlock_write_end(slot.settings.sequence);
  return outcome;
}

}  // namespace rsvpd::shm
