#include "net/kafka_feed.hpp"

#include <algorithm>
#include <array>
#include <set>

#include <caf/detail/set_thread_name.hpp>
#include <librdkafka/rdkafka.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include "actors/metrics.hpp"
#include "net/kafka_commits.hpp"
#include "proto/json_text.hpp"

namespace tickgate::net {

namespace {

using clock = std::chrono::steady_clock;

// The last status report's reason, for /health (one Kafka feed per node).
std::mutex reason_mtx;
std::string last_down_reason = "kafka not connected yet";

std::string lag_labels(const kafka_partition& p) {
  std::string out = "topic=\"";
  json_text::append_escaped(out, p.first); // Prometheus escapes like JSON for \ and "
  out += "\",partition=\"" + std::to_string(p.second) + "\"";
  return out;
}

} // namespace

/// The consumer thread's state. Created and used on that thread only.
struct kafka_feed::consumer {
  kafka_feed& feed;
  rd_kafka_t* rk = nullptr;
  kafka_record_router router;
  kafka_commit_tracker tracker;
  std::set<kafka_partition> assigned;
  uint64_t next_token = 1;
  bool up = false;
  bool reported_once = false;
  std::string down_reason;
  clock::time_point next_probe{};
  clock::time_point next_commit{};
  clock::time_point next_lag{};

  // The records read since the last delivery (one token).
  struct batch {
    uint64_t token = 0;
    routed_record out;
    size_t records = 0;
    size_t routed = 0;
    std::array<size_t, skip_reason_count> skipped{};
  };
  batch current;

  explicit consumer(kafka_feed& f)
    : feed(f), router(f.settings_.routes, f.settings_.max_payload_bytes) {}

  ~consumer() {
    if (rk)
      rd_kafka_destroy(rk);
  }

  void report(bool now_up, std::string reason) {
    if (reported_once && now_up == up)
      return;
    reported_once = true;
    up = now_up;
    node_metrics().kafka_up.store(up ? 1 : 0);
    if (up)
      spdlog::info("kafka.up brokers={}", feed.settings_.brokers);
    else
      spdlog::warn("kafka.down reason={}", reason);
    std::string text = up ? std::string{} : "kafka unavailable: " + reason;
    {
      std::lock_guard<std::mutex> guard{reason_mtx};
      last_down_reason = text;
    }
    feed.reports_.status(up, std::move(text));
    if (up) {
      // A feed down unconfirms every topic (feed_actor); the records reach
      // them all again.
      std::vector<std::string> topics;
      {
        std::lock_guard<std::mutex> guard{feed.mtx_};
        topics.assign(feed.followed_.begin(), feed.followed_.end());
      }
      if (!topics.empty())
        feed.reports_.confirmed(std::move(topics));
    }
  }

  // --- callbacks (on this thread, inside rd_kafka_consumer_poll) ---

  static void on_error(rd_kafka_t*, int err, const char* reason, void* opaque) {
    auto* self = static_cast<consumer*>(opaque);
    node_metrics().kafka_connection_errors.fetch_add(1, std::memory_order_relaxed);
    auto code = static_cast<rd_kafka_resp_err_t>(err);
    spdlog::debug("kafka.error code={} reason={}", rd_kafka_err2name(code), reason);
    if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
      self->report(false, "all brokers down");
  }

