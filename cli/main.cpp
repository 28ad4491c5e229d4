// rsvpctl: the operator's tool for rsvpd, in the style of systemctl / etcdctl.
//
//   rsvpctl COMMAND [ARGS] [OPTIONS]      rsvpctl COMMAND --help
//
// Exit codes: cli/exit_codes.h and docs/OPERATIONS.md.
#include <iostream>
#include <string_view>

#include "cli/commands.h"
#include "cli/exit_codes.h"

namespace {

using rsvpd::cli::Args;

struct Command {
  std::string_view name;
  int (*run)(const Args&);
  std::string_view summary;
};

constexpr Command kCommands[] = {
    {"status", rsvpd::cli::run_status, "daemon pid, uptime, heartbeat, activities, commit figures"},
    {"ls", rsvpd::cli::run_ls, "live activities and their seats"},
    {"show", rsvpd::cli::run_show, "one activity: live seats, waitlist head, audit tail"},
    {"watch", rsvpd::cli::run_watch, "live view of one activity, redrawn on each change"},
    {"audit", rsvpd::cli::run_audit, "the audit trail (--follow for new entries)"},
    {"verify", rsvpd::cli::run_verify, "check every invariant: LMDB, audit replay, segment"},
    {"backup", rsvpd::cli::run_backup, "consistent hot copy of the store"},
    {"token", rsvpd::cli::run_token, "token issue: mint an HS256 token from the secret"},
    {"activity", rsvpd::cli::run_activity, "activity create|update through the HTTP API"},
};

void print_usage(std::ostream& out) {
  out << "usage: rsvpctl COMMAND [ARGS] [OPTIONS]\n\ncommands:\n";
  for (const Command& command : kCommands) {
    out << "  " << command.name << std::string(10 - command.name.size(), ' ') << command.summary
        << '\n';
  }
  out << "\n'rsvpctl COMMAND --help' describes a command's options. Common options: --data-dir\n"
         "(RSVPD_DATA_DIR), --shm-name (RSVPD_SHM_NAME), --json.\n"
         "exit codes: 0 ok, 1 failure, 2 usage, 3 daemon down, 4 not found, 5 store error,\n"
         "6 verify findings, 7 auth, 8 rejected by the daemon, 9 daemon unavailable.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_usage(std::cerr);
    return rsvpd::cli::kExitUsage;
  }
  const std::string_view name = argv[1];
  if (name == "--help" || name == "-h" || name == "help") {
    print_usage(std::cout);
    return rsvpd::cli::kExitOk;
  }
  for (const Command& command : kCommands) {
    if (command.name == name) return command.run(Args(argv + 2, argv + argc));
  }
  std::cerr << "rsvpctl: unknown command '" << name << "'\n";
  print_usage(std::cerr);
  return rsvpd::cli::kExitUsage;
}
