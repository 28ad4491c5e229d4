#include "http/jwt_auth.h"

#include <fcntl.h>
#include <jwt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cassert>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "http/detail/random.h"
#include "http/identifiers.h"
#include "http/json_body.h"
#include "http/json_writer.h"

namespace rsvpd::http {
namespace {

constexpr int64_t kMsPerSecond = 1000;
// The claims are re-parsed with parse_json_object, so they must fit its limit. Decoded claims are
// shorter than the token; jansson's re-dump can only grow them with \u escapes of control bytes,
// which no token we mint holds, and a token that does fails closed ("bad-claims").
static_assert(kTokenBytesMax <= kJsonBodyBytesMax);

Status unauthenticated(std::string_view reason) {
  return Status(StatusCode::kInvalidArgument, std::string(reason));
}

Status io_error(std::string_view what, const std::string& path, int error) {
  return Status(StatusCode::kIoError, std::string(what) + " " + path + ": " + std::strerror(error));
}

// ---- Secret files ----------------------------------------------------------------------------

// Closes a descriptor on scope exit.
struct FileCloser {
  int fd = -1;
  ~FileCloser() {
    if (fd >= 0) ::close(fd);
  }
};

Result<std::string> read_secret(const std::string& path) {
  FileCloser file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    if (errno == ENOENT) return Status(StatusCode::kNotFound, "no secret file " + path);
    return io_error("open", path, errno);
  }
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) return io_error("fstat", path, errno);
  if (!S_ISREG(info.st_mode)) {
    return Status(StatusCode::kInvalidArgument, "secret " + path + " is not a regular file");
  }
  std::string secret(kSecretBytesMax + 1, '\0');  // One more byte detects oversized files.
  std::size_t filled = 0;
  while (filled < secret.size()) {
    const ssize_t got = ::read(file.fd, secret.data() + filled, secret.size() - filled);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return io_error("read", path, errno);
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  secret.resize(filled);
  if (secret.size() < kSecretBytesMin || secret.size() > kSecretBytesMax) {
    return Status(StatusCode::kInvalidArgument, "secret " + path + " must hold " +
                                                    std::to_string(kSecretBytesMin) + " to " +
                                                    std::to_string(kSecretBytesMax) +
                                                    " bytes, has " + std::to_string(secret.size()));
  }
  return secret;
}

Status write_all_and_sync(int fd, std::string_view bytes, const std::string& path) {
  std::size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t done = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return io_error("write", path, errno);
    written += static_cast<std::size_t>(done);
  }
  if (::fsync(fd) != 0) return io_error("fsync", path, errno);
  return Status::ok();
}

Status sync_parent_directory(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  FileCloser dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd < 0) return io_error("open", directory, errno);
  if (::fsync(dir.fd) != 0) return io_error("fsync", directory, errno);
  return Status::ok();
}

// Writes a fresh secret to a private temporary file and links it into place (see the header).
Status create_secret(const std::string& path) {
  std::array<std::uint8_t, kSecretBytesCreated> bytes{};
  if (Status status = detail::fill_random(bytes); !status.is_ok()) return status;
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  ::unlink(temporary.c_str());  // A leftover of an earlier crash with our pid; ENOENT is normal.
  FileCloser file{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (file.fd < 0) return io_error("create", temporary, errno);
  // The umask may have removed our own read bit; the daemon must read what it wrote.
  Status status =
      ::fchmod(file.fd, 0600) == 0 ? Status::ok() : io_error("fchmod", temporary, errno);
  if (status.is_ok()) {
    status = write_all_and_sync(
        file.fd, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()),
        temporary);
  }
  if (status.is_ok() && ::link(temporary.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    status = io_error("link", path, errno);  // EEXIST: another process created it first.
  }
  ::unlink(temporary.c_str());
  if (!status.is_ok()) return status;
  return sync_parent_directory(path);
}

// ---- Tokens ----------------------------------------------------------------------------------

// Owns a jwt_t.
struct JwtDeleter {
  void operator()(jwt_t* jwt) const { jwt_free(jwt); }
};
using JwtHandle = std::unique_ptr<jwt_t, JwtDeleter>;

struct FreeDeleter {
  void operator()(char* text) const { std::free(text); }
};

bool is_token_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  if (left.size() != right.size()) return false;
  for (std::size_t i = 0; i < left.size(); ++i) {
    const auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(left[i]) != lower(right[i])) return false;
  }
  return true;
}

