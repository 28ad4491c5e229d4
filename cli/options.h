// Command-line plumbing every rsvpctl command shares: the common flags (matching rsvpd's own
// --data-dir / --shm-name and their RSVPD_* environment variables), --json, --help, and the
// Boost.Program_options parse that turns errors into kExitUsage.
#pragma once

#include <boost/program_options.hpp>
#include <optional>
#include <string>
#include <vector>

namespace rsvpd::cli {

namespace po = boost::program_options;

inline constexpr const char* kDataDirDefault = "./rsvpd-data";  // As rsvpd's (API.md).
inline constexpr const char* kShmNameDefault = "rsvpd";
inline constexpr const char* kUrlDefault = "http://127.0.0.1:8080";

struct CommonOptions {
  std::string data_dir;
  std::string shm_name;
  bool json = false;
};

// Adds --data-dir, --shm-name, --json to `description`, defaults from the environment.
void add_common_options(po::options_description& description, CommonOptions& options);

// The environment variable's value, or `fallback` when unset or empty.
std::string env_or(const char* name, const char* fallback);

struct CommandLine {
  CommandLine(std::string usage_text, std::string summary_text)
      : usage(std::move(usage_text)), summary(std::move(summary_text)) {}
  std::string usage;  // "rsvpctl show ACTIVITY [OPTIONS]"
  std::string summary;
  po::options_description options{"Options"};
  po::positional_options_description positional;
};

// Parses argv (argv[0] is the command's name) into `variables` and notifies. Returns an exit
// code when the command must stop: kExitOk after printing --help, kExitUsage after an error
// message on stderr. Returns nullopt when the command should run.
std::optional<int> parse_command_line(CommandLine& line, const std::vector<std::string>& args,
                                      po::variables_map& variables);

}  // namespace rsvpd::cli
