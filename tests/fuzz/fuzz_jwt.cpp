// fuzz_jwt: JwtVerifier::verify (http/jwt_auth.*) against the fixed test secret and clock.
//
// The first byte picks how the rest becomes a credential:
//   'C'  claims: the rest is the claims JSON of a token with header {"alg":"HS256","typ":"JWT"},
//        HMAC-SHA256-signed with the secret (so everything past the signature is exercised);
//   'H'  header and claims: the rest is "<header JSON>\n<claims JSON>", signed with HMAC-SHA256
//        whatever the header says (alg confusion: "none", "hs256", HS384, duplicate alg keys);
//   'G'  generated: the rest drives FuzzedDataProvider to build a structured token (valid or
//        broken sub/exp/nbf/roles, right or wrong key, HS256/HS384/HS512/none signing), whose
//        expected verdict is computed here independently and must match;
//   else the whole input is the credential (an Authorization value or a bare token).
//
// Properties for every credential that verifies: it has exactly three base64url parts; its
// header is a JSON object whose "alg" is the string "HS256"; its signature is the HMAC-SHA256
// of "<header>.<claims>" under the secret; the claims hold a valid `sub` equal to the
// principal's, an integer `exp` with now < exp (principal.exp_ms == exp * 1000), an `nbf` (if
// any) with nbf <= now, and `roles` (if any) an array of strings granting exactly the
// principal's host/admin flags. A second verify (a cache hit) gives the same answer without
// another signature check.
#include <fuzzer/FuzzedDataProvider.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <picojson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "daemon/clock.h"
#include "http/detail/utf8.h"
#include "http/identifiers.h"
#include "http/json_writer.h"
#include "http/jwt_auth.h"
#include "tests/fuzz/fuzz_check.h"

namespace rsvpd::http {
namespace {

using fuzz::kNowMs;
using fuzz::kSecret;
constexpr int64_t kNowS = kNowMs / 1000;

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(std::string_view bytes) {
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : bytes) {
    buffer = (buffer << 8) | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      out.push_back(kAlphabet[(buffer >> (bits - 6)) & 63]);
      bits -= 6;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 63]);
  return out;
}

// Lenient on the unused low bits, strict on everything else.
std::optional<std::string> base64url_decode(std::string_view text) {
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const std::size_t value = kAlphabet.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      out.push_back(static_cast<char>((buffer >> (bits - 8)) & 0xFF));
      bits -= 8;
    }
  }
  return out;
}

std::string hmac(const EVP_MD* digest, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(digest, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<const char*>(out), length);
}

std::string sign(std::string_view header, std::string_view claims, const EVP_MD* digest,
                 std::string_view key) {
  const std::string signing_input = base64url(header) + "." + base64url(claims);
  if (digest == nullptr) return signing_input + ".";  // alg none: no signature.
  return signing_input + "." + base64url(hmac(digest, key, signing_input));
}

// The token inside a credential, as API.md describes it ("Bearer <token>" or a bare token).
std::string_view token_of(std::string_view credential) {
  const std::size_t space = credential.find(' ');
  if (space == std::string_view::npos) return credential;
  std::string_view token = credential.substr(space);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  return token;
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, 300)) {
    if (c >= 0x20 && c < 0x7F) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      out += kHex[static_cast<unsigned char>(c) & 0xF];
    }
  }
  return out;
}

