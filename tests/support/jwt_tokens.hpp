#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace tickgate::test {

/// An RSA key pair in PEM, generated afresh (OpenSSL) for each test run.
struct rsa_key_pair {
  std::string private_pem;
  std::string public_pem;
};

rsa_key_pair make_rsa_key_pair();

/// A JWT to sign with libjwt, as clients' identity providers would.
struct token_spec {
  std::string alg = "HS256"; // HS256, RS256 or none
  std::string key;           // HS256 secret or RS256 private key (PEM)
  std::optional<std::string> sub = std::string{"alice"};
  std::string role;          // empty: no role claim
  std::optional<int64_t> exp; // seconds since the Unix epoch
  std::optional<int64_t> nbf;

  std::string sign() const;
};

/// Seconds since the Unix epoch.
int64_t now_s();

} // namespace tickgate::test
