// CommitRequest: one change on its way from an io thread to the writer (DESIGN.md §2).
//
// Created by the service on the caller's thread after the request passed validation, claims,
// the commit-queue reservation and (for RSVPs) the admission CAS; owned by the writer from
// push() on, which completes it exactly once after the batch that holds it committed or failed.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "daemon/service.h"
#include "shm/admission.h"
#include "shm/segment.h"

namespace rsvpd {

enum class CommitKind { kCreateActivity, kUpdateActivity, kRsvp, kCancel };

struct CommitRequest {
  CommitKind kind = CommitKind::kRsvp;
  Caller caller;

  // kCreateActivity: `new_activity.id` is always set (assigned by the service if absent).
  NewActivity new_activity;
  // kUpdateActivity.
  std::string activity_id;
  ActivityPatch patch;
  // kRsvp: what the io thread decided.
  NewRsvp rsvp;
  std::string user_id;  // Effective user (the caller or, for admins, `rsvp.user_id`).
  shm::SlotRef slot;
  shm::AdmitOutcome admitted = shm::AdmitOutcome::kContended;  // Or kConfirmed / kWaitlisted.
  // kCancel.
  uint64_t rsvp_id = 0;

  // Exactly one of these is set, matching `kind`.
  std::function<void(ServiceOutcome<ActivityView>)> done_activity;
  std::function<void(ServiceOutcome<RsvpCreated>)> done_rsvp;
  std::function<void(ServiceOutcome<RsvpView>)> done_cancel;

  // Filled by the writer while the batch runs; delivered after the commit (or replaced by the
  // commit's failure).
  ServiceOutcome<ActivityView> activity_outcome;
  ServiceOutcome<RsvpCreated> rsvp_outcome;
  ServiceOutcome<RsvpView> cancel_outcome;
  // Set when the writer rejected the request on its merits (404, 409, 422...): nothing of it is
  // written, its answer stands whatever the commit does, and a replay of the batch skips it.
  bool rejected = false;
  // kRsvp: the place this request holds in the admission word (undone if the request fails).
  bool holds_place = false;
  // Run by the writer after the request completed: releases the service's claims.
  std::function<void(bool succeeded, uint64_t rsvp_id)> release_claims;
};

}  // namespace rsvpd
