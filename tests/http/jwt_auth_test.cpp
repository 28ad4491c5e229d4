#include "http/jwt_auth.h"

#include <gtest/gtest.h>
#include <jwt.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

namespace rsvpd::http {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef";  // 32 bytes.
constexpr int64_t kNowS = 1796322195;                            // 2026-12-03T18:23:15Z
constexpr int64_t kHourS = 3600;

std::string base64url(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
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

// A token signed by libjwt with any algorithm and key, to show what we refuse.
std::string sign_with(jwt_alg_t alg, const std::string& key, const std::string& claims_json) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  EXPECT_EQ(jwt_add_grants_json(jwt, claims_json.c_str()), 0);
  EXPECT_EQ(jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
                        static_cast<int>(key.size())),
            0);
  char* token = jwt_encode_str(jwt);
  std::string result = token ? token : "";
  std::free(token);
  jwt_free(jwt);
  return result;
}

std::string claims(std::string_view sub = "alice", int64_t exp_s = kNowS + kHourS) {
  return "{\"sub\":\"" + std::string(sub) + "\",\"exp\":" + std::to_string(exp_s) + "}";
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  std::string mint(std::vector<std::string> roles = {}, int64_t exp_s = kNowS + kHourS,
                   std::optional<int64_t> nbf_s = std::nullopt, std::string_view sub = "alice") {
    Result<std::string> token = mint_token(kSecret, sub, roles, exp_s, nbf_s);
    EXPECT_TRUE(token.is_ok()) << token.status().to_string();
    return token.is_ok() ? token.value() : "";
  }
  std::string reason(std::string_view credential) {
    Result<Principal> principal = verifier_.verify(credential);
    if (principal.is_ok()) return "ok";
    EXPECT_EQ(principal.status().code(), StatusCode::kInvalidArgument);
    return principal.status().message();
  }

  ManualClock clock_{kNowS * 1000};
  JwtVerifier verifier_{clock_, kSecret};
};

TEST_F(JwtVerifierTest, AcceptsAValidBearerToken) {
  const std::string token = mint({"host"});
  Result<Principal> principal = verifier_.verify("Bearer " + token);
  ASSERT_TRUE(principal.is_ok()) << principal.status().to_string();
  EXPECT_EQ(principal->sub, "alice");
  EXPECT_TRUE(principal->host);
  EXPECT_FALSE(principal->admin);
  EXPECT_EQ(principal->exp_ms, (kNowS + kHourS) * 1000);
  EXPECT_EQ(reason("bearer  " + token), "ok");  // Scheme is case-insensitive.
  EXPECT_EQ(reason(token), "ok");               // A bare token, as from ?access_token=.
}

TEST_F(JwtVerifierTest, RejectsMissingAndNonBearerCredentials) {
  EXPECT_EQ(reason(""), "missing");
  EXPECT_EQ(reason("Bearer "), "missing");
  EXPECT_EQ(reason("Basic YWxpY2U6cHc="), "not-bearer");
  EXPECT_EQ(reason("Token " + mint()), "not-bearer");
  EXPECT_EQ(reason("Bearer a.b.c\"x"), "bad-token");
  EXPECT_EQ(reason("Bearer " + std::string(kTokenBytesMax + 1, 'a')), "too-long");
  EXPECT_EQ(reason("Bearer not-a-jwt"), "bad-signature");
}

TEST_F(JwtVerifierTest, RejectsABadSignature) {
  std::string token = mint();
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(token), "bad-signature");
  Result<std::string> other = mint_token(std::string(32, 'x'), "alice", {}, kNowS + kHourS);
  ASSERT_TRUE(other.is_ok());
  EXPECT_EQ(reason(other.value()), "bad-signature");
}

TEST_F(JwtVerifierTest, RejectsAlgNoneCraftedByHand) {
  const std::string header = base64url(R"({"alg":"none","typ":"JWT"})");
  const std::string body = base64url(R"({"sub":"mallory","exp":4102444800,"roles":["admin"]})");
  EXPECT_NE(reason(header + "." + body + "."), "ok");
  EXPECT_NE(reason(base64url(R"({"alg":"none"})") + "." + body + "."), "ok");
  EXPECT_NE(reason(base64url(R"({"alg":"None"})") + "." + body + "."), "ok");
}

