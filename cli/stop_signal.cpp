#include "cli/stop_signal.h"

#include <signal.h>

#include <cstring>

namespace rsvpd::cli {

namespace {
volatile sig_atomic_t stop_flag = 0;
void on_stop_signal(int) { stop_flag = 1; }
}  // namespace

void install_stop_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

bool stop_requested() { return stop_flag != 0; }

}  // namespace rsvpd::cli
