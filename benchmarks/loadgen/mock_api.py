#!/usr/bin/env python3
"""A tiny in-memory stand-in for the part of rsvpd's API that rsvpd-load speaks, to test the
driver (and, with --fault, that its verification catches broken servers) without the daemon.
Not a reference implementation: no auth check, no validation, one lock around everything.

Usage: mock_api.py PORT [--fault none|overbook|lose|gap|reorder] [--seconds N]
  overbook: confirms one party beyond capacity per activity; lose: every 50th RSVP is answered
  201 but never stored; gap: waitlist positions skip 1 -> 3; reorder: the waitlist is listed
  newest first (positions still 1..n), breaking FIFO.
"""
import argparse, json, re, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
activities = {}   # id -> {"capacity", "rsvps": [rsvp ids in ticket order]}
rsvps = {}        # id -> dict
counter = [0]
FAULT = "none"


def counts(act):
    confirmed = [rsvps[r] for r in act["rsvps"] if rsvps[r]["status"] == "confirmed"]
    waiting = [rsvps[r] for r in act["rsvps"] if rsvps[r]["status"] == "waitlisted"]
    return confirmed, waiting


def state(aid):
    act = activities[aid]
    confirmed, waiting = counts(act)
    seats = sum(r["party_size"] for r in confirmed)
    return {"id": aid, "activity_id": aid, "capacity": act["capacity"], "confirmed_seats": seats,
            "available_seats": max(act["capacity"] - seats, 0), "waitlist_length": len(waiting),
            "waitlisted_seats": sum(r["party_size"] for r in waiting), "status": "open"}


def promote(act):
    confirmed, waiting = counts(act)
    free = act["capacity"] - sum(r["party_size"] for r in confirmed)
    for r in waiting:
        if r["party_size"] > free:
            break
        r["status"] = "confirmed"
        free -= r["party_size"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", 0))
        return json.loads(self.rfile.read(n) or b"{}")

    def do_POST(self):
        data = self.body()
        with lock:
            if self.path == "/api/v1/activities":
                activities[data["id"]] = {"capacity": data["capacity"], "rsvps": []}
                return self.reply(201, state(data["id"]))
            if self.path == "/api/v1/rsvps":
                act = activities.get(data["activity_id"])
                if act is None:
                    return self.reply(404, {"status": 404})
                counter[0] += 1
                rid = "r%d" % counter[0]
                party = 1 + data.get("guests", 0)
                confirmed, waiting = counts(act)
                seats = sum(r["party_size"] for r in confirmed)
                fits = seats + party <= act["capacity"] and not waiting
                if FAULT == "overbook" and seats == act["capacity"] and not waiting:
                    fits = True
                rsvp = {"id": rid, "activity_id": data["activity_id"], "user_id": data.get("user_id"),
                        "party_size": party, "status": "confirmed" if fits else "waitlisted"}
                if not (FAULT == "lose" and counter[0] % 50 == 0):
                    rsvps[rid] = rsvp
                    act["rsvps"].append(rid)
                return self.reply(201, rsvp)
        self.reply(404, {"status": 404})

    def do_DELETE(self):
        rid = self.path.rsplit("/", 1)[-1]
        with lock:
            r = rsvps.get(rid)
            if r is None:
                return self.reply(404, {"status": 404})
            r["status"] = "cancelled"
            promote(activities[r["activity_id"]])
            return self.reply(200, r)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        with lock:
            if path == "/metrics":
                body = b"rsvpd_overbooking_detected_total 0\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                return self.wfile.write(body)
            m = re.fullmatch(r"/api/v1/activities/([^/]+)(/capacity|/participants)?", path)
            if not m or m.group(1) not in activities:
                return self.reply(404, {"status": 404})
            aid, sub = m.group(1), m.group(2)
            if sub != "/participants":
                return self.reply(200, state(aid))
            confirmed, waiting = counts(activities[aid])
            if FAULT == "reorder":
                waiting = waiting[::-1]
            listing = [dict(r, waitlist_position=None) for r in confirmed]
            for i, r in enumerate(waiting):
                listing.append(dict(r, waitlist_position=i + 1 + (1 if FAULT == "gap" and i > 0 else 0)))
            start, limit = int(params.get("cursor", 0)), int(params.get("limit", 50))
            page = listing[start:start + limit]
            nxt = str(start + limit) if start + limit < len(listing) else None
            out = state(aid)
            return self.reply(200, {"activity_id": aid, "confirmed_seats": out["confirmed_seats"],
                                    "waitlisted_seats": out["waitlisted_seats"],
                                    "participants": page, "next_cursor": nxt})


def main():
    global FAULT
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("--fault", default="none", choices=["none", "overbook", "lose", "gap", "reorder"])
    parser.add_argument("--seconds", type=float, default=120, help="exit after this long")
    args = parser.parse_args()
    FAULT = args.fault
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(args.seconds)


if __name__ == "__main__":
    main()