TEST_F(JwtVerifierTest, RejectsOtherHmacAlgorithmsSignedWithOurSecret) {
  // libjwt alone accepts these: the signature is valid for the algorithm the header names.
  EXPECT_EQ(reason(sign_with(JWT_ALG_HS512, kSecret, claims())), "alg-not-hs256");
  EXPECT_EQ(reason(sign_with(JWT_ALG_HS384, kSecret, claims())), "alg-not-hs256");
  EXPECT_EQ(reason(sign_with(JWT_ALG_HS256, kSecret, claims())), "ok");
}

// Found by tests/fuzz/fuzz_jwt (corpus/jwt/regression_alg_lowercase.txt): libjwt reads the
// header's alg ignoring case, so {"alg":"hs256"} passed as HS256. The token is that input's:
// header {"typ":"JWT","alg":"hs256"}, claims {"sub":"alice","exp":4102444800}, HMAC-SHA256 with
// kSecret.
TEST_F(JwtVerifierTest, RejectsAlgNamesDifferingOnlyInCase) {
  EXPECT_EQ(reason("eyJ0eXAiOiJKV1QiLCJhbGciOiJoczI1NiJ9."
                   "eyJzdWIiOiJhbGljZSIsImV4cCI6NDEwMjQ0NDgwMH0."
                   "Sj4_M6CFZEuJ8tcu5rutqUxkkKuS06YsFndw2RlEPxA"),
            "alg-not-hs256");
}

TEST_F(JwtVerifierTest, RejectsRs256) {
  const std::string header = base64url(R"({"alg":"RS256","typ":"JWT"})");
  EXPECT_NE(reason(header + "." + base64url(claims()) + "." + base64url("signature")), "ok");
}

TEST_F(JwtVerifierTest, ChecksExpiryAndNotBeforeAgainstTheClock) {
  EXPECT_EQ(reason(mint({}, kNowS)), "expired");  // exp == now is already expired.
  EXPECT_EQ(reason(mint({}, kNowS - 1)), "expired");
  EXPECT_EQ(reason(mint({}, kNowS + 1)), "ok");
  EXPECT_EQ(reason(mint({}, kNowS + kHourS, kNowS + 1)), "not-yet-valid");
  EXPECT_EQ(reason(mint({}, kNowS + kHourS, kNowS)), "ok");  // nbf == now is valid.
}

TEST_F(JwtVerifierTest, RequiresSubAndExpOfTheRightShape) {
  const auto signed_claims = [](const std::string& json) {
    return sign_with(JWT_ALG_HS256, kSecret, json);
  };
  EXPECT_EQ(reason(signed_claims(R"({"exp":4102444800})")), "bad-sub");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"alice"})")), "bad-exp");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"a b","exp":4102444800})")), "bad-sub");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"","exp":4102444800})")), "bad-sub");
  EXPECT_EQ(reason(signed_claims(R"({"sub":42,"exp":4102444800})")), "bad-sub");
  EXPECT_EQ(reason(signed_claims("{\"sub\":\"" + std::string(65, 'a') + "\",\"exp\":4102444800}")),
            "bad-sub");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"alice","exp":"4102444800"})")), "bad-exp");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"alice","exp":4102444800.5})")), "bad-exp");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"alice","exp":-1})")), "bad-exp");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"alice","exp":253402300800})")), "bad-exp");
  EXPECT_EQ(reason(signed_claims(R"({"sub":"alice","exp":4102444800,"nbf":"0"})")), "bad-nbf");
}

TEST_F(JwtVerifierTest, ParsesRoles) {
  Result<Principal> both = verifier_.verify(mint({"admin", "host", "future-role"}));
  ASSERT_TRUE(both.is_ok());
  EXPECT_TRUE(both->admin);
  EXPECT_TRUE(both->host);
  Result<Principal> none = verifier_.verify(mint({}, kNowS + kHourS, std::nullopt, "bob"));
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->admin);
  EXPECT_FALSE(none->host);
  EXPECT_EQ(
      reason(sign_with(JWT_ALG_HS256, kSecret, R"({"sub":"a","exp":4102444800,"roles":"admin"})")),
      "bad-roles");
  EXPECT_EQ(reason(sign_with(JWT_ALG_HS256, kSecret,
                             R"({"sub":"a","exp":4102444800,"roles":["host",1]})")),
            "bad-roles");
  Result<Principal> upper = verifier_.verify(mint({"ADMIN"}, kNowS + kHourS, std::nullopt, "c"));
  ASSERT_TRUE(upper.is_ok());
  EXPECT_FALSE(upper->admin);  // Role names are exact.
}

