// The endpoints of API.md, one function each. Each answers its exchange exactly once, at once or
// from a Service callback. REQUIRES: the route and method were matched by the dispatcher.
#pragma once

#include <cstdint>

#include "http/detail/api_context.h"
#include "http/identifiers.h"
#include "http/json_body.h"

namespace rsvpd::http::detail {

// Input limits that are ours to choose (API.md gives the others).
inline constexpr int64_t kTitleCodePointsMax = 200;
inline constexpr int64_t kCapacityMin = 1;
inline constexpr int64_t kCapacityMax = 1'000'000;
inline constexpr int64_t kMaxGuestsMax = 100;
inline constexpr int64_t kWaitlistLimitMax = 1'000'000;  // Parties; one per seat at most helps.
inline constexpr int64_t kGuestsMax = kCapacityMax;      // Larger parties can never fit.
inline constexpr int64_t kUserRsvpsLimitDefault = 50;
inline constexpr int64_t kParticipantsLimitDefault = 50;
inline constexpr int64_t kAuditLimitDefault = 100;
static_assert(kMaxGuestsMax < kCapacityMax && kGuestsMax <= INT32_MAX);

// Activity and user ids in bodies (API.md, Conventions).
inline const StringRule kIdRule{1, kIdBytesMax, is_valid_id,
                                "must match ^[A-Za-z0-9._:-]{1,64}$"};

// activity_endpoints.cpp
void create_activity(const ExchangePtr& exchange);
void get_activity(const ExchangePtr& exchange);
void update_activity(const ExchangePtr& exchange);
void get_participants(const ExchangePtr& exchange);
void get_capacity(const ExchangePtr& exchange);
void check_capacity(const ExchangePtr& exchange);
void get_audit(const ExchangePtr& exchange);

// rsvp_endpoints.cpp
void create_rsvp(const ExchangePtr& exchange);
void get_rsvp(const ExchangePtr& exchange);
void cancel_rsvp(const ExchangePtr& exchange);
void get_user_rsvps(const ExchangePtr& exchange);

// operation_endpoints.cpp
void get_healthz(const ExchangePtr& exchange);
void get_readyz(const ExchangePtr& exchange);
void get_metrics(const ExchangePtr& exchange);

// event_endpoints.cpp (Server-Sent Events; 501 not-implemented without an EventHub)
void get_activity_events(const ExchangePtr& exchange);
void get_my_events(const ExchangePtr& exchange);

// document_endpoints.cpp
// docs/openapi.yaml as built into the binary, as application/yaml.
void get_openapi_document(const ExchangePtr& exchange);

}  // namespace rsvpd::http::detail