// Checks what a verified credential must be. Claims are read with picojson's default parser,
// which (like libjwt's jansson and RFC 7519 §4) keeps the last of duplicate keys.
void check_accepted(std::string_view credential, const Principal& principal) {
  const std::string what = "credential: " + printable(credential);
  const std::string_view token = token_of(credential);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = token.find('.', start);
    parts.push_back(token.substr(start, dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  FUZZ_CHECK(parts.size() == 3, what);
  const std::optional<std::string> header = base64url_decode(parts[0]);
  const std::optional<std::string> claims = base64url_decode(parts[1]);
  const std::optional<std::string> signature = base64url_decode(parts[2]);
  FUZZ_CHECK(header && claims && signature, what);

  picojson::value header_json;
  FUZZ_CHECK(picojson::parse(header_json, *header).empty() && header_json.is<picojson::object>(),
             what + "\nheader: " + printable(*header));
  const picojson::object& header_object = header_json.get<picojson::object>();
  const auto alg = header_object.find("alg");
  FUZZ_CHECK(alg != header_object.end() && alg->second.is<std::string>() &&
                 alg->second.get<std::string>() == "HS256",
             what + "\nheader: " + printable(*header));

  const std::string signing_input =
      std::string(parts[0]) + "." + std::string(parts[1]);
  FUZZ_CHECK(*signature == hmac(EVP_sha256(), kSecret, signing_input), what);

  picojson::value claims_json;
  FUZZ_CHECK(picojson::parse(claims_json, *claims).empty() && claims_json.is<picojson::object>(),
             what + "\nclaims: " + printable(*claims));
  const picojson::object& c = claims_json.get<picojson::object>();
  const auto sub = c.find("sub");
  FUZZ_CHECK(sub != c.end() && sub->second.is<std::string>() &&
                 is_valid_id(sub->second.get<std::string>()) &&
                 sub->second.get<std::string>() == principal.sub,
             what + "\nclaims: " + printable(*claims));
  const auto exp = c.find("exp");
  FUZZ_CHECK(exp != c.end() && exp->second.is<int64_t>(), what + "\nclaims: " + printable(*claims));
  const int64_t exp_s = exp->second.get<int64_t>();
  FUZZ_CHECK(exp_s >= 0 && exp_s <= kJwtTimeSecondsMax && exp_s * 1000 == principal.exp_ms &&
                 kNowMs < principal.exp_ms,
             what + "\nclaims: " + printable(*claims));
  const auto nbf = c.find("nbf");
  if (nbf != c.end()) {
    FUZZ_CHECK(nbf->second.is<int64_t>() && nbf->second.get<int64_t>() >= 0 &&
                   nbf->second.get<int64_t>() * 1000 <= kNowMs,
               what + "\nclaims: " + printable(*claims));
  }
  bool host = false;
  bool admin = false;
  const auto roles = c.find("roles");
  if (roles != c.end()) {
    FUZZ_CHECK(roles->second.is<picojson::array>(), what + "\nclaims: " + printable(*claims));
    for (const picojson::value& role : roles->second.get<picojson::array>()) {
      FUZZ_CHECK(role.is<std::string>(), what + "\nclaims: " + printable(*claims));
      host = host || role.get<std::string>() == "host";
      admin = admin || role.get<std::string>() == "admin";
    }
  }
  FUZZ_CHECK(principal.host == host && principal.admin == admin,
             what + "\nclaims: " + printable(*claims));
}

struct Verdict {
  bool ok = false;
  Principal principal;
  std::string reason;
};

Verdict verify_and_check(JwtVerifier& verifier, std::string_view credential) {
  Result<Principal> first = verifier.verify(credential);
  Verdict verdict;
  verdict.ok = first.is_ok();
  if (!first.is_ok()) {
    verdict.reason = first.status().message();
    return verdict;
  }
  verdict.principal = first.value();
  check_accepted(credential, verdict.principal);
  // A repeated token is a cache hit: the same principal, no second HMAC.
  const uint64_t checks = verifier.signature_checks();
  Result<Principal> second = verifier.verify(credential);
  FUZZ_CHECK(second.is_ok() && second->sub == verdict.principal.sub &&
                 second->host == verdict.principal.host &&
                 second->admin == verdict.principal.admin &&
                 second->exp_ms == verdict.principal.exp_ms &&
                 verifier.signature_checks() == checks,
             "cache hit differs: " + printable(credential));
  return verdict;
}

// 'G': a structured token with an independently computed verdict.
void generated(JwtVerifier& verifier, FuzzedDataProvider& input) {
  bool valid = true;
  picojson::object claims;
  std::string expected_sub;

  switch (input.ConsumeIntegralInRange(0, 3)) {
    case 0: {  // A valid id.
      const std::size_t length = input.ConsumeIntegralInRange<std::size_t>(1, 64);
      std::string sub;
      static constexpr std::string_view kIdChars =
          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";
      for (std::size_t i = 0; i < length; ++i) {
        sub += kIdChars[input.ConsumeIntegralInRange<std::size_t>(0, kIdChars.size() - 1)];
      }
      claims["sub"] = picojson::value(sub);
      expected_sub = sub;
      break;
    }
    case 1: valid = false; break;  // Absent.
    case 2: {  // Any UTF-8 text (libjwt's jansson refuses other bytes anyway).
      std::string sub = input.ConsumeRandomLengthString(80);
      if (!detail::is_valid_utf8(sub)) sub = "a b";
      valid = valid && is_valid_id(sub);
      expected_sub = sub;
      claims["sub"] = picojson::value(sub);
      break;
    }
    default: claims["sub"] = picojson::value(int64_t{7}); valid = false; break;
  }

  const auto time_claim = [&](const char* name, bool required, bool future) {
    switch (input.ConsumeIntegralInRange(0, 4)) {
      case 0:  // Absent.
        if (required) valid = false;
        return;
      case 1: {  // Near now, either side.
        const int64_t seconds = kNowS + input.ConsumeIntegralInRange<int64_t>(-3, 3);
        claims[name] = json_int(seconds);
        const bool in_force = future ? kNowMs < seconds * 1000 : seconds * 1000 <= kNowMs;
        valid = valid && in_force;
        return;
      }
      case 2: {  // Anywhere, including out of range.
        const int64_t seconds = input.ConsumeIntegral<int64_t>();
        claims[name] = json_int(seconds);
        const bool in_range = seconds >= 0 && seconds <= kJwtTimeSecondsMax;
        const bool in_force =
            in_range && (future ? kNowMs < seconds * 1000 : seconds * 1000 <= kNowMs);
        valid = valid && in_force;
        return;
      }
      case 3:  // A fraction: NumericDates with fractions are refused.
        claims[name] = picojson::value(static_cast<double>(kNowS) + (future ? 60.5 : -60.5));
        valid = false;
        return;
      default:
        claims[name] = picojson::value(std::to_string(kNowS));  // A string.
        valid = false;
        return;
    }
  };
  time_claim("exp", true, true);
  time_claim("nbf", false, false);

  bool host = false;
  bool admin = false;
  switch (input.ConsumeIntegralInRange(0, 2)) {
    case 0: break;  // No roles.
    case 1: {
      picojson::array roles;
      const int count = input.ConsumeIntegralInRange(0, 4);
      for (int i = 0; i < count; ++i) {
        static constexpr const char* kRoles[] = {"host", "admin", "guest", "HOST", ""};
        const char* role = kRoles[input.ConsumeIntegralInRange(0, 4)];
        roles.push_back(picojson::value(role));
        host = host || std::string_view(role) == "host";
        admin = admin || std::string_view(role) == "admin";
      }
      claims["roles"] = picojson::value(roles);
      break;
    }
    default:
      claims["roles"] = input.ConsumeBool() ? picojson::value("admin") : json_int(1);
      valid = false;
      break;
  }
  if (input.ConsumeBool()) claims["iss"] = picojson::value("rsvpctl");  // Ignored.

  const EVP_MD* digest = EVP_sha256();
  std::string header = R"({"alg":"HS256","typ":"JWT"})";
  switch (input.ConsumeIntegralInRange(0, 4)) {
    case 0: break;
    case 1: header = R"({"alg":"HS384","typ":"JWT"})"; digest = EVP_sha384(); valid = false; break;
    case 2: header = R"({"alg":"HS512","typ":"JWT"})"; digest = EVP_sha512(); valid = false; break;
    case 3: header = R"({"alg":"none"})"; digest = nullptr; valid = false; break;
    default: header = R"({"typ":"JWT","alg":"HS256"})"; break;
  }
  std::string key = kSecret;
  if (input.ConsumeBool()) {  // A wrong key: one byte changed, or the secret plus a byte.
    if (input.ConsumeBool()) {
      key[input.ConsumeIntegralInRange<std::size_t>(0, key.size() - 1)] ^= 1;
    } else {
      key += 'x';
    }
    valid = false;
  }

  const std::string token = sign(header, to_json_text(picojson::value(claims)), digest, key);
  const Verdict verdict =
      verify_and_check(verifier, input.ConsumeBool() ? "Bearer " + token : token);
  FUZZ_CHECK(verdict.ok == valid, "generated token " + token + " expected " +
                                      (valid ? "valid" : "invalid") + ", verify said " +
                                      (verdict.ok ? "valid" : verdict.reason));
  if (verdict.ok) {
    FUZZ_CHECK(verdict.principal.sub == expected_sub && verdict.principal.host == host &&
                   verdict.principal.admin == admin,
               "generated token " + token);
  }
}

}  // namespace
}  // namespace rsvpd::http

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  using namespace rsvpd::http;
  static const rsvpd::ManualClock clock(rsvpd::fuzz::kNowMs);
  // A fresh verifier per input: the cache must not carry state from one input to the next.
  JwtVerifier verifier(clock, rsvpd::fuzz::kSecret);
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const char mode = bytes.empty() ? '\0' : bytes.front();
  const std::string_view rest = bytes.empty() ? bytes : bytes.substr(1);
  if (mode == 'C') {
    const std::string token =
        sign(R"({"alg":"HS256","typ":"JWT"})", rest, EVP_sha256(), rsvpd::fuzz::kSecret);
    verify_and_check(verifier, "Bearer " + token);
  } else if (mode == 'H') {
    const std::size_t newline = rest.find('\n');
    const std::string_view header = rest.substr(0, newline);
    const std::string_view claims =
        newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    verify_and_check(verifier, sign(header, claims, EVP_sha256(), rsvpd::fuzz::kSecret));
  } else if (mode == 'G') {
    FuzzedDataProvider input(data + 1, size - 1);
    generated(verifier, input);
  } else {
    verify_and_check(verifier, bytes);
  }
  return 0;
}