  static void on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* parts, void* opaque) {
    auto* self = static_cast<consumer*>(opaque);
    node_metrics().kafka_rebalances.fetch_add(1, std::memory_order_relaxed);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      // The group's committed offsets: the lag's base until this node commits.
      auto* committed = rd_kafka_topic_partition_list_copy(parts);
      bool known = rd_kafka_committed(rk, committed, 2000) == RD_KAFKA_RESP_ERR_NO_ERROR;
      for (int i = 0; i < parts->cnt; ++i) {
        kafka_partition p{parts->elems[i].topic, parts->elems[i].partition};
        self->tracker.assigned(p, known ? committed->elems[i].offset : -1);
        self->assigned.insert(std::move(p));
      }
      rd_kafka_topic_partition_list_destroy(committed);
      spdlog::info("kafka.assigned partitions={} total={}", parts->cnt, self->assigned.size());
      rd_kafka_assign(rk, parts);
    } else {
      self->revoke(parts);
      rd_kafka_assign(rk, nullptr);
    }
    self->feed.assigned_.store(static_cast<int64_t>(self->assigned.size()));
    node_metrics().kafka_partitions.store(static_cast<int64_t>(self->assigned.size()));
  }

  static void on_commit(rd_kafka_t*, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t*, void*) {
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
      node_metrics().kafka_commit_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("kafka.commit_failed error={}", rd_kafka_err2str(err));
    }
  }

  // --- the loop's steps ---

  bool create() {
    char err[512];
    auto* conf = rd_kafka_conf_new();
    for (auto& [key, value] : feed.client_properties())
      if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
        spdlog::error("kafka.config_invalid key={} error={}", key, err);
        rd_kafka_conf_destroy(conf);
        return false;
      }
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_error_cb(conf, &consumer::on_error);
    rd_kafka_conf_set_rebalance_cb(conf, &consumer::on_rebalance);
    rd_kafka_conf_set_offset_commit_cb(conf, &consumer::on_commit);
    rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
      spdlog::error("kafka.create_failed error={}", err);
      rd_kafka_conf_destroy(conf);
      return false;
    }
    rd_kafka_poll_set_consumer(rk);
    auto* topics = rd_kafka_topic_partition_list_new(static_cast<int>(feed.settings_.topics.size()));
    for (auto& t : feed.settings_.topics)
      rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
    auto rc = rd_kafka_subscribe(rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::error("kafka.subscribe_failed error={}", rd_kafka_err2str(rc));
      return false;
    }
    return true;
  }

  // While down (or not yet up): is a broker answering?
  void probe() {
    auto now = clock::now();
    if (up || now < next_probe)
      return;
    next_probe = now + std::chrono::milliseconds{500};
    const struct rd_kafka_metadata* md = nullptr;
    auto rc = rd_kafka_metadata(rk, 0, nullptr, &md, 250);
    if (rc == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(md);
      report(true, {});
    } else if (!reported_once) {
      report(false, rd_kafka_err2str(rc));
    }
  }

  void apply_handed() {
    std::vector<uint64_t> tokens;
    {
      std::lock_guard<std::mutex> guard{feed.mtx_};
      tokens.swap(feed.handed_);
    }
    for (auto t : tokens)
      tracker.handed(t);
  }

  void commit(bool sync) {
    auto commits = tracker.take_commits();
    if (commits.empty())
      return;
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(commits.size()));
    for (auto& c : commits)
      rd_kafka_topic_partition_list_add(list, c.partition.first.c_str(), c.partition.second)
        ->offset = c.offset;
    auto rc = rd_kafka_commit(rk, list, sync ? 0 : 1);
    rd_kafka_topic_partition_list_destroy(list);
    node_metrics().kafka_commits.fetch_add(1, std::memory_order_relaxed);
    if (sync && rc != RD_KAFKA_RESP_ERR_NO_ERROR) {
      node_metrics().kafka_commit_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::warn("kafka.commit_failed error={}", rd_kafka_err2str(rc));
    }
  }

  // Waits (up to handover_wait) until `parts` have nothing in flight, then
  // commits synchronously what was handed.
  template <class Pending>
  void drain(Pending&& any_pending) {
    auto until = clock::now() + feed.settings_.handover_wait;
    apply_handed();
    while (any_pending() && clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds{2});
      apply_handed();
    }
    commit(true);
  }

  void revoke(rd_kafka_topic_partition_list_t* parts) {
    flush();
    std::vector<kafka_partition> revoked;
    for (int i = 0; i < parts->cnt; ++i)
      revoked.emplace_back(parts->elems[i].topic, parts->elems[i].partition);
    drain([&] {
      for (auto& p : revoked)
        if (tracker.pending(p))
          return true;
      return false;
    });
    for (auto& p : revoked) {
      tracker.drop(p);
      assigned.erase(p);
      node_metrics().kafka_lag.erase(lag_labels(p));
    }
    spdlog::info("kafka.revoked partitions={} total={}", revoked.size(), assigned.size());
  }

  void refresh_lag() {
    auto now = clock::now();
    if (now < next_lag)
      return;
    next_lag = now + feed.settings_.lag_interval;
    for (auto& p : assigned) {
      int64_t lo = 0, hi = 0;
      // The watermarks of the last fetch; a partition that has delivered
      // nothing yet may have none cached: ask its leader (briefly, and
      // only while the brokers answer).
      if (rd_kafka_get_watermark_offsets(rk, p.first.c_str(), p.second, &lo, &hi)
            != RD_KAFKA_RESP_ERR_NO_ERROR || hi < 0) {
        if (!up || rd_kafka_query_watermark_offsets(rk, p.first.c_str(), p.second, &lo, &hi, 100)
                     != RD_KAFKA_RESP_ERR_NO_ERROR)
          continue;
      }
      // Lag as Kafka's tools count it: high watermark minus committed offset.
      int64_t done = tracker.committed(p);
      if (done < 0 && feed.settings_.offset_reset == "earliest")
        done = lo; // nothing committed yet: the group starts at the beginning
      if (done < 0) { // nothing committed yet: where the consumer stands
        auto* one = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(one, p.first.c_str(), p.second);
        if (rd_kafka_position(rk, one) == RD_KAFKA_RESP_ERR_NO_ERROR)
          done = one->elems[0].offset;
        rd_kafka_topic_partition_list_destroy(one);
      }
      if (done >= 0)
        node_metrics().kafka_lag.set(lag_labels(p), std::max<int64_t>(0, hi - done));
    }
  }

  // Adds one record to the batch in progress.
  void take(const rd_kafka_message_t* msg, int64_t ts) {
    if (current.records == 0)
      current.token = next_token++;
    ++current.records;
    kafka_partition p{rd_kafka_topic_name(msg->rkt), msg->partition};
    tracker.add(current.token, p, msg->offset);
    std::string_view value{static_cast<const char*>(msg->payload), msg->len};
    if (auto why = router.route(p.first, value, ts, current.out)) {
      ++current.skipped[static_cast<size_t>(*why)];
      spdlog::debug("kafka.skipped topic={} partition={} offset={} reason={}", p.first,
                    p.second, msg->offset, metrics::kafka_skip_name(static_cast<size_t>(*why)));
    } else {
      ++current.routed;
    }
  }

  // Delivers the batch in progress (if any) with its token: one
  // confirmation for its publications, one per system message.
  void flush() {
    if (current.records == 0)
      return;
    auto& m = node_metrics();
    m.kafka_records_in.fetch_add(current.records, std::memory_order_relaxed);
    m.kafka_routed.fetch_add(current.routed, std::memory_order_relaxed);
    m.kafka_publications.fetch_add(current.out.publications.size(), std::memory_order_relaxed);
    for (size_t i = 0; i < current.skipped.size(); ++i)
      if (current.skipped[i] > 0)
        m.kafka_skipped[i].fetch_add(current.skipped[i], std::memory_order_relaxed);
    auto& out = current.out;
    unsigned confirmations = (out.publications.empty() ? 0 : 1)
                             + static_cast<unsigned>(out.broadcasts.size());
    tracker.seal(current.token, confirmations);
    if (!out.publications.empty())
      feed.reports_.deliver(std::move(out.publications), current.token);
    for (auto& [json, event] : out.broadcasts)
      feed.reports_.broadcast(std::move(json), std::move(event), current.token);
    current = batch{};
  }

  // Reads up to batch_records records (waiting a little for the first) and
  // delivers what they make. A rebalance inside a poll flushes the batch
  // first (revoke()), so its records are handed on before the commit there.
  void poll_batch() {
    auto ts = now_us();
    int timeout_ms = 50;
    while (current.records < feed.settings_.batch_records) {
      auto* msg = rd_kafka_consumer_poll(rk, timeout_ms);
      if (!msg)
        break;
      timeout_ms = 0; // the rest of the batch: what is already fetched
      if (msg->err) {
        if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
          spdlog::warn("kafka.consume_error error={}", rd_kafka_message_errstr(msg));
      } else {
        if (!up)
          report(true, {}); // a record is proof enough
        take(msg, ts);
      }
      rd_kafka_message_destroy(msg);
    }
    flush();
  }

  void run() {
    if (!create()) {
      report(false, "client could not be created (see the log)");
      return;
    }
    while (!feed.stopping_.load()) {
      probe();
      poll_batch();
      apply_handed();
      if (auto now = clock::now(); now >= next_commit) {
        next_commit = now + feed.settings_.commit_interval;
        commit(false);
      }
      refresh_lag();
    }
    // Shutdown: commit what was handed; closing leaves the group (the
    // rebalance callback revokes, draining once more).
    drain([&] {
      for (auto& p : assigned)
        if (tracker.pending(p))
          return true;
      return false;
    });
    rd_kafka_consumer_close(rk);
    for (auto& p : assigned)
      node_metrics().kafka_lag.erase(lag_labels(p));
    spdlog::info("kafka.stopped");
  }
};

