/* rsvpd_reader.h: read rsvpd's live seat counts from shared memory, lock-free.
 *
 * For processes on the daemon's host (dashboards, gates, rsvpctl). The daemon publishes the
 * committed state of every live activity into a shared-memory segment (/dev/shm/<name>); this
 * library maps it read-only and reads one activity's snapshot without syscalls, locks or
 * allocation. It never writes to the segment and never blocks the daemon.
 *
 * The header is plain C (C99 or later, C++ through extern "C") and needs nothing but the C
 * library; link with -lrsvpd_reader.
 *
 * Typical use:
 *
 *   rsvpd_reader *reader;
 *   rsvpd_activity activity;
 *   rsvpd_snapshot snap;
 *   if (rsvpd_reader_open("rsvpd", &reader) != RSVPD_OK) ...;
 *   if (rsvpd_reader_find(reader, "yoga-42", &activity) != RSVPD_OK) ...;
 *   for (;;) {
 *     uint32_t seen = rsvpd_reader_change_counter(reader);  // read the counter first ...
 *     if (rsvpd_reader_read(reader, &activity, &snap) == RSVPD_OK) show(&snap);  // ... then state
 *     int rc = rsvpd_reader_wait(reader, seen, 1000);
 *     if (rc == RSVPD_TIMEOUT && rsvpd_reader_check_daemon(reader, 0, NULL) == RSVPD_DAEMON_RESTARTED)
 *       rsvpd_reader_reattach(reader);  // handles re-find their activity by id on next read
 *   }
 *
 * Thread safety: a reader may be shared by threads for find, read, change_counter, wait and
 * check_daemon. reattach and close REQUIRE that no other thread uses the reader meanwhile. An
 * rsvpd_activity handle is plain data; a thread passing one to rsvpd_reader_read owns it for the
 * call (read may refresh it after a reattach).
 *
 * Return codes: every function returning int returns RSVPD_OK (0) or one of the codes below.
 * Each code says what happened and what to do about it.
 */
#ifndef RSVPD_READER_H
#define RSVPD_READER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define RSVPD_READER_API __attribute__((visibility("default")))
#else
#define RSVPD_READER_API
#endif

/* Successful result. */
#define RSVPD_OK 0
/* No segment of that name exists: the daemon is not running (or runs with another --shm-name).
 * Remedy: start rsvpd, or pass the name it uses; retry rsvpd_reader_open later. */
#define RSVPD_NO_SEGMENT (-30901)
/* The process may not open the segment (EACCES). Remedy: run as the daemon's user, or as a member
 * of its group (the unit file makes /dev/shm/<name> group-readable). */
#define RSVPD_PERMISSION (-30902)
/* The segment is being created by a starting daemon. Remedy: retry in a few milliseconds. */
#define RSVPD_NOT_READY (-30903)
/* The segment has another layout version or a bad magic: this library belongs to another rsvpd
 * release. Remedy: rebuild against the rsvpd_reader.h installed with the running daemon. */
#define RSVPD_BAD_LAYOUT (-30904)
/* A NULL pointer, an empty or over-long name or id, or a bad timeout. A programming error in the
 * caller; nothing was done. */
#define RSVPD_INVALID_ARGUMENT (-30905)
/* The activity is not live in the segment: unknown id, archived (archived activities leave the
 * table), or gone since the daemon restarted. Remedy: check the id; read archived ones over HTTP. */
#define RSVPD_NO_ACTIVITY (-30906)
/* Every bounded read attempt overlapped a publish by the daemon (or the daemon died mid-publish).
 * Nothing was read. Remedy: retry; if it persists, call rsvpd_reader_check_daemon. */
#define RSVPD_BUSY (-30907)
/* rsvpd_reader_wait: nothing changed within the timeout. Remedy: none needed; a long quiet
 * period is a good moment to call rsvpd_reader_check_daemon. */
#define RSVPD_TIMEOUT (-30908)
/* rsvpd_reader_wait: a signal interrupted the wait (EINTR). Remedy: check your own stop flag,
 * then wait again. */
