#include "proto/publish_codec.hpp"

#include <algorithm>

#include <simdjson.h>

#include "proto/topic_name.hpp"

namespace tickgate {

namespace {

namespace od = simdjson::ondemand;

std::string_view trim_right(std::string_view s) {
  while (!s.empty()
         && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r'
             || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// Cuts the JSON text of `v` out of the (already validated) document.
simdjson::error_code raw_text(od::value v, std::string_view& out) {
  od::json_type type;
  if (auto ec = v.type().get(type))
    return ec;
  if (type == od::json_type::object) {
    od::object obj;
    if (auto ec = v.get_object().get(obj))
      return ec;
    return obj.raw_json().get(out);
  }
  if (type == od::json_type::array) {
    od::array arr;
    if (auto ec = v.get_array().get(arr))
      return ec;
    return arr.raw_json().get(out);
  }
  out = trim_right(v.raw_json_token());
  return simdjson::SUCCESS;
}

std::string invalid_topic_text() {
  return "invalid topic name (1-" + std::to_string(max_topic_length)
         + " characters from letters, digits and _-.:@/|=+)";
}

std::string invalid_event_text() {
  return "'event' must be a string of 1-" + std::to_string(max_event_name_length)
         + " bytes without control characters";
}

// Reads one `{"topic":..., "data":..., "snapshot":..., "event":...}` object; returns an
// error message or "".
std::string read_item(od::object obj, size_t index,
                      std::vector<publish_item>& out) {
  auto where = [&] { return "event " + std::to_string(index) + ": "; };
  publish_item item;
  bool has_topic = false;
  bool has_data = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return where() + "bad key";
    if (key == "topic") {
      std::string_view topic;
      if (field.value().get_string().get(topic))
        return where() + "'topic' must be a string";
      item.topic = std::string{topic};
      has_topic = true;
    } else if (key == "data") {
      std::string_view raw;
      if (raw_text(field.value(), raw))
        return where() + "bad 'data'";
      item.payload = std::string{raw};
      has_data = true;
    } else if (key == "snapshot") {
      if (field.value().get_bool().get(item.snapshot))
        return where() + "'snapshot' must be true or false";
    } else if (key == "event") {
      std::string_view event;
      if (field.value().get_string().get(event) || !is_valid_event_name(event))
        return where() + invalid_event_text();
      item.event = std::string{event};
    }
  }
  if (!has_topic)
    return where() + "missing 'topic'";
  if (!is_valid_topic(item.topic))
    return where() + invalid_topic_text();
  if (!has_data)
    return where() + "missing 'data'";
  out.push_back(std::move(item));
  return {};
}

// Reads the "topics" array of a broadcast; returns an error message or "".
std::string read_topics(od::value v, std::vector<std::string>& out) {
  od::array arr;
  if (v.get_array().get(arr))
    return "'topics' must be an array of topic names";
  size_t index = 0;
  for (auto element : arr) {
    std::string_view topic;
    if (element.get_string().get(topic))
      return "topics[" + std::to_string(index) + "]: must be a string";
    if (!is_valid_topic(topic))
      return "topics[" + std::to_string(index) + "]: " + invalid_topic_text();
    if (std::find(out.begin(), out.end(), topic) == out.end()) {
      if (out.size() == max_broadcast_topics)
        return "at most " + std::to_string(max_broadcast_topics) + " topics per broadcast";
      out.emplace_back(topic);
    }
    ++index;
  }
  if (out.empty())
    return "'topics' names no topic";
  return {};
}

} // namespace

broadcast_body decode_broadcast_body(std::string_view body) {
  thread_local simdjson::dom::parser validator;
  thread_local od::parser parser;
  simdjson::padded_string padded(body);
  od::document doc;
  od::object obj;
  if (validator.parse(padded).error() || parser.iterate(padded).get(doc))
    return publish_error{"body is not valid JSON"};
  if (doc.get_object().get(obj))
    return publish_error{R"(body must be an object {"topics":[...],"data":...})"};
  broadcast_item item;
  bool has_topics = false;
  bool has_data = false;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return publish_error{"bad key"};
    if (key == "topics") {
      if (auto msg = read_topics(field.value(), item.topics); !msg.empty())
        return publish_error{std::move(msg)};
      has_topics = true;
    } else if (key == "data") {
      std::string_view raw;
      if (raw_text(field.value(), raw))
        return publish_error{"bad 'data'"};
      item.payload = std::string{raw};
      has_data = true;
    } else if (key == "event") {
      std::string_view event;
      if (field.value().get_string().get(event) || !is_valid_event_name(event))
        return publish_error{invalid_event_text()};
      item.event = std::string{event};
    }
  }
  if (!has_topics)
    return publish_error{"missing 'topics'"};
  if (!has_data)
    return publish_error{"missing 'data'"};
  return item;
}

publish_body decode_publish_body(std::string_view body) {
  thread_local simdjson::dom::parser validator;
  thread_local od::parser parser;
  simdjson::padded_string padded(body);
  if (validator.parse(padded).error())
    return publish_error{"body is not valid JSON"};
  od::document doc;
  if (parser.iterate(padded).get(doc))
    return publish_error{"body is not valid JSON"};
  std::vector<publish_item> items;
  od::json_type type;
  if (doc.type().get(type))
    return publish_error{"body is not valid JSON"};
  if (type == od::json_type::object) {
    od::object obj;
    if (doc.get_object().get(obj))
      return publish_error{"body is not valid JSON"};
    if (auto msg = read_item(obj, 0, items); !msg.empty())
      return publish_error{std::move(msg)};
    return items;
  }
  if (type != od::json_type::array)
    return publish_error{"body must be an event object or an array of them"};
  od::array arr;
  if (doc.get_array().get(arr))
    return publish_error{"body is not valid JSON"};
  size_t index = 0;
  for (auto element : arr) {
    if (index >= max_publish_batch)
      return publish_error{"at most " + std::to_string(max_publish_batch)
                           + " events per request"};
    od::object obj;
    if (element.get_object().get(obj))
      return publish_error{"event " + std::to_string(index)
                           + ": must be an object"};
    if (auto msg = read_item(obj, index, items); !msg.empty())
      return publish_error{std::move(msg)};
    ++index;
  }
  if (items.empty())
    return publish_error{"the batch is empty"};
  return items;
}

} // namespace tickgate