TEST_F(JwtVerifierTest, CacheSkipsTheHmacButRechecksTimes) {
  const std::string token = mint({}, kNowS + 10, kNowS - 10);
  EXPECT_EQ(reason(token), "ok");
  EXPECT_EQ(verifier_.signature_checks(), 1u);
  EXPECT_EQ(reason("Bearer " + token), "ok");
  EXPECT_EQ(verifier_.signature_checks(), 1u);  // Served from the cache.
  EXPECT_EQ(verifier_.cache_size(), 1u);
  clock_.advance_ms(10 * 1000);
  EXPECT_EQ(reason(token), "expired");  // The hit still checks exp.
  EXPECT_EQ(verifier_.signature_checks(), 1u);
  clock_.set_ms((kNowS - 11) * 1000);
  EXPECT_EQ(reason(token), "not-yet-valid");  // And nbf.
  EXPECT_EQ(verifier_.signature_checks(), 1u);
}

TEST_F(JwtVerifierTest, FailedTokensAreNotCached) {
  std::string token = mint();
  token.back() = token.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(reason(token), "bad-signature");
  EXPECT_EQ(reason(token), "bad-signature");
  EXPECT_EQ(verifier_.signature_checks(), 2u);
  EXPECT_EQ(verifier_.cache_size(), 0u);
}

TEST_F(JwtVerifierTest, CacheStaysBounded) {
  for (std::size_t i = 0; i < kTokenCacheEntriesMax + 5; ++i) {
    ASSERT_EQ(reason(mint({}, kNowS + kHourS, std::nullopt, "u" + std::to_string(i))), "ok");
  }
  EXPECT_LE(verifier_.cache_size(), kTokenCacheEntriesMax);
  EXPECT_GE(verifier_.cache_size(), 1u);
}

TEST_F(JwtVerifierTest, ReplacingTheSecretInvalidatesCachedTokens) {
  const std::string token = mint();
  EXPECT_EQ(reason(token), "ok");
  verifier_.replace_secret(std::string(32, 'n'));
  EXPECT_EQ(verifier_.cache_size(), 0u);
  EXPECT_EQ(reason(token), "bad-signature");
}

TEST_F(JwtVerifierTest, ConcurrentVerificationsAgree) {
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i)
    tokens.push_back(mint({}, kNowS + kHourS, std::nullopt, "u" + std::to_string(i)));
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Result<Principal> principal = verifier_.verify(tokens[(i + t) % tokens.size()]);
        if (!principal.is_ok()) failures.fetch_add(1, std::memory_order_relaxed);
        if (t == 0 && i % 50 == 0) verifier_.replace_secret(kSecret);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
}

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("rsvpd-jwt-test-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(directory_);
    std::filesystem::create_directories(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }
  std::string path(const char* name) const { return (directory_ / name).string(); }
  static void write(const std::string& file, const std::string& bytes) {
    std::ofstream(file, std::ios::binary) << bytes;
  }

  std::filesystem::path directory_;
};

TEST_F(SecretFileTest, CreatesA32ByteSecretWithMode0600) {
  const mode_t old_umask = ::umask(0777);  // Even a hostile umask must leave the file readable.
  Result<std::string> secret =
      load_or_create_secret(path("jwt.secret"), SecretFileMode::kCreateIfMissing);
  ::umask(old_umask);
  ASSERT_TRUE(secret.is_ok()) << secret.status().to_string();
  EXPECT_EQ(secret->size(), 32u);
  struct stat info {};
  ASSERT_EQ(::stat(path("jwt.secret").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_size, 32);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(directory_),
                          std::filesystem::directory_iterator()),
            1);
  // A second start reads the same secret instead of creating a new one.
  Result<std::string> again =
      load_or_create_secret(path("jwt.secret"), SecretFileMode::kCreateIfMissing);
  ASSERT_TRUE(again.is_ok());
  EXPECT_EQ(again.value(), secret.value());
}

