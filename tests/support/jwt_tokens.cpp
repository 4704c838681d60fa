#include "support/jwt_tokens.hpp"

#include <chrono>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

namespace tickgate::test {

namespace {

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  auto n = BIO_get_mem_data(bio, &data);
  return std::string{data, static_cast<size_t>(n)};
}

} // namespace

rsa_key_pair make_rsa_key_pair() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{EVP_RSA_gen(2048), EVP_PKEY_free};
  if (!key)
    throw std::runtime_error("RSA key generation failed");
  std::unique_ptr<BIO, decltype(&BIO_free)> priv{BIO_new(BIO_s_mem()), BIO_free};
  std::unique_ptr<BIO, decltype(&BIO_free)> pub{BIO_new(BIO_s_mem()), BIO_free};
  if (!PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr)
      || !PEM_write_bio_PUBKEY(pub.get(), key.get()))
    throw std::runtime_error("writing PEM failed");
  return rsa_key_pair{bio_text(priv.get()), bio_text(pub.get())};
}

std::string token_spec::sign() const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0)
    throw std::runtime_error("jwt_new failed");
  std::unique_ptr<jwt_t, decltype(&jwt_free)> j{raw, jwt_free};
  if (sub)
    jwt_add_grant(raw, "sub", sub->c_str());
  if (!role.empty())
    jwt_add_grant(raw, "role", role.c_str());
  if (exp)
    jwt_add_grant_int(raw, "exp", static_cast<long>(*exp));
  if (nbf)
    jwt_add_grant_int(raw, "nbf", static_cast<long>(*nbf));
  auto a = jwt_str_alg(alg.c_str());
  int rc = a == JWT_ALG_NONE
             ? jwt_set_alg(raw, a, nullptr, 0)
             : jwt_set_alg(raw, a, reinterpret_cast<const unsigned char*>(key.data()),
                           static_cast<int>(key.size()));
  if (rc != 0)
    throw std::runtime_error("jwt_set_alg failed for " + alg);
  char* text = jwt_encode_str(raw);
  if (!text)
    throw std::runtime_error("jwt_encode_str failed");
  std::string out{text};
  free(text); // libjwt 1.10 allocates with malloc and has no jwt_free_str
  return out;
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace tickgate::test
