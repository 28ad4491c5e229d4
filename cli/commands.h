// rsvpctl's subcommands. Each takes its arguments (args[0] is the command's own name), prints to
// stdout (errors to stderr) and returns an ExitCode (cli/exit_codes.h).
#pragma once

#include <string>
#include <vector>

namespace rsvpd::cli {

using Args = std::vector<std::string>;

int run_status(const Args& args);
int run_ls(const Args& args);
int run_show(const Args& args);
int run_watch(const Args& args);
int run_audit(const Args& args);
int run_verify(const Args& args);
int run_backup(const Args& args);
int run_token(const Args& args);
int run_activity(const Args& args);

}  // namespace rsvpd::cli