// The token of "Bearer <token>" or a bare token; an error reason otherwise.
Result<std::string_view> extract_token(std::string_view credential) {
  if (credential.empty()) return unauthenticated("missing");
  if (credential.size() > kTokenBytesMax + 16) return unauthenticated("too-long");
  const std::size_t space = credential.find(' ');
  std::string_view token = credential;
  if (space != std::string_view::npos) {
    if (!equals_ignoring_case(credential.substr(0, space), "bearer")) {
      return unauthenticated("not-bearer");
    }
    token = credential.substr(space);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  }
  if (token.empty()) return unauthenticated("missing");
  if (token.size() > kTokenBytesMax) return unauthenticated("too-long");
  for (const char c : token) {
    if (!is_token_char(c)) return unauthenticated("bad-token");
  }
  return token;
}

// Seconds claim → milliseconds; absent is reported as nullopt.
Result<std::optional<int64_t>> time_claim_ms(const picojson::object& claims, const char* name,
                                             std::string_view bad_reason) {
  const auto it = claims.find(name);
  if (it == claims.end()) return std::optional<int64_t>();
  if (!it->second.is<int64_t>()) return unauthenticated(bad_reason);
  const int64_t seconds = it->second.get<int64_t>();
  if (seconds < 0 || seconds > kJwtTimeSecondsMax) return unauthenticated(bad_reason);
  return std::optional<int64_t>(seconds * kMsPerSecond);
}

Status read_roles(const picojson::object& claims, Principal& principal) {
  const auto it = claims.find("roles");
  if (it == claims.end()) return Status::ok();
  if (!it->second.is<picojson::array>()) return unauthenticated("bad-roles");
  for (const picojson::value& role : it->second.get<picojson::array>()) {
    if (!role.is<std::string>()) return unauthenticated("bad-roles");
    if (role.get<std::string>() == "host") principal.host = true;
    if (role.get<std::string>() == "admin") principal.admin = true;
  }
  return Status::ok();
}

// The claims JSON of a decoded token, parsed with our strict parser.
Result<picojson::value> claims_of(jwt_t* jwt) {
  std::unique_ptr<char, FreeDeleter> text(jwt_get_grants_json(jwt, nullptr));
  if (text == nullptr) return unauthenticated("bad-claims");
  Result<picojson::value> claims = parse_json_object(text.get());
  if (!claims.is_ok()) return unauthenticated("bad-claims");
  return claims;
}

bool is_jwt_time(int64_t unix_s) { return unix_s >= 0 && unix_s <= kJwtTimeSecondsMax; }

// rsvpctl passes operator input here, so bad arguments are errors rather than assertions.
Status check_mint_arguments(std::string_view secret, std::string_view sub,
                            std::span<const std::string> roles, int64_t exp_unix_s,
                            std::optional<int64_t> nbf_unix_s) {
  if (secret.size() < kSecretBytesMin || secret.size() > kSecretBytesMax) {
    return Status(StatusCode::kInvalidArgument, "secret must hold 32 to 4096 bytes");
  }
  if (!is_valid_id(sub)) {
    return Status(StatusCode::kInvalidArgument, "sub must match ^[A-Za-z0-9._:-]{1,64}$");
  }
  for (const std::string& role : roles) {
    if (!is_valid_id(role)) {
      return Status(StatusCode::kInvalidArgument, "roles must match ^[A-Za-z0-9._:-]{1,64}$");
    }
  }
  if (!is_jwt_time(exp_unix_s) || (nbf_unix_s && !is_jwt_time(*nbf_unix_s))) {
    return Status(StatusCode::kInvalidArgument, "exp and nbf must be seconds in [0, 253402300799]");
  }
  return Status::ok();
}

}  // namespace

