#include "cli/options.h"

#include <cstdlib>
#include <iostream>

#include "cli/exit_codes.h"

namespace rsvpd::cli {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && value[0] != '\0' ? std::string(value) : std::string(fallback);
}

void add_common_options(po::options_description& description, CommonOptions& options) {
  description.add_options()
      ("data-dir", po::value(&options.data_dir)->default_value(
                       env_or("RSVPD_DATA_DIR", kDataDirDefault)),
       "the daemon's data directory (env RSVPD_DATA_DIR)")
      ("shm-name", po::value(&options.shm_name)->default_value(
                       env_or("RSVPD_SHM_NAME", kShmNameDefault)),
       "the daemon's shared-memory segment name (env RSVPD_SHM_NAME)")
      ("json", po::bool_switch(&options.json), "machine-readable JSON output");
}

std::optional<int> parse_command_line(CommandLine& line, const std::vector<std::string>& args,
                                      po::variables_map& variables) {
  line.options.add_options()("help,h", "show this help");
  try {
    po::store(po::command_line_parser(args).options(line.options).positional(line.positional)
                  .run(),
              variables);
    if (variables.count("help") != 0) {
      std::cout << "usage: " << line.usage << "\n\n" << line.summary << "\n\n" << line.options;
      return kExitOk;
    }
    po::notify(variables);
  } catch (const po::error& error) {
    std::cerr << "rsvpctl: " << error.what() << "\nusage: " << line.usage
              << "\n(--help for the options)\n";
    return kExitUsage;
  }
  return std::nullopt;
}

}  // namespace rsvpd::cli
