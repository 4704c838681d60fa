#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/redis_port.hpp"
#include "proto/payload.hpp"

namespace tickgate::net {

/// Numbering in Redis (`redis.numbering`): every publish made through a node
/// gets its topic's position from Redis, so every node of a cluster gives an
/// event the same seq and epoch and a client resumes on any of them.
///
/// Per channel two keys (after `key_prefix`; the channel in braces is their
/// hash tag):
///   pos:{<channel>}     hash: s = last seq, e = epoch (a node's random id, set
///                       by whichever node numbers the first event)
///   stream:{<channel>}  the last `stream_size` numbered messages, entry id 0-<seq>
/// both expiring `ttl` after the channel's last publish (then numbering
/// starts over in a new epoch).
///
/// A publish is one EVAL: HINCRBY the seq, set the epoch if new, XADD the
/// message to the capped stream, PUBLISH it on the channel's envelope twin
/// (`{"seq":N,"epoch":"E","ts":..}\n<payload>`, proto/event_envelope.hpp).
/// A node that starts following a channel reads its position and stream in
/// one more EVAL, after Redis confirmed its SUBSCRIBE, so what is published
/// in between is in the read, on the subscription, or both (the topic drops
/// what it has).
struct redis_numbering {
  bool on = false;
  std::string key_prefix = "tickgate:";
  size_t stream_size = 100; // 0: positions only, no stream to catch up from
  std::chrono::seconds ttl{300};

  // The channel is the keys' hash tag, so a Redis Cluster keeps both in one slot.
  std::string position_key(const std::string& channel) const { return key_prefix + "pos:{" + channel + "}"; }
  std::string stream_key(const std::string& channel) const { return key_prefix + "stream:{" + channel + "}"; }

  /// The EVAL that numbers `pub` on `channel` and PUBLISHes it on
  /// `envelope_channel`; `epoch` is used if the channel has none yet.
  std::vector<std::string> publish_command(const std::string& channel,
                                           const std::string& envelope_channel,
                                           const std::string& epoch,
                                           const publication& pub) const;

  /// The EVAL that reads `channel`'s position (setting `epoch` if it has
  /// none, so the first event continues it) and its retained messages.
  std::vector<std::string> position_query(const std::string& channel,
                                          const std::string& epoch) const;
};

/// A channel's position and retained messages, oldest first.
struct redis_position {
  std::string epoch;
  uint64_t seq = 0;
  std::vector<std::string> messages; // envelopes, as published
};

/// Reads position_query's reply; nullopt and `error` set when it is not one.
std::optional<redis_position> parse_position_reply(const redis_value& reply, std::string& error);

/// A fresh epoch candidate: 16 hex digits, random per process, then counted.
std::string new_redis_epoch();

} // namespace tickgate::net
