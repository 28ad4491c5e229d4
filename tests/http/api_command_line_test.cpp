// The daemon's command line: flags, RSVPD_* environment variables, the --config file, their
// precedence, and the errors for bad values.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "daemon/command_line.h"

namespace rsvpd {
namespace {

struct Args {
  std::vector<std::string> items;
  std::vector<const char*> pointers;
  const char* const* data() {
    pointers.clear();
    for (const std::string& item : items) pointers.push_back(item.c_str());
    pointers.push_back(nullptr);
    return pointers.data();
  }
};

Result<CommandLine> parse(std::vector<std::string> argv, std::vector<std::string> env = {}) {
  argv.insert(argv.begin(), "rsvpd");
  Args args{argv, {}};
  Args environment{env, {}};
  const int argc = static_cast<int>(argv.size());
  return parse_command_line(argc, args.data(), environment.data());
}

TEST(CommandLineTest, DefaultsMatchTheContract) {
  Result<CommandLine> parsed = parse({});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  const DaemonConfig& config = parsed->config;
  EXPECT_EQ(config.data_dir, "./rsvpd-data");
  EXPECT_EQ(config.server.host, "127.0.0.1");
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.shm_name, "rsvpd");
  EXPECT_TRUE(config.jwt_secret_file.empty());
  EXPECT_EQ(config.log_level, http::LogLevel::kInfo);
  EXPECT_EQ(config.server.io_mode, http::IoMode::kAuto);
}

TEST(CommandLineTest, FlagsAreApplied) {
  Result<CommandLine> parsed =
      parse({"--data-dir", "/d", "--listen", "[::1]:9000", "--shm-name", "s", "--jwt-secret-file",
             "/k", "--threads", "4", "--max-activities", "77", "--cors-origin", "https://a",
             "--cors-origin", "https://b", "--log-level", "debug", "--io=epoll",
             "--max-connections", "5", "--read-timeout-ms", "100"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  const DaemonConfig& config = parsed->config;
  EXPECT_EQ(config.data_dir, "/d");
  EXPECT_EQ(config.server.host, "::1");
  EXPECT_EQ(config.server.port, 9000);
  EXPECT_EQ(config.shm_name, "s");
  EXPECT_EQ(config.jwt_secret_file, "/k");
  EXPECT_EQ(config.server.threads, 4u);
  EXPECT_EQ(config.max_activities, 77u);
  EXPECT_EQ(config.cors_origins, (std::vector<std::string>{"https://a", "https://b"}));
  EXPECT_EQ(config.log_level, http::LogLevel::kDebug);
  EXPECT_EQ(config.server.io_mode, http::IoMode::kEpoll);
  EXPECT_EQ(config.server.connections_max, 5u);
  EXPECT_EQ(config.server.read_timeout_ms, 100u);
}

TEST(CommandLineTest, EventStreamsGetHalfTheConnectionsUnlessToldOtherwise) {
  Result<CommandLine> defaults = parse({});
  ASSERT_TRUE(defaults.is_ok()) << defaults.status().message();
  EXPECT_EQ(defaults->config.server.connections_max, 10'000u);
  EXPECT_EQ(defaults->config.events.clients_max, 5'000u);

  Result<CommandLine> fewer = parse({"--max-connections", "301"});
  ASSERT_TRUE(fewer.is_ok()) << fewer.status().message();
  EXPECT_EQ(fewer->config.events.clients_max, 150u);

  Result<CommandLine> one = parse({"--max-connections", "1"});
  ASSERT_TRUE(one.is_ok()) << one.status().message();
  EXPECT_EQ(one->config.events.clients_max, 1u);

  Result<CommandLine> explicit_value = parse({"--max-connections", "100", "--max-sse-clients", "99"});
  ASSERT_TRUE(explicit_value.is_ok()) << explicit_value.status().message();
  EXPECT_EQ(explicit_value->config.events.clients_max, 99u);

  Result<CommandLine> every_connection =
      parse({"--max-connections", "100", "--max-sse-clients", "100"});
  ASSERT_FALSE(every_connection.is_ok());
  EXPECT_NE(every_connection.status().message().find("--max-sse-clients"), std::string::npos)
      << every_connection.status().message();
}

TEST(CommandLineTest, EnvironmentAndConfigFileWithPrecedence) {
  const std::string path = ::testing::TempDir() + "rsvpd-command-line-test.conf";
  {
    std::ofstream file(path);
    file << "# comment\nlisten = 0.0.0.0:7000\nshm-name = from-file\nthreads = 3\n"
            "cors-origin = https://file\n";
  }
  Result<CommandLine> parsed =
      parse({"--config", path, "--threads", "2"},
            {"RSVPD_SHM_NAME=from-env", "RSVPD_CORS_ORIGIN=https://x,https://y", "HOME=/root",
             "RSVPD_BIN_DIR=/ignored"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  const DaemonConfig& config = parsed->config;
  EXPECT_EQ(config.server.threads, 2u);            // flag beats the file
  EXPECT_EQ(config.shm_name, "from-env");          // environment beats the file
  EXPECT_EQ(config.server.host, "0.0.0.0");        // only in the file
  EXPECT_EQ(config.server.port, 7000);
  EXPECT_EQ(config.cors_origins, (std::vector<std::string>{"https://x", "https://y"}));
  std::remove(path.c_str());
}

TEST(CommandLineTest, BadValuesAreErrors) {
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"--listen", "nocolon"}, {"--listen", "h:99999"}, {"--listen", ":80"},
           {"--threads", "0"}, {"--threads", "abc"}, {"--io", "kqueue"},
           {"--log-level", "loud"}, {"--bogus"}, {"--config", "/nonexistent/file"},
           {"--max-connections", "0"}}) {
    Result<CommandLine> parsed = parse(argv);
    EXPECT_FALSE(parsed.is_ok()) << argv[0];
  }
  EXPECT_FALSE(parse({}, {"RSVPD_THREADS=-1"}).is_ok());
}

TEST(CommandLineTest, HelpExitsWithoutStarting) {
  Result<CommandLine> parsed = parse({"--help"});
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_TRUE(parsed->exit_now);
}

}  // namespace
}  // namespace rsvpd
