#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tickgate::net {

/// A Kafka partition: (topic, partition).
using kafka_partition = std::pair<std::string, int32_t>;

/// The offset to commit for one partition: the next record to read.
struct kafka_commit {
  kafka_partition partition;
  int64_t offset = 0;
  bool operator==(const kafka_commit&) const = default;
};

/// What may be committed, given which deliveries were handed to the topics
/// (at-least-once: a record's offset is committed only once it and every
/// record before it in its partition were handed on, or skipped).
///
/// The consumer reads records in batches; each batch is one delivery with a
/// token, covering a run of offsets per partition. Confirmations of tokens
/// may come in any order (a batch's publications and its system messages go
/// different ways); a partition's offset advances only over a prefix of
/// confirmed batches. Plain code, no librdkafka: one instance per consumer,
/// used from its thread only.
class kafka_commit_tracker {
public:
  /// Record `offset` of `p` belongs to the batch `token` (in read order per partition).
  void add(uint64_t token, const kafka_partition& p, int64_t offset);

  /// The batch `token` is complete: it is done after `confirmations` calls of
  /// handed(token) (0: done now, e.g. every record skipped).
  void seal(uint64_t token, unsigned confirmations);

  /// One confirmation of `token`; unknown tokens (a revoked partition's) are ignored.
  void handed(uint64_t token);

  /// The partitions whose committable offset moved since the last call, with
  /// that offset.
  std::vector<kafka_commit> take_commits();

  /// `p` was assigned with `offset` committed in the group (the broker's
  /// answer at assignment; -1: none).
  void assigned(const kafka_partition& p, int64_t offset);

  /// The offset committed for `p` as far as known: the last take_commits()
  /// answer, else the one at assignment (-1: none).
  int64_t committed(const kafka_partition& p) const;

  /// Some record of `p` was read and its batch is not handed on yet.
  bool pending(const kafka_partition& p) const;

  /// Forgets `p` (revoked): its records in flight will be read again by
  /// whoever gets the partition next.
  void drop(const kafka_partition& p);

private:
  struct run {
    uint64_t token = 0;
    int64_t last_offset = 0; // the highest offset of the partition in that batch
  };
  struct partition_state {
    std::deque<run> runs;   // in read order
    int64_t committable = -1;
    int64_t reported = -1;  // last returned by take_commits
  };

  std::map<kafka_partition, partition_state> partitions_;
  std::unordered_map<uint64_t, unsigned> open_; // token -> confirmations still due (sealed)
  std::unordered_map<uint64_t, bool> unsealed_; // tokens with records, not sealed yet
};

} // namespace tickgate::net