#define RSVPD_INTERRUPTED (-30909)
/* rsvpd_reader_check_daemon: the daemon's process is gone (crashed or killed) and no new daemon
 * has replaced the segment yet. The data shown is the last committed state, which LMDB still
 * holds. Remedy: wait for systemd to restart it, then rsvpd_reader_reattach. */
#define RSVPD_DAEMON_DEAD (-30910)
/* rsvpd_reader_check_daemon: a new daemon instance replaced the segment (or removed it). This
 * mapping shows the old instance, frozen. Remedy: rsvpd_reader_reattach. */
#define RSVPD_DAEMON_RESTARTED (-30911)
/* rsvpd_reader_check_daemon: the daemon shut down cleanly and no new one has started. Remedy:
 * wait and rsvpd_reader_reattach once it is back. */
#define RSVPD_DAEMON_STOPPED (-30912)
/* rsvpd_reader_check_daemon: the heartbeat is older than the limit but the process exists: the
 * daemon is hung or starved. Remedy: alert; systemd's watchdog will restart it. */
#define RSVPD_DAEMON_STALLED (-30913)
/* Any other operating-system error while opening; errno holds the reason. Remedy: see errno. */
#define RSVPD_SYSTEM (-30914)

/* Bounds. Reads try at most RSVPD_READ_ATTEMPTS_MAX times before RSVPD_BUSY. */
#define RSVPD_ACTIVITY_ID_BYTES_MAX 64
#define RSVPD_READ_ATTEMPTS_MAX 64
#define RSVPD_WAIT_TIMEOUT_MS_MAX 86400000
/* check_daemon's default heartbeat age limit (the daemon beats about every second). */
#define RSVPD_HEARTBEAT_STALE_MS_DEFAULT 5000

/* Activity status, as in the HTTP API. Archived activities are never found (see NO_ACTIVITY). */
#define RSVPD_STATUS_OPEN 0
#define RSVPD_STATUS_CLOSED 1
#define RSVPD_STATUS_ARCHIVED 2

/* An open, read-only mapping of the segment. Opaque. */
typedef struct rsvpd_reader rsvpd_reader;

/* Where an activity lives in the segment. Plain data: copy it freely; the reader fills it.
 * Valid for any reader of the same segment name; after a reattach, rsvpd_reader_read finds the
 * activity again by id. Fields are private to the library. */
typedef struct rsvpd_activity {
  char id[RSVPD_ACTIVITY_ID_BYTES_MAX + 1]; /* NUL-terminated activity id. */
  uint32_t slot;
  uint64_t attachment; /* Which attachment of the reader `slot` belongs to. */
} rsvpd_activity;

/* One activity's committed state, consistent (all fields from the same publish). */
typedef struct rsvpd_snapshot {
  uint32_t capacity;
  uint32_t confirmed_seats;
  uint32_t available_seats; /* capacity - confirmed_seats. */
  uint32_t waitlist_length; /* Parties waiting. */
  uint32_t waitlisted_seats;
  uint32_t status;          /* RSVPD_STATUS_*. */
  uint64_t version;         /* The activity's settings version (HTTP `version`). */
  uint64_t last_audit_seq;  /* Audit seq of the last published change (SSE `id`). */
} rsvpd_snapshot;

/* The daemon behind the segment, for rsvpd_reader_check_daemon. */
typedef struct rsvpd_daemon_info {
  int64_t pid;
  int64_t start_time_ns;    /* CLOCK_REALTIME when the daemon created the segment. */
  int64_t heartbeat_age_ms; /* Milliseconds since its last heartbeat (CLOCK_MONOTONIC). */
  uint32_t live_activities;
  uint32_t stopped;         /* 1 after a clean shutdown. */
} rsvpd_daemon_info;

