// backup (a consistent hot copy of LMDB) and token issue (an HS256 token from the daemon's secret).
#include <dirent.h>
#include <lmdb.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/json_output.h"
#include "cli/options.h"
#include "cli/ttl.h"
#include "daemon/store.h"
#include "http/jwt_auth.h"

namespace rsvpd::cli {

namespace {

constexpr mode_t kBackupDirMode = 0700;
constexpr mode_t kBackupFileMode = 0600;

// Creates `path` (mode 0700, *created = true) unless it exists; it must then be an empty
// directory.
bool prepare_backup_dir(const std::string& path, bool* created, std::string* error) {
  *created = mkdir(path.c_str(), kBackupDirMode) == 0;
  if (*created) return true;
  if (errno != EEXIST) {
    *error = "mkdir " + path + ": " + std::strerror(errno);
    return false;
  }
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) {
    *error = path + " exists and is not a readable directory";
    return false;
  }
  bool empty = true;
  while (const dirent* entry = readdir(dir)) {
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) empty = false;
  }
  closedir(dir);
  if (!empty) *error = path + " is not empty: refusing to overwrite";
  return empty;
}

// mdb_env_copy2 with MDB_CP_COMPACT from a read-only environment: a consistent snapshot taken
// in one read transaction, so the daemon keeps committing meanwhile.
int copy_environment(const std::string& data_dir, const std::string& path, std::string* error) {
  MDB_env* env = nullptr;
  int rc = mdb_env_create(&env);
  if (rc == MDB_SUCCESS) rc = mdb_env_set_maxdbs(env, kDatabasesMax);
  if (rc == MDB_SUCCESS) rc = mdb_env_open(env, data_dir.c_str(), MDB_RDONLY, kBackupFileMode);
  if (rc != MDB_SUCCESS) {
    *error = "open " + data_dir + ": " + mdb_strerror(rc);
    if (env != nullptr) mdb_env_close(env);
    return rc == ENOENT ? kExitNotFound : kExitStore;
  }
  rc = mdb_env_copy2(env, path.c_str(), MDB_CP_COMPACT);
  mdb_env_close(env);
  if (rc != MDB_SUCCESS) {
    *error = "copy to " + path + ": " + mdb_strerror(rc);
    return kExitFailure;
  }
  return kExitOk;
}

bool copy_file(const std::string& from, const std::string& to, std::string* error) {
  std::ifstream in(from, std::ios::binary);
  if (!in) {
    *error = "cannot read " + from;
    return false;
  }
  std::ofstream out(to, std::ios::binary | std::ios::trunc);
  out << in.rdbuf();
  out.close();
  if (!out || chmod(to.c_str(), kBackupFileMode) != 0) {
    *error = "cannot write " + to;
    return false;
  }
  return true;
}

off_t file_bytes(const std::string& path) {
  struct stat info {};
  return stat(path.c_str(), &info) == 0 ? info.st_size : 0;
}

}  // namespace

int run_backup(const Args& args) {
  CommandLine line{"rsvpctl backup PATH [OPTIONS]",
                   "A consistent, compacted hot copy of the LMDB store into the directory PATH\n"
                   "(created, or empty), while the daemon runs. Restore: docs/OPERATIONS.md."};
  CommonOptions options;
  std::string path;
  bool with_secret = false;
  add_common_options(line.options, options);
  line.options.add_options()
      ("path", po::value(&path)->required(), "backup directory")
      ("with-secret", po::bool_switch(&with_secret), "also copy <data-dir>/jwt.secret");
  line.positional.add("path", 1);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  std::string error;
  bool created = false;
  if (!prepare_backup_dir(path, &created, &error)) {
    std::cerr << "rsvpctl: " << error << '\n';
    return kExitFailure;
  }
  const int exit_code = copy_environment(options.data_dir, path, &error);
  if (exit_code != kExitOk) {
    std::cerr << "rsvpctl: backup failed: " << error << '\n';
    unlink((path + "/data.mdb").c_str());  // A partial copy must not pass for a backup.
    if (created) rmdir(path.c_str());
    return exit_code;
  }
  if (with_secret && !copy_file(options.data_dir + "/jwt.secret", path + "/jwt.secret", &error)) {
    std::cerr << "rsvpctl: " << error << '\n';
    return kExitFailure;
  }
  const off_t bytes = file_bytes(path + "/data.mdb");
  if (options.json) {
    picojson::object out;
    out["path"] = picojson::value(path);
    out["bytes"] = picojson::value(static_cast<int64_t>(bytes));
    print_json(picojson::value(out));
  } else {
    std::cout << "backup written to " << path << "/data.mdb (" << bytes << " bytes)\n";
  }
  return kExitOk;
}

int run_token(const Args& args) {
  CommandLine line{"rsvpctl token issue --user ID [--role host|admin]... [--ttl DURATION]",
                   "Mints an HS256 token signed with the daemon's secret (<data-dir>/jwt.secret\n"
                   "or --jwt-secret-file). DURATION: a number and s, m, h or d (e.g. 30m, 7d)."};
  CommonOptions options;
  std::string action, user, ttl_text, secret_file;
  std::vector<std::string> roles;
  add_common_options(line.options, options);
  line.options.add_options()
      ("action", po::value(&action)->required(), "issue")
      ("user", po::value(&user)->required(), "the token's sub (a user id)")
      ("role", po::value(&roles)->composing(), "host or admin (repeatable)")
      ("ttl", po::value(&ttl_text)->default_value("1h"), "lifetime, up to 365d")
      ("jwt-secret-file", po::value(&secret_file)->default_value(
                              env_or("RSVPD_JWT_SECRET_FILE", "")),
       "the daemon's secret (env RSVPD_JWT_SECRET_FILE; default <data-dir>/jwt.secret)");
  line.positional.add("action", 1);
  po::variables_map variables;
  if (auto exit = parse_command_line(line, args, variables)) return *exit;
  const std::optional<int64_t> ttl_s = parse_ttl_s(ttl_text);
  if (action != "issue" || !ttl_s) {
    std::cerr << "rsvpctl: usage: " << line.usage << '\n';
    return kExitUsage;
  }
  for (const std::string& role : roles) {
    if (role != "host" && role != "admin") {
      std::cerr << "rsvpctl: unknown role '" << role << "' (host or admin)\n";
      return kExitUsage;
    }
  }
  if (secret_file.empty()) secret_file = options.data_dir + "/jwt.secret";
  Result<std::string> secret = http::load_or_create_secret(secret_file, http::SecretFileMode::kMustExist);
  if (!secret.is_ok()) {
    std::cerr << "rsvpctl: secret " << secret_file << ": " << secret.status().to_string() << '\n';
    return kExitAuth;
  }
  const int64_t exp_s = static_cast<int64_t>(time(nullptr)) + *ttl_s;
  Result<std::string> token = http::mint_token(secret.value(), user, roles, exp_s);
  if (!token.is_ok()) {
    std::cerr << "rsvpctl: " << token.status().to_string() << '\n';
    return kExitUsage;
  }
  if (options.json) {
    picojson::object out;
    out["token"] = picojson::value(token.value());
    out["sub"] = picojson::value(user);
    out["exp"] = picojson::value(exp_s);
    print_json(picojson::value(out));
  } else {
    std::cout << token.value() << '\n';
  }
  return kExitOk;
}

}  // namespace rsvpd::cli
