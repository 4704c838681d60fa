#include "actors/auth.hpp"

#include <array>
#include <cerrno>
#include <memory>

#include <jwt.h>
#include <openssl/crypto.h>

#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

// A token larger than this is refused before libjwt sees it: real tokens are
// a few hundred bytes, and parsing costs scale with the input.
constexpr size_t max_token_bytes = 8192;

struct jwt_deleter {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using jwt_ptr = std::unique_ptr<jwt_t, jwt_deleter>;

jwt_ptr decode(const std::string& token, const std::string* key) {
  jwt_t* raw = nullptr;
  int rc = key ? jwt_decode(&raw, token.c_str(),
                            reinterpret_cast<const unsigned char*>(key->data()),
                            static_cast<int>(key->size()))
               : jwt_decode(&raw, token.c_str(), nullptr, 0);
  if (rc != 0) {
    jwt_free(raw);
    return nullptr;
  }
  return jwt_ptr{raw};
}

// A numeric claim: nullopt when absent; `bad` set when present but no integer.
std::optional<int64_t> int_claim(jwt_t* j, const char* name, bool& bad) {
  errno = 0;
  long v = jwt_get_grant_int(j, name);
  if (errno == ENOENT)
    return std::nullopt;
  if (errno != 0) {
    bad = true;
    return std::nullopt;
  }
  return static_cast<int64_t>(v);
}

auth_verdict refuse(auth_failure f, std::string message) {
  auth_verdict v;
  v.failure = f;
  v.message = std::move(message);
  return v;
}

// Splits "orders:{id}" into prefix and suffix; false when {id} is missing.
bool split_pattern(std::string_view pattern, std::string_view& prefix,
                   std::string_view& suffix) {
  constexpr std::string_view key = "{id}";
  auto pos = pattern.find(key);
  if (pos == std::string_view::npos)
    return false;
  prefix = pattern.substr(0, pos);
  suffix = pattern.substr(pos + key.size());
  return true;
}

} // namespace

std::string_view to_string(auth_failure f) {
  static constexpr std::array<std::string_view, auth_failure_count> names{
    "malformed", "bad_signature", "wrong_alg", "expired",
    "not_yet_valid", "missing_subject", "disabled"};
  auto i = static_cast<size_t>(f);
  return i < names.size() ? names[i] : "malformed";
}

authenticator::authenticator(auth_settings settings) : settings_(std::move(settings)) {
}

bool authenticator::enabled() const {
  return !settings_.jwt_secret.empty() || !settings_.jwt_public_key.empty();
}

bool authenticator::judges(std::string_view token) const {
  return enabled() || secret_matches(settings_.admin_secret, token);
}

bool secret_matches(std::string_view expected, std::string_view given) {
  return !expected.empty() && expected.size() == given.size()
         && CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

auth_verdict authenticator::verify(std::string_view token, int64_t now_s) const {
  if (secret_matches(settings_.admin_secret, token)) {
    auth_verdict v;
    v.claims.emplace();
    v.claims->user = admin_user;
    v.claims->role = settings_.admin_role;
    return v;
  }
  if (!enabled())
    return refuse(auth_failure::disabled, "authentication is not enabled on this node");
  if (token.empty() || token.size() > max_token_bytes)
    return refuse(auth_failure::malformed, "token is empty or larger than "
                                             + std::to_string(max_token_bytes) + " bytes");
  std::string text{token};
  // First pass without a key only reads the header: the configured keys, not
  // the token, decide how it is checked. Letting the token's alg pick the key
  // would let anyone sign HS256 tokens with our RS256 public key as secret.
  auto unverified = decode(text, nullptr);
  if (!unverified)
    return refuse(auth_failure::malformed, "token is not a well-formed JWT");
  // Without a key libjwt reports alg "none"; the header still names the real one.
  const char* alg_name = jwt_get_header(unverified.get(), "alg");
  auto alg = alg_name ? jwt_str_alg(alg_name) : JWT_ALG_INVAL;
  const std::string* key = nullptr;
  if (alg == JWT_ALG_HS256 && !settings_.jwt_secret.empty())
    key = &settings_.jwt_secret;
  else if (alg == JWT_ALG_RS256 && !settings_.jwt_public_key.empty())
    key = &settings_.jwt_public_key;
  if (!key) {
    std::string accepted = settings_.jwt_secret.empty() ? "" : "HS256";
    if (!settings_.jwt_public_key.empty())
      accepted += accepted.empty() ? "RS256" : " or RS256";
    std::string name = alg_name ? std::string{alg_name}.substr(0, 16) : "(none named)";
    return refuse(auth_failure::wrong_alg, "token algorithm " + name
                                             + " is not accepted (expected " + accepted + ")");
  }
  auto verified = decode(text, key);
  if (!verified || jwt_get_alg(verified.get()) != alg)
    return refuse(auth_failure::bad_signature, "token signature is invalid");
  auto* j = verified.get();
  bool bad = false;
  auto exp = int_claim(j, "exp", bad);
  auto nbf = int_claim(j, "nbf", bad);
  if (bad)
    return refuse(auth_failure::malformed, "exp and nbf must be integer NumericDates");
  auto leeway = settings_.leeway.count();
  if (exp && now_s > *exp + leeway)
    return refuse(auth_failure::expired, "token expired");
  if (nbf && now_s + leeway < *nbf)
    return refuse(auth_failure::not_yet_valid, "token is not valid yet (nbf)");
  const char* sub = jwt_get_grant(j, "sub");
  if (!sub || !*sub)
    return refuse(auth_failure::missing_subject, "token has no subject (sub)");
  auth_verdict v;
  v.claims.emplace();
  v.claims->user = sub;
  if (const char* role = jwt_get_grant(j, "role"))
    v.claims->role = role;
  v.claims->expires = exp;
  return v;
}

std::optional<std::string_view> authenticator::owner_of(std::string_view topic) const {
  for (auto& pattern : settings_.private_topics) {
    std::string_view prefix, suffix;
    if (!split_pattern(pattern, prefix, suffix))
      continue;
    if (topic.size() > prefix.size() + suffix.size() && topic.starts_with(prefix)
        && topic.ends_with(suffix))
      return topic.substr(prefix.size(), topic.size() - prefix.size() - suffix.size());
  }
  return std::nullopt;
}

topic_access authenticator::access(std::string_view topic, const auth_claims* who) const {
  if (is_system_topic(topic))
    return is_admin(who) ? topic_access::granted
           : who         ? topic_access::forbidden
                         : topic_access::unauthorized;
  auto owner = owner_of(topic);
  if (!owner)
    return topic_access::open;
  if (!who)
    return topic_access::unauthorized;
  return *owner == who->user ? topic_access::granted : topic_access::forbidden;
}

std::string authenticator::denial_message(std::string_view topic, topic_access access) const {
  std::string out{topic};
  if (is_system_topic(topic))
    return out + " is a system topic: present the admin secret or a token with role "
           + settings_.admin_role;
  if (access == topic_access::unauthorized)
    return out + " is a private topic: present a token of its owner";
  return out + " is a private topic of another user";
}

bool authenticator::is_admin(const auth_claims* who) const {
  return who && !settings_.admin_role.empty() && who->role == settings_.admin_role;
}

bool authenticator::is_admin_namespace(std::string_view ns) const {
  for (auto& n : settings_.admin_namespaces)
    if (n == ns)
      return true;
  return false;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace tickgate