/* Opens the segment `name` (the daemon's --shm-name, e.g. "rsvpd") read-only.
 * On success *out owns the mapping until rsvpd_reader_close.
 * Errors: RSVPD_INVALID_ARGUMENT, RSVPD_NO_SEGMENT, RSVPD_PERMISSION, RSVPD_NOT_READY,
 * RSVPD_BAD_LAYOUT, RSVPD_SYSTEM. */
RSVPD_READER_API int rsvpd_reader_open(const char *name, rsvpd_reader **out);

/* Unmaps and frees. NULL is allowed. */
RSVPD_READER_API void rsvpd_reader_close(rsvpd_reader *reader);

/* Looks up a live activity by its NUL-terminated id. Lock-free, no syscalls.
 * Errors: RSVPD_INVALID_ARGUMENT (NULL, empty id, id over RSVPD_ACTIVITY_ID_BYTES_MAX),
 * RSVPD_NO_ACTIVITY. */
RSVPD_READER_API int rsvpd_reader_find(const rsvpd_reader *reader, const char *id,
                                       rsvpd_activity *out);

/* Reads the activity's committed snapshot: lock-free, no syscalls, no allocation, at most
 * RSVPD_READ_ATTEMPTS_MAX attempts. If the reader was reattached since `activity` was filled,
 * the activity is found again by id first (and `activity` updated).
 * Errors: RSVPD_INVALID_ARGUMENT, RSVPD_NO_ACTIVITY (archived since, or gone after a restart),
 * RSVPD_BUSY. On error *out is unspecified. */
RSVPD_READER_API int rsvpd_reader_read(const rsvpd_reader *reader, rsvpd_activity *activity,
                                       rsvpd_snapshot *out);

/* The segment's change counter: +1 for every batch of changes the daemon publishes. Read it
 * BEFORE reading state, then pass it to rsvpd_reader_wait, so no change is missed. */
RSVPD_READER_API uint32_t rsvpd_reader_change_counter(const rsvpd_reader *reader);

/* Sleeps in the kernel (futex, no polling) until the change counter differs from `seen` or
 * timeout_ms (0..RSVPD_WAIT_TIMEOUT_MS_MAX) passes. Returns RSVPD_OK when it changed (perhaps
 * before the call). Errors: RSVPD_INVALID_ARGUMENT, RSVPD_TIMEOUT, RSVPD_INTERRUPTED. A dead
 * daemon never wakes anyone: always pass a finite timeout and check the daemon on TIMEOUT. */
RSVPD_READER_API int rsvpd_reader_wait(const rsvpd_reader *reader, uint32_t seen,
                                       int64_t timeout_ms);

/* Is the daemon behind this mapping alive and current? Fills *info when info is not NULL.
 * stale_after_ms: heartbeat age beyond which the daemon is examined closer; 0 means
 * RSVPD_HEARTBEAT_STALE_MS_DEFAULT. Costs a few syscalls (shm_open + mmap of the segment now
 * behind the name to compare instances, kill(pid, 0)): call it on wait timeouts, not per read. Returns RSVPD_OK when the daemon is alive, beating and current.
 * Errors: RSVPD_INVALID_ARGUMENT, RSVPD_DAEMON_RESTARTED, RSVPD_DAEMON_STOPPED,
 * RSVPD_DAEMON_DEAD, RSVPD_DAEMON_STALLED.
 * The pid check assumes the caller shares the daemon's pid namespace. */
RSVPD_READER_API int rsvpd_reader_check_daemon(const rsvpd_reader *reader, int64_t stale_after_ms,
                                               rsvpd_daemon_info *info);

/* Maps the segment of the same name again (after RSVPD_DAEMON_RESTARTED). On success the old
 * mapping is released and handles re-find their activity on their next read. On error the old
 * mapping stays in place and the reader remains usable.
 * Errors: as rsvpd_reader_open. */
RSVPD_READER_API int rsvpd_reader_reattach(rsvpd_reader *reader);

/* A static, human-readable description of a return code ("unknown error" for others). */
RSVPD_READER_API const char *rsvpd_strerror(int code);

#ifdef __cplusplus
}
#endif

#endif /* RSVPD_READER_H */
