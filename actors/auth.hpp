#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tickgate {

/// Why a token was refused. Each reason is counted (auth.failures{reason}).
enum class auth_failure : uint8_t {
  malformed,       // not a JWT, or a claim has the wrong type
  bad_signature,   // the signature does not match the configured key
  wrong_alg,       // alg is not one a key is configured for (alg confusion, "none")
  expired,         // exp (plus leeway) has passed
  not_yet_valid,   // nbf (minus leeway) lies in the future
  missing_subject, // no "sub": nobody to grant private topics to
  disabled,        // the node has no key configured
};

constexpr size_t auth_failure_count = 7;

std::string_view to_string(auth_failure f);

/// What a verified token says about its bearer.
struct auth_claims {
  std::string user;               // "sub"
  std::string role;               // "role" (empty: none)
  std::optional<int64_t> expires; // "exp", seconds since the Unix epoch
};

/// The outcome of verifying one token: claims, or a reason and a message a
/// client can read.
struct auth_verdict {
  std::optional<auth_claims> claims;
  auth_failure failure = auth_failure::malformed;
  std::string message;

  explicit operator bool() const { return claims.has_value(); }
};

/// Whether a client may follow a topic.
enum class topic_access : uint8_t {
  open,         // a public topic
  granted,      // a private topic of the client's own user
  unauthorized, // a private topic, and the client proved no identity
  forbidden,    // a private topic of another user
};

/// [auth] options (configs/tickgate.ini documents each).
struct auth_settings {
  std::string jwt_secret;     // HS256 key (empty: HS256 tokens are refused)
  std::string jwt_public_key; // RS256 key, PEM text (empty: RS256 tokens are refused)
  std::chrono::seconds leeway{5}; // clock skew tolerated on exp and nbf
  // Topics only their owner may follow; {id} is the token's "sub".
  std::vector<std::string> private_topics{"user:{id}", "orders:{id}", "positions:{id}",
                                          "wallet:{id}"};
  std::string admin_role = "admin";
  // The node's admin secret (admin.secret; empty: none). Presented where a
  // token goes, it proves the identity `admin_user` with the admin role.
  std::string admin_secret;
  // Socket.IO namespaces only clients with admin_role may connect to.
  std::vector<std::string> admin_namespaces{"/admin"};
};

/// Verifies JWTs (libjwt; HS256 and RS256) and decides who may follow which
/// topic. Immutable after construction, shared by every connection actor.
class authenticator {
public:
  explicit authenticator(auth_settings settings);

  /// True once a key is configured; without one every token but the admin
  /// secret is refused and private topics stay closed to everyone.
  bool enabled() const;

  /// Whether verify() should judge `token`: a key is configured, or the token
  /// is the admin secret. Otherwise a node ignores the tokens clients send.
  bool judges(std::string_view token) const;

  /// The user an admin-secret holder is known as (its "sub").
  static constexpr std::string_view admin_user = "admin";

  const auth_settings& settings() const { return settings_; }

  /// Verifies `token` at `now_s` (seconds since the Unix epoch). The token's
  /// alg must be one a key is configured for; the key is never chosen by it.
  /// The admin secret, if configured, is accepted as a token that never
  /// expires: user admin_user, role admin_role.
  auth_verdict verify(std::string_view token, int64_t now_s) const;

  /// The owner ({id}) if `topic` is private, else nullopt.
  std::optional<std::string_view> owner_of(std::string_view topic) const;

  /// May the holder of `who` (nullptr: anonymous) follow `topic`?
  topic_access access(std::string_view topic, const auth_claims* who) const;

  bool is_admin(const auth_claims* who) const;

  /// What a client is told when access() refused `topic` with `access`.
  std::string denial_message(std::string_view topic, topic_access access) const;

  /// System topics ($sys:...) are for admins only: granted to the admin
  /// role, unauthorized to anonymous clients, forbidden to anyone else.
  bool is_admin_namespace(std::string_view ns) const;

private:
  auth_settings settings_;
};

/// Compares a configured secret with a presented one in constant time (the
/// time taken reveals at most whether the lengths match). An empty
/// `expected` matches nothing.
bool secret_matches(std::string_view expected, std::string_view given);

/// What one connection has proven about its client. Owned by the connection
/// actor (connection_state::auth).
struct auth_state {
  std::optional<auth_claims> claims; // empty: anonymous
  // Due time (ms since the Unix epoch) of the one pending expiry timer, 0 if
  // none. One timer per connection however often the client refreshes: a
  // timer that fires before the current token's end is simply re-armed.
  int64_t timer_due_ms = 0;
  std::bitset<256> refused_ns;       // Socket.IO namespaces whose CONNECT was refused
  std::bitset<256> admin_ns;         // admin namespaces this client was admitted to
};

/// Seconds since the Unix epoch.
int64_t unix_now();

} // namespace tickgate
