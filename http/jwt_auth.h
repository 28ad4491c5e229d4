// Authentication: HS256 JWT bearer tokens (API.md, "Authentication and roles").
//
// libjwt 1.10.2 verifies a token with whatever algorithm its header names and never looks at
// exp/nbf (DESIGN.md §4), so JwtVerifier checks both itself:
//   - the header's alg must be HS256 (none, HS384/HS512 signed with our secret, RS256... fail);
//   - claims: `sub` (a string matching ^[A-Za-z0-9._:-]{1,64}$) and `exp` are required, `nbf` is
//     honoured when present; both are integer seconds since the epoch (fractional NumericDates
//     are refused) in [0, kJwtTimeSecondsMax];
//   - valid means nbf <= now < exp against the injected Clock, with no leeway: tokens are minted
//     by rsvpctl on the daemon's own host, and a leeway would only stretch every expiry;
//   - `roles`, when present, is an array of strings; "host" and "admin" grant those roles and
//     other strings are ignored (so new roles can be minted before daemons know them).
// Every failure is one answer, 401 `unauthenticated`; the Status message is a machine reason for
// logs: "missing", "not-bearer", "too-long", "bad-token", "bad-signature", "alg-not-hs256",
// "bad-claims", "bad-sub", "bad-exp", "bad-nbf", "bad-roles", "expired", "not-yet-valid".
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include "daemon/clock.h"
#include "daemon/status.h"

namespace rsvpd::http {

inline constexpr std::size_t kTokenBytesMax = 4096;         // Longer credentials: "too-long".
inline constexpr std::size_t kTokenCacheEntriesMax = 4096;  // Verified tokens kept.
inline constexpr std::size_t kSecretBytesMin = 32;          // HS256 wants >= 256 key bits.
inline constexpr std::size_t kSecretBytesMax = 4096;
inline constexpr std::size_t kSecretBytesCreated = 32;
inline constexpr int64_t kJwtTimeSecondsMax = 253402300799;  // 9999-12-31T23:59:59Z
static_assert(kSecretBytesCreated >= kSecretBytesMin && kSecretBytesMin <= kSecretBytesMax);

struct Principal {
  std::string sub;
  bool host = false;
  bool admin = false;
  int64_t exp_ms = 0;  // When the token stops being accepted.
};

enum class SecretFileMode {
  kMustExist,        // --jwt-secret-file: a missing file is an error.
  kCreateIfMissing,  // The default <data-dir>/jwt.secret: created on first start.
};

// Reads the secret: exactly the file's bytes (no trimming — a trailing newline is part of the
// key; rsvpctl reads the file the same way, so both sides agree). When the file is missing and
// mode is kCreateIfMissing, writes kSecretBytesCreated bytes from getrandom with mode 0600: to a
// temporary file (O_CREAT|O_EXCL, fchmod 0600, fsync) that is then link()ed into place, so the
// secret appears complete or not at all, and a daemon racing us keeps whichever file won; then
// the directory is fsynced (file systems without hard links cannot hold a created secret: write
// it by hand there). Errors: kNotFound (missing, kMustExist), kInvalidArgument (not a
// regular file, shorter than kSecretBytesMin or longer than kSecretBytesMax — remedy: write a
// longer secret, e.g. `head -c 32 /dev/urandom`), kIoError (any other errno, message names it).
// Thread-safe; does no caching.
Result<std::string> load_or_create_secret(const std::string& path, SecretFileMode mode);

// An HS256 token with claims sub, exp (and nbf when given), and roles when not empty. For tests
// and rsvpctl. Errors: kInvalidArgument when the secret is not kSecretBytesMin..kSecretBytesMax
// bytes, sub or a role does not match the id rule, a time is outside [0, kJwtTimeSecondsMax],
// or libjwt refuses (ENOMEM included).
Result<std::string> mint_token(std::string_view secret, std::string_view sub,
                               std::span<const std::string> roles, int64_t exp_unix_s,
                               std::optional<int64_t> nbf_unix_s = std::nullopt);

// Verifies bearer tokens and caches the verified ones (token → claims, at most
// kTokenCacheEntriesMax; when full, expired entries are dropped, and if that frees nothing the
// cache is cleared), so a repeated token skips the HMAC. Times are re-checked on every hit.
// Thread safety: verify(), reload() and replace_secret() may be called concurrently from any
// threads; one mutex guards the secret and the cache (held for map operations only, never for the
// HMAC). A secret change clears the cache, and a verification that began under the old secret
// does not put its result into the new cache.
class JwtVerifier {
 public:
  // REQUIRES: secret.size() in [kSecretBytesMin, kSecretBytesMax]; `clock` outlives the verifier.
  // `secret_path` is what reload() re-reads; empty means reload() is not used.
  JwtVerifier(const Clock& clock, std::string secret, std::string secret_path = {});
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  // Loads the secret (load_or_create_secret) and builds a verifier that reloads from `path`.
  static Result<std::unique_ptr<JwtVerifier>> open(const Clock& clock, const std::string& path,
                                                   SecretFileMode mode);

  // `credential` is an Authorization header value ("Bearer <token>", scheme case-insensitive) or
  // a bare token (from ?access_token=). Errors: kInvalidArgument with a reason listed above,
  // always answered 401 unauthenticated.
  Result<Principal> verify(std::string_view credential);

  // SIGHUP: re-reads the secret file (kMustExist) and swaps it in, clearing the cache. On error
  // the old secret stays in force and the error is returned for the log.
  // REQUIRES: the verifier was built with a secret path.
  Status reload();

  // Swaps in `secret` and clears the cache. REQUIRES: size in [kSecretBytesMin, kSecretBytesMax].
  void replace_secret(std::string secret);

  // How many tokens went through signature verification (cache misses); for metrics and tests.
  uint64_t signature_checks() const noexcept;
  std::size_t cache_size() const;

 private:
  struct Claims {
    Principal principal;
    int64_t nbf_ms = INT64_MIN;  // INT64_MIN when the token has no nbf.
  };

  Result<Claims> decode(std::string_view token, const std::string& secret);
  Result<Principal> check_times(const Claims& claims) const;
  void remember(std::string_view token, const Claims& claims, uint64_t generation);

  const Clock& clock_;
  const std::string secret_path_;
  mutable std::mutex mutex_;
  std::shared_ptr<const std::string> secret_;      // Guarded by mutex_.
  uint64_t generation_ = 0;                        // Guarded by mutex_; +1 per secret change.
  std::unordered_map<std::string, Claims> cache_;  // Guarded by mutex_.
  std::atomic<uint64_t> signature_checks_{0};
};

}  // namespace rsvpd::http
