#include "net/redis_numbering.hpp"

#include <atomic>
#include <cstdio>
#include <random>

#include "proto/event_envelope.hpp"

namespace tickgate::net {

namespace {

// KEYS: position, stream. ARGV: epoch candidate, envelope tail, stream size,
// ttl seconds, channel to publish on. Seqs stay below 2^53 (Lua numbers).
constexpr const char* publish_script = R"lua(
local seq = redis.call('HINCRBY', KEYS[1], 's', 1)
local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('HSET', KEYS[1], 'e', epoch)
end
if seq == 1 then redis.call('DEL', KEYS[2]) end
local msg = '{"seq":' .. string.format('%d', seq) .. ',"epoch":"' .. epoch .. '"' .. ARGV[2]
if tonumber(ARGV[3]) > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[3], '0-' .. string.format('%d', seq), 'm', msg)
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('PUBLISH', ARGV[5], msg)
return seq
)lua";

// KEYS: position, stream. ARGV: epoch candidate, how many messages, ttl.
// Returns {epoch, seq, {message, ...} newest first}.
constexpr const char* read_script = R"lua(
redis.call('HSETNX', KEYS[1], 'e', ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
local seq = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
local out = {}
if seq > 0 and tonumber(ARGV[2]) > 0 then
  for _, entry in ipairs(redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', ARGV[2])) do
    out[#out + 1] = entry[2][2]
  end
end
return {redis.call('HGET', KEYS[1], 'e'), seq, out}
)lua";

} // namespace

std::vector<std::string> redis_numbering::publish_command(const std::string& channel,
                                                          const std::string& envelope_channel,
                                                          const std::string& epoch,
                                                          const publication& pub) const {
  return {"EVAL",
          publish_script,
          "2",
          position_key(channel),
          stream_key(channel),
          epoch,
          encode_numbered_tail(pub.ts_us, pub.event, pub.snapshot, pub.payload),
          std::to_string(stream_size),
          std::to_string(ttl.count()),
          envelope_channel};
}

std::vector<std::string> redis_numbering::position_query(const std::string& channel,
                                                         const std::string& epoch) const {
  return {"EVAL",       read_script, "2", position_key(channel), stream_key(channel), epoch,
          std::to_string(stream_size), std::to_string(ttl.count())};
}

std::optional<redis_position> parse_position_reply(const redis_value& reply, std::string& error) {
  using t = redis_value::type;
  if (reply.what != t::array || reply.elements.size() != 3
      || reply.elements[0].what != t::string || reply.elements[0].str.empty()
      || reply.elements[1].what != t::integer || reply.elements[1].integer < 0
      || reply.elements[2].what != t::array) {
    error = "not a position reply (epoch, seq, messages)";
    return std::nullopt;
  }
  redis_position out;
  out.epoch = reply.elements[0].str;
  out.seq = static_cast<uint64_t>(reply.elements[1].integer);
  auto& messages = reply.elements[2].elements;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->what != t::string) {
      error = "a retained message is not a string";
      return std::nullopt;
    }
    out.messages.push_back(it->str);
  }
  return out;
}

std::string new_redis_epoch() {
  static const uint64_t base = [] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }();
  static std::atomic<uint64_t> count{0};
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx",
                static_cast<unsigned long long>(base + count.fetch_add(1) * 0x9E3779B97F4A7C15ull));
  return buf;
}

} // namespace tickgate::net