TEST_F(SecretFileTest, ExplicitPathMustExist) {
  Result<std::string> secret = load_or_create_secret(path("missing"), SecretFileMode::kMustExist);
  ASSERT_FALSE(secret.is_ok());
  EXPECT_EQ(secret.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path("missing")));
}

TEST_F(SecretFileTest, RefusesShortLongAndNonRegularSecrets) {
  write(path("short"), std::string(kSecretBytesMin - 1, 's'));
  write(path("long"), std::string(kSecretBytesMax + 1, 'l'));
  write(path("exact"), std::string(kSecretBytesMin, 'e'));
  for (const char* name : {"short", "long"}) {
    Result<std::string> secret =
        load_or_create_secret(path(name), SecretFileMode::kCreateIfMissing);
    ASSERT_FALSE(secret.is_ok()) << name;
    EXPECT_EQ(secret.status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(load_or_create_secret(path("exact"), SecretFileMode::kMustExist).value(),
            std::string(kSecretBytesMin, 'e'));
  Result<std::string> directory =
      load_or_create_secret(directory_.string(), SecretFileMode::kMustExist);
  ASSERT_FALSE(directory.is_ok());
  EXPECT_EQ(directory.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SecretFileTest, KeepsTheFileBytesExactly) {
  const std::string with_newline = std::string(32, 'k') + "\n";
  write(path("newline"), with_newline);
  EXPECT_EQ(load_or_create_secret(path("newline"), SecretFileMode::kMustExist).value(),
            with_newline);
}

TEST_F(SecretFileTest, ReloadSwapsTheSecretAndInvalidatesOldTokens) {
  ManualClock clock(kNowS * 1000);
  write(path("secret"), kSecret);
  Result<std::unique_ptr<JwtVerifier>> verifier =
      JwtVerifier::open(clock, path("secret"), SecretFileMode::kMustExist);
  ASSERT_TRUE(verifier.is_ok()) << verifier.status().to_string();
  const std::string old_token = mint_token(kSecret, "alice", {}, kNowS + kHourS).value();
  EXPECT_TRUE(verifier.value()->verify(old_token).is_ok());

  const std::string new_secret(40, 'N');
  write(path("secret"), new_secret);
  ASSERT_TRUE(verifier.value()->reload().is_ok());
  EXPECT_FALSE(verifier.value()->verify(old_token).is_ok());  // Even though it was cached.
  EXPECT_TRUE(verifier.value()
                  ->verify(mint_token(new_secret, "alice", {}, kNowS + kHourS).value())
                  .is_ok());

  // A broken file on reload keeps the secret in force.
  write(path("secret"), "short");
  EXPECT_FALSE(verifier.value()->reload().is_ok());
  EXPECT_TRUE(
      verifier.value()->verify(mint_token(new_secret, "bob", {}, kNowS + kHourS).value()).is_ok());
}

}  // namespace
}  // namespace rsvpd::http

namespace rsvpd::http {
namespace {

TEST(MintTokenTest, RefusesArgumentsTheVerifierWouldReject) {
  const std::vector<std::string> no_roles;
  EXPECT_FALSE(mint_token(std::string(31, 's'), "alice", no_roles, kNowS).is_ok());
  EXPECT_FALSE(mint_token(kSecret, "a b", no_roles, kNowS).is_ok());
  EXPECT_FALSE(mint_token(kSecret, "", no_roles, kNowS).is_ok());
  const std::vector<std::string> bad_roles = {"host", "\"admin\""};
  EXPECT_FALSE(mint_token(kSecret, "alice", bad_roles, kNowS).is_ok());
  EXPECT_FALSE(mint_token(kSecret, "alice", no_roles, -1).is_ok());
  EXPECT_FALSE(mint_token(kSecret, "alice", no_roles, kJwtTimeSecondsMax + 1).is_ok());
  EXPECT_FALSE(mint_token(kSecret, "alice", no_roles, kNowS, -5).is_ok());
  EXPECT_TRUE(mint_token(kSecret, "alice", no_roles, kJwtTimeSecondsMax, 0).is_ok());
}

}  // namespace
}  // namespace rsvpd::http