kafka_feed::kafka_feed(kafka_feed_settings settings) : settings_(std::move(settings)) {
}

kafka_feed::~kafka_feed() {
  stop();
}

std::string kafka_feed::down_reason() {
  std::lock_guard<std::mutex> guard{reason_mtx};
  return last_down_reason;
}

std::vector<std::pair<std::string, std::string>> kafka_feed::client_properties() const {
  std::vector<std::pair<std::string, std::string>> p{
    {"bootstrap.servers", settings_.brokers},
    {"group.id", settings_.group_id},
    {"client.id", settings_.client_id},
    {"session.timeout.ms", std::to_string(settings_.session_timeout.count())},
    {"auto.offset.reset", settings_.offset_reset},
    // Offsets are committed by the feed, after hand-over (at-least-once).
    {"enable.auto.commit", "false"},
    {"enable.auto.offset.store", "false"},
    {"enable.partition.eof", "false"},
    // librdkafka 2.0 stops fetching a partition once the local queue holds
    // queued.min.messages (100,000 by default) and looks at it again only at
    // its broker thread's next wakeup, up to a second later: a backlog of
    // small records then comes in bursts with pauses (the Kafka bench).
    // The prefetch stays bounded by queued.max.messages.kbytes (64 MB).
    {"queued.min.messages", "1000000"},
  };
  for (auto& kv : settings_.properties)
    p.push_back(kv);
  return p;
}