Result<std::string> load_or_create_secret(const std::string& path, SecretFileMode mode) {
  Result<std::string> secret = read_secret(path);
  if (secret.is_ok() || secret.status().code() != StatusCode::kNotFound ||
      mode == SecretFileMode::kMustExist) {
    return secret;
  }
  if (Status status = create_secret(path); !status.is_ok()) return status;
  return read_secret(path);
}

Result<std::string> mint_token(std::string_view secret, std::string_view sub,
                               std::span<const std::string> roles, int64_t exp_unix_s,
                               std::optional<int64_t> nbf_unix_s) {
  if (Status status = check_mint_arguments(secret, sub, roles, exp_unix_s, nbf_unix_s);
      !status.is_ok()) {
    return status;
  }
  JsonObjectBuilder claims;
  claims.set("sub", json_string(sub)).set("exp", json_int(exp_unix_s));
  if (nbf_unix_s) claims.set("nbf", json_int(*nbf_unix_s));
  if (!roles.empty()) {
    picojson::array list;
    for (const std::string& role : roles) list.push_back(json_string(role));
    claims.set("roles", picojson::value(std::move(list)));
  }
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Status(StatusCode::kInvalidArgument, "jwt_new failed");
  JwtHandle jwt(raw);
  const std::string claims_text = to_json_text(claims.build());
  if (jwt_add_grants_json(jwt.get(), claims_text.c_str()) != 0 ||
      jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    return Status(StatusCode::kInvalidArgument, "libjwt refused the claims or the key");
  }
  std::unique_ptr<char, FreeDeleter> token(jwt_encode_str(jwt.get()));
  if (token == nullptr) return Status(StatusCode::kInvalidArgument, "jwt_encode_str failed");
  return std::string(token.get());
}

JwtVerifier::JwtVerifier(const Clock& clock, std::string secret, std::string secret_path)
    : clock_(clock), secret_path_(std::move(secret_path)) {
  replace_secret(std::move(secret));
}

Result<std::unique_ptr<JwtVerifier>> JwtVerifier::open(const Clock& clock, const std::string& path,
                                                       SecretFileMode mode) {
  Result<std::string> secret = load_or_create_secret(path, mode);
  if (!secret.is_ok()) return secret.status();
  return std::make_unique<JwtVerifier>(clock, std::move(secret).value(), path);
}

void JwtVerifier::replace_secret(std::string secret) {
  assert(secret.size() >= kSecretBytesMin && secret.size() <= kSecretBytesMax);
  auto shared = std::make_shared<const std::string>(std::move(secret));
  std::lock_guard lock(mutex_);
  secret_ = std::move(shared);
  ++generation_;
  cache_.clear();
}

Status JwtVerifier::reload() {
  assert(!secret_path_.empty());
  Result<std::string> secret = load_or_create_secret(secret_path_, SecretFileMode::kMustExist);
  if (!secret.is_ok()) return secret.status();
  replace_secret(std::move(secret).value());
  return Status::ok();
}

uint64_t JwtVerifier::signature_checks() const noexcept {
  return signature_checks_.load(std::memory_order_relaxed);  // Relaxed: a statistic.
}

std::size_t JwtVerifier::cache_size() const {
  std::lock_guard lock(mutex_);
  return cache_.size();
}

