/* capacity_watch: print an activity's seats every time the daemon publishes a change.
 *
 *   capacity_watch [-n SHM_NAME] [-c COUNT] [-t TIMEOUT_MS] ACTIVITY_ID
 *
 * Prints one line per observed state ("capacity=10 confirmed=3 available=7 ..."), the first one
 * at once. Stops after COUNT lines (0 = never), on SIGINT/SIGTERM, or when nothing changed for
 * TIMEOUT_MS and the daemon is not alive. Re-attaches when the daemon restarts.
 *
 * Exit codes: 0 done, 1 usage, 2 segment cannot be opened, 3 activity not found, 4 daemon dead
 * or stopped, 5 other read error.
 *
 * Pure C99 against rsvpd_reader.h: the example a co-located program can copy.
 */
#define _POSIX_C_SOURCE 200809L

#include <rsvpd_reader.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAIT_SLICE_MS_MAX 1000

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int signal_number) {
  (void)signal_number;
  stop_requested = 1;
}

static void install_handlers(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = on_signal; /* No SA_RESTART: the futex wait returns EINTR. */
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, NULL);
  sigaction(SIGTERM, &action, NULL);
}

static const char *status_name(uint32_t status) {
  switch (status) {
    case RSVPD_STATUS_OPEN: return "open";
    case RSVPD_STATUS_CLOSED: return "closed";
    case RSVPD_STATUS_ARCHIVED: return "archived";
    default: return "unknown";
  }
}

static void print_snapshot(const char *id, const rsvpd_snapshot *snap) {
  printf("%s capacity=%u confirmed=%u available=%u waitlist=%u waitlisted_seats=%u status=%s "
         "version=%llu seq=%llu\n",
         id, snap->capacity, snap->confirmed_seats, snap->available_seats, snap->waitlist_length,
         snap->waitlisted_seats, status_name(snap->status), (unsigned long long)snap->version,
         (unsigned long long)snap->last_audit_seq);
  fflush(stdout);
}

/* After a quiet period: 0 to keep going, else the exit code. */
static int check_daemon(rsvpd_reader *reader) {
  int rc = rsvpd_reader_check_daemon(reader, 0, NULL);
  if (rc == RSVPD_DAEMON_RESTARTED) {
    rc = rsvpd_reader_reattach(reader);
    if (rc == RSVPD_OK) return 0;
  }
  if (rc == RSVPD_OK || rc == RSVPD_DAEMON_STALLED) return 0;
  fprintf(stderr, "capacity_watch: %s\n", rsvpd_strerror(rc));
  return 4;
}

static int watch(rsvpd_reader *reader, rsvpd_activity *activity, long count, long timeout_ms) {
  long printed = 0;
  while (!stop_requested) {
    const uint32_t seen = rsvpd_reader_change_counter(reader);
    rsvpd_snapshot snap;
    int rc = rsvpd_reader_read(reader, activity, &snap);
    if (rc == RSVPD_NO_ACTIVITY) return 3;
    if (rc == RSVPD_OK) {
      print_snapshot(activity->id, &snap);
      if (count > 0 && ++printed >= count) return 0;
    } else if (rc != RSVPD_BUSY) {
      fprintf(stderr, "capacity_watch: %s\n", rsvpd_strerror(rc));
      return 5;
    }
    rc = rsvpd_reader_wait(reader, seen, timeout_ms);
    if (rc == RSVPD_TIMEOUT) {
      const int exit_code = check_daemon(reader);
      if (exit_code != 0) return exit_code;
    }
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *shm_name = "rsvpd";
  long count = 0;
  long timeout_ms = WAIT_SLICE_MS_MAX;
  int option;
  while ((option = getopt(argc, argv, "n:c:t:")) != -1) {
    if (option == 'n') shm_name = optarg;
    else if (option == 'c') count = strtol(optarg, NULL, 10);
    else if (option == 't') timeout_ms = strtol(optarg, NULL, 10);
    else return 1;
  }
  if (optind + 1 != argc || count < 0 || timeout_ms < 0 || timeout_ms > RSVPD_WAIT_TIMEOUT_MS_MAX) {
    fprintf(stderr, "usage: capacity_watch [-n SHM_NAME] [-c COUNT] [-t TIMEOUT_MS] ACTIVITY_ID\n");
    return 1;
  }
  install_handlers();
  rsvpd_reader *reader = NULL;
  int rc = rsvpd_reader_open(shm_name, &reader);
  if (rc != RSVPD_OK) {
    fprintf(stderr, "capacity_watch: %s: %s\n", shm_name, rsvpd_strerror(rc));
    return 2;
  }
  rsvpd_activity activity;
  rc = rsvpd_reader_find(reader, argv[optind], &activity);
  if (rc != RSVPD_OK) {
    fprintf(stderr, "capacity_watch: %s: %s\n", argv[optind], rsvpd_strerror(rc));
    rsvpd_reader_close(reader);
    return 3;
  }
  const int exit_code = watch(reader, &activity, count, timeout_ms);
  rsvpd_reader_close(reader);
  return exit_code;
}
