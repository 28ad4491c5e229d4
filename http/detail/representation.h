// The JSON representations of API.md: activity, RSVP, capacity, audit entry.
// Timestamps are RFC 3339 with milliseconds; nullable fields are JSON null. Pure functions.
#pragma once

#include <picojson.h>

#include "daemon/service.h"

namespace rsvpd::http::detail {

picojson::value activity_json(const ActivityView& activity);
picojson::value rsvp_json(const RsvpView& rsvp);
// `with_would`: the capacity/check form with would_confirm and would_waitlist.
picojson::value capacity_json(const CapacityView& capacity, bool with_would);
picojson::value audit_entry_json(const AuditRecord& entry);

}  // namespace rsvpd::http::detail