Result<JwtVerifier::Claims> JwtVerifier::decode(std::string_view token, const std::string& secret) {
  signature_checks_.fetch_add(1, std::memory_order_relaxed);  // Relaxed: a statistic.
  const std::string token_text(token);  // libjwt wants a NUL-terminated string.
  jwt_t* raw = nullptr;
  const int error =
      jwt_decode(&raw, token_text.c_str(), reinterpret_cast<const unsigned char*>(secret.data()),
                 static_cast<int>(secret.size()));
  JwtHandle jwt(raw);
  if (error != 0 || jwt == nullptr) return unauthenticated("bad-signature");
  // libjwt verified with the header's algorithm; only HS256 is ours (DESIGN.md §4). libjwt
  // also maps the name ignoring case ("hs256"); alg names are case-sensitive (RFC 7515
  // §4.1.1), so the header must say exactly "HS256" (found by tests/fuzz/fuzz_jwt).
  const char* alg = jwt_get_header(jwt.get(), "alg");
  if (jwt_get_alg(jwt.get()) != JWT_ALG_HS256 || alg == nullptr ||
      std::strcmp(alg, "HS256") != 0) {
    return unauthenticated("alg-not-hs256");
  }
  Result<picojson::value> parsed = claims_of(jwt.get());
  if (!parsed.is_ok()) return parsed.status();
  const picojson::object& claims = parsed->get<picojson::object>();
  Claims result;
  const auto sub = claims.find("sub");
  if (sub == claims.end() || !sub->second.is<std::string>() ||
      !is_valid_id(sub->second.get<std::string>())) {
    return unauthenticated("bad-sub");
  }
  result.principal.sub = sub->second.get<std::string>();
  Result<std::optional<int64_t>> exp_ms = time_claim_ms(claims, "exp", "bad-exp");
  if (!exp_ms.is_ok()) return exp_ms.status();
  if (!exp_ms.value()) return unauthenticated("bad-exp");
  result.principal.exp_ms = *exp_ms.value();
  Result<std::optional<int64_t>> nbf_ms = time_claim_ms(claims, "nbf", "bad-nbf");
  if (!nbf_ms.is_ok()) return nbf_ms.status();
  if (nbf_ms.value()) result.nbf_ms = *nbf_ms.value();
  if (Status status = read_roles(claims, result.principal); !status.is_ok()) return status;
  return result;
}

Result<Principal> JwtVerifier::check_times(const Claims& claims) const {
  const int64_t now_ms = clock_.now_ms();
  if (now_ms >= claims.principal.exp_ms) return unauthenticated("expired");
  if (now_ms < claims.nbf_ms) return unauthenticated("not-yet-valid");
  return claims.principal;
}

void JwtVerifier::remember(std::string_view token, const Claims& claims, uint64_t generation) {
  std::lock_guard lock(mutex_);
  if (generation != generation_) return;  // The secret changed while we verified.
  if (cache_.size() >= kTokenCacheEntriesMax) {
    const int64_t now_ms = clock_.now_ms();
    std::erase_if(cache_,
                  [now_ms](const auto& entry) { return now_ms >= entry.second.principal.exp_ms; });
    if (cache_.size() >= kTokenCacheEntriesMax) cache_.clear();
  }
  cache_.emplace(std::string(token), claims);
}

Result<Principal> JwtVerifier::verify(std::string_view credential) {
  Result<std::string_view> token = extract_token(credential);
  if (!token.is_ok()) return token.status();
  std::shared_ptr<const std::string> secret;
  uint64_t generation = 0;
  {
    std::lock_guard lock(mutex_);
    // A heterogeneous find would avoid this copy; the copy is cheap next to an HMAC.
    const auto hit = cache_.find(std::string(token.value()));
    if (hit != cache_.end()) return check_times(hit->second);
    secret = secret_;
    generation = generation_;
  }
  Result<Claims> claims = decode(token.value(), *secret);
  if (!claims.is_ok()) return claims.status();
  remember(token.value(), claims.value(), generation);
  return check_times(claims.value());
}

}  // namespace rsvpd::http
