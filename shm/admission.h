// The lock-free admission protocol on one activity slot (DESIGN.md §2 rules 1, 2, 5, 7).
//
// io threads call `admit` and, when the request is later rejected or its commit fails,
// `undo_admission`. The writer thread alone calls `initialize_slot`, `change_settings`,
// `take_seats_for_promotion`, `release_committed`, and `admit` with a large attempt bound as
// the serialized fallback when an io thread reports kContended.
//
// The admission word is conservative at every instant: it never shows fewer seats taken or
// fewer parties waiting than LMDB plus what is in flight. Hence: confirms and joins take at once;
// releases (cancels, promotions leaving the waitlist, capacity raises) are applied only after
// the LMDB commit that made them durable (`release_committed`).
#pragma once

#include <cstdint>
#include <limits>

#include "shm/admission_word.h"
#include "shm/layout.h"

namespace rsvpd::shm {

// io threads give up after this many CAS attempts and hand the request to the writer, which
// retries up to kWriterCasAttemptsMax (io threads back off to it, so it always gets through).
inline constexpr int kAdmitAttemptsMax = 16;
inline constexpr int kWriterCasAttemptsMax = 1 << 20;
static_assert(kAdmitAttemptsMax < kWriterCasAttemptsMax);

inline constexpr int64_t kNoWindowStart = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kNoWindowEnd = std::numeric_limits<int64_t>::max();

// What an admission decides under. Mirrors the activity's stored settings.
struct ActivitySettings {
  uint32_t capacity = 1;
  uint32_t max_guests = 0;
  ActivityStatus status = ActivityStatus::kOpen;
  bool waitlist_enabled = true;
  uint32_t waitlist_limit = 0;  // Parties; 0 = unlimited.
  int64_t rsvp_opens_at_ms = kNoWindowStart;
  int64_t rsvp_closes_at_ms = kNoWindowEnd;  // RSVPs are accepted while now < closes_at.
  bool operator==(const ActivitySettings&) const = default;
};

enum class AdmitOutcome {
  kConfirmed,      // Seats taken provisionally: the caller must commit or undo.
  kWaitlisted,     // One waiting party counted provisionally: commit or undo.
  kFull,           // Cannot confirm; waitlist off or at its limit. Nothing taken.
  kClosed,         // Status closed, or outside the RSVP window. Nothing taken.
  kArchived,       // Nothing taken.
  kTooManyGuests,  // guests > max_guests. Nothing taken.
  kPartyTooLarge,  // 1 + guests > capacity. Nothing taken.
  kContended,      // Attempts exhausted (or settings kept changing). Nothing taken: the caller
                   // takes the serialized path through the writer.
};

struct AdmitResult {
  AdmitOutcome outcome = AdmitOutcome::kContended;
  uint32_t epoch = 0;     // The settings epoch the decision was made under.
  int attempts = 0;       // CAS attempts used (for the cas-retries metric).
  AdmissionWord observed;  // The word the decision was made on (for a confirm or join: the
                           // value the successful CAS replaced, its linearization point).
  ActivitySettings settings;  // The settings the decision was made under.
};

// True when the outcome took something that must later be committed or undone.
constexpr bool admission_holds_place(AdmitOutcome outcome) noexcept {
  return outcome == AdmitOutcome::kConfirmed || outcome == AdmitOutcome::kWaitlisted;
}

// Writer only, before the slot becomes visible (Segment::insert's initializer) or at start:
// writes settings, the admission word (taken, waiting) and zeroes nothing else.
// REQUIRES: taken <= settings.capacity, waiting <= kWaitingMax.
void initialize_slot(ActivitySlot& slot, const ActivitySettings& settings, uint32_t taken,
                     uint32_t waiting) noexcept;

// Decides one party of 1 + guests at time now_ms: confirm only when no party is waiting and the
// whole party fits, else join the waitlist when allowed, else full (DESIGN.md §2, API.md).
// Validation outcomes (guests, party size) come before state outcomes (archived, closed, full),
// matching the API's order of checks. Lock-free; safe from any thread of the daemon.
[[nodiscard]] AdmitResult admit(ActivitySlot& slot, uint32_t guests, int64_t now_ms,
                                int attempts_max = kAdmitAttemptsMax) noexcept;

// Gives back what a kConfirmed / kWaitlisted admission took, when its request is rejected later
// (duplicate, invariant, failed commit, shutdown: rule 5). Wait-free (one fetch_sub).
// REQUIRES: admission_holds_place(outcome) and that admission has not been undone or released.
void undo_admission(ActivitySlot& slot, AdmitOutcome outcome, uint32_t party_size) noexcept;

// Writer only, after a successful commit: gives back `seats` (cancelled confirmed seats not
// reused by promotions in the same batch, or seats of a failed promotion) and `parties` (waiting
// parties that left the waitlist: cancelled or promoted). Wait-free.
// REQUIRES: the word holds at least that many of each.
void release_committed(ActivitySlot& slot, uint32_t seats, uint32_t parties) noexcept;

// Writer only, before the commit of a promotion: takes `seats` for a promoted waiting party when
// taken + seats <= `capacity`, the capacity the promoting transaction commits with (a capacity
// raise is installed in the settings only after its commit, yet promotes in the same commit).
// Returns false when they do not fit (or the CAS kept failing kWriterCasAttemptsMax times). The
// party stays counted as waiting until release_committed after the commit.
[[nodiscard]] bool take_seats_for_promotion(ActivitySlot& slot, uint32_t seats,
                                            uint32_t capacity) noexcept;

enum class SettingsChangeOutcome {
  kApplied,
  kCapacityBelowTaken,  // New capacity < seats taken (confirmed + provisional). Nothing changed.
  kContended,           // CAS kept failing; nothing changed.
};

// Writer only: installs new settings under a new epoch (rule 7). The epoch flips in the word in
// the same CAS that checks the new capacity against the provisional total, so an in-flight
// confirm decided under the old settings fails its CAS and decides again under the new ones.
[[nodiscard]] SettingsChangeOutcome change_settings(ActivitySlot& slot,
                                                    const ActivitySettings& next) noexcept;

// Reads the settings with their epoch (bounded seqlock retries). Returns false if a write kept
// overlapping (only possible while the writer is mid-update).
[[nodiscard]] bool read_settings(const ActivitySlot& slot, ActivitySettings& settings,
                                 uint32_t& epoch) noexcept;

// The admission word now (relaxed; diagnostics, tests and the writer's own bookkeeping).
AdmissionWord load_admission_word(const ActivitySlot& slot) noexcept;

}  // namespace rsvpd::shm