void kafka_feed::start(feed_reports reports) {
  reports_ = std::move(reports);
  spdlog::info("kafka.config brokers={} topics={} group={} routes={}", settings_.brokers,
               fmt::join(settings_.topics, ","), settings_.group_id, settings_.routes.size());
  thread_ = std::thread{[this] { run(); }};
}

void kafka_feed::stop() {
  stopping_.store(true);
  if (thread_.joinable())
    thread_.join();
}

void kafka_feed::run() {
  caf::detail::set_thread_name("tg.kafka"); // per-thread CPU in top and the Kafka bench
  consumer c{*this};
  c.run();
}

bool kafka_feed::follow(const std::string& topic) {
  std::lock_guard<std::mutex> guard{mtx_};
  followed_.insert(topic);
  return true;
}

void kafka_feed::unfollow(const std::string& topic) {
  std::lock_guard<std::mutex> guard{mtx_};
  followed_.erase(topic);
}

publish_outcome kafka_feed::publish(const publication_batch& batch) {
  // Never chosen as the publishing feed (accepts_publishes() is false).
  spdlog::warn("kafka.publish_ignored publications={}", batch.size());
  return publish_outcome::upstream;
}

void kafka_feed::handed(uint64_t token) {
  std::lock_guard<std::mutex> guard{mtx_};
  handed_.push_back(token);
}

void kafka_feed::describe(actor_stats& s) const {
  auto& m = node_metrics();
  s.msgs_in = m.kafka_records_in.load();
  s.restarts = m.kafka_rebalances.load();
  std::string topics = "[";
  for (auto& t : settings_.topics) {
    if (topics.size() > 1)
      topics += ',';
    json_text::append_string(topics, t);
  }
  topics += ']';
  std::string group;
  json_text::append_string(group, settings_.group_id);
  s.extra.emplace_back("group", group);
  s.extra.emplace_back("kafka_topics", topics);
  s.extra.emplace_back("partitions", std::to_string(assigned_.load()));
  s.extra.emplace_back("routed", std::to_string(m.kafka_routed.load()));
  uint64_t skipped = 0;
  for (auto& c : m.kafka_skipped)
    skipped += c.load();
  s.extra.emplace_back("skipped", std::to_string(skipped));
  s.extra.emplace_back("commits", std::to_string(m.kafka_commits.load()));
}

} // namespace tickgate::net
