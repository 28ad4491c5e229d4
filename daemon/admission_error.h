// How an admission that took no place is answered (API.md slugs, through ServiceError).
#pragma once

#include <string>

#include "daemon/service.h"
#include "shm/admission.h"

namespace rsvpd {

struct AdmissionRefusal {
  ServiceError error;
  std::string message;
  std::string field;  // For kInvalidField.
};

// REQUIRES: !shm::admission_holds_place(outcome).
inline AdmissionRefusal admission_refusal(shm::AdmitOutcome outcome) {
  switch (outcome) {
    case shm::AdmitOutcome::kFull:
      return {ServiceError::kActivityFull, "no seat for this party and the waitlist is closed", {}};
    case shm::AdmitOutcome::kClosed:
      return {ServiceError::kRsvpClosed, "RSVPs are closed for this activity", {}};
    case shm::AdmitOutcome::kArchived:
      return {ServiceError::kActivityArchived, "the activity is archived", {}};
    case shm::AdmitOutcome::kTooManyGuests:
      return {ServiceError::kInvalidField, "more guests than the activity's max_guests", "guests"};
    case shm::AdmitOutcome::kPartyTooLarge:
      return {ServiceError::kInvalidField, "the party is larger than the activity's capacity",
              "guests"};
    case shm::AdmitOutcome::kContended:
      return {ServiceError::kOverloaded, "the activity is too contended right now", {}};
    case shm::AdmitOutcome::kConfirmed:
    case shm::AdmitOutcome::kWaitlisted: break;
  }
  return {ServiceError::kInternal, "admission outcome holds a place", {}};
}

}  // namespace rsvpd
