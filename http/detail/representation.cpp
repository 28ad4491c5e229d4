#include "http/detail/representation.h"

#include "http/json_writer.h"

namespace rsvpd::http::detail {
namespace {

picojson::value nullable_time(const std::optional<int64_t>& unix_ms) {
  return json_nullable_time(unix_ms);
}

picojson::value json_u64(uint64_t number) { return json_int(static_cast<int64_t>(number)); }

}  // namespace

picojson::value activity_json(const ActivityView& activity) {
  const ActivityRecord& r = activity.record;
  JsonObjectBuilder out;
  out.set("id", json_string(r.id))
      .set("title", json_string(r.title))
      .set("host_id", json_string(r.host_id))
      .set("capacity", json_u64(r.capacity))
      .set("max_guests", json_u64(r.max_guests))
      .set("waitlist", json_bool(r.waitlist_enabled))
      .set("waitlist_limit", r.waitlist_limit == 0 ? json_null() : json_u64(r.waitlist_limit))
      .set("status", json_string(activity_status_name(r.status)))
      .set("rsvp_opens_at", nullable_time(r.rsvp_opens_at_ms))
      .set("rsvp_closes_at", nullable_time(r.rsvp_closes_at_ms))
      .set("confirmed_seats", json_u64(r.confirmed_seats))
      .set("available_seats",
           json_u64(r.capacity > r.confirmed_seats ? r.capacity - r.confirmed_seats : 0))
      .set("waitlist_length", json_u64(r.waitlist_length))
      .set("waitlisted_seats", json_u64(r.waitlisted_seats))
      .set("version", json_u64(r.version))
      .set("created_at", json_time(r.created_at_ms))
      .set("updated_at", json_time(r.updated_at_ms));
  return out.build();
}

picojson::value rsvp_json(const RsvpView& rsvp) {
  const RsvpRecord& r = rsvp.record;
  JsonObjectBuilder out;
  out.set("id", json_string(format_rsvp_id(r.id)))
      .set("activity_id", json_string(r.activity_id))
      .set("user_id", json_string(r.user_id))
      .set("guests", json_u64(r.guests))
      .set("party_size", json_u64(r.party_size()))
      .set("status", json_string(rsvp_status_name(r.status)))
      .set("waitlist_position", r.status == RsvpStatus::kWaitlisted && rsvp.waitlist_position != 0
                                    ? json_u64(rsvp.waitlist_position)
                                    : json_null())
      .set("created_at", json_time(r.created_at_ms))
      .set("updated_at", json_time(r.updated_at_ms))
      .set("confirmed_at", nullable_time(r.confirmed_at_ms))
      .set("cancelled_at", nullable_time(r.cancelled_at_ms));
  return out.build();
}

picojson::value capacity_json(const CapacityView& c, bool with_would) {
  JsonObjectBuilder out;
  out.set("activity_id", json_string(c.activity_id))
      .set("capacity", json_u64(c.capacity))
      .set("confirmed_seats", json_u64(c.confirmed_seats))
      .set("available_seats", json_u64(c.available_seats))
      .set("waitlist_length", json_u64(c.waitlist_length))
      .set("waitlisted_seats", json_u64(c.waitlisted_seats))
      .set("status", json_string(activity_status_name(c.status)));
  if (with_would) {
    out.set("would_confirm", json_bool(c.would_confirm))
        .set("would_waitlist", json_bool(c.would_waitlist));
  }
  return out.build();
}

picojson::value audit_entry_json(const AuditRecord& e) {
  JsonObjectBuilder out;
  out.set("seq", json_u64(e.seq))
      .set("at", json_time(e.at_ms))
      .set("op", json_string(audit_op_name(e.op)))
      .set("actor", json_string(e.actor))
      .set("activity_id", json_string(e.activity_id))
      .set("rsvp_id", e.rsvp_id == 0 ? json_null() : json_string(format_rsvp_id(e.rsvp_id)))
      .set("user_id", e.user_id.empty() ? json_null() : json_string(e.user_id))
      .set("from", e.from_status.empty() ? json_null() : json_string(e.from_status))
      .set("to", e.to_status.empty() ? json_null() : json_string(e.to_status))
      .set("party_size", e.party_size == 0 ? json_null() : json_u64(e.party_size))
      .set("request_id", e.request_id.empty() ? json_null() : json_string(e.request_id));
  return out.build();
}

}  // namespace rsvpd::http::detail
