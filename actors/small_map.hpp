#pragma once

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

namespace tickgate {

/// A map for the few entries one connection holds (its subscriptions): a
/// vector searched linearly. Against std::unordered_map it saves the bucket
/// array and a node per entry, which matters at tens of thousands of
/// connections, and a handful of comparisons beat hashing at this size.
/// Against boost::container::flat_map (the same vector of pairs, sorted) it
/// costs the same while entries are held, but it releases its storage when
/// the last entry goes: flat_map keeps it, and a connection's `owed` and
/// `leaving` maps fill and empty again on every unsubscribe, so each
/// connection that ever unsubscribed would keep that storage for good.
/// Order is not kept (erase moves the last entry into the gap); insert and
/// erase invalidate iterators.
template <class Key, class Value>
class small_map {
public:
  using value_type = std::pair<Key, Value>;
  using iterator = typename std::vector<value_type>::iterator;
  using const_iterator = typename std::vector<value_type>::const_iterator;

  iterator begin() { return items_.begin(); }
  iterator end() { return items_.end(); }
  const_iterator begin() const { return items_.begin(); }
  const_iterator end() const { return items_.end(); }
  size_t size() const { return items_.size(); }
  bool empty() const { return items_.empty(); }

  template <class K>
  iterator find(const K& key) {
    return std::find_if(items_.begin(), items_.end(),
                        [&](const value_type& v) { return v.first == key; });
  }
  template <class K>
  const_iterator find(const K& key) const {
    return std::find_if(items_.begin(), items_.end(),
                        [&](const value_type& v) { return v.first == key; });
  }
  template <class K>
  size_t count(const K& key) const { return find(key) == end() ? 0 : 1; }

  template <class K, class V>
  std::pair<iterator, bool> emplace(K&& key, V&& value) {
    if (auto i = find(key); i != end())
      return {i, false};
    items_.emplace_back(std::forward<K>(key), std::forward<V>(value));
    return {items_.end() - 1, true};
  }

  Value& operator[](const Key& key) {
    if (auto i = find(key); i != end())
      return i->second;
    items_.emplace_back(key, Value{});
    return items_.back().second;
  }

  /// Returns the iterator to the entry now at `i`'s place (the former last
  /// one, not visited yet by a loop that erases as it goes), or end().
  iterator erase(iterator i) {
    auto at = i - items_.begin();
    if (i + 1 != items_.end())
      *i = std::move(items_.back());
    items_.pop_back();
    if (items_.empty()) {
      std::vector<value_type>{}.swap(items_);
      return items_.end();
    }
    return items_.begin() + at;
  }
  template <class K>
  size_t erase(const K& key) {
    auto i = find(key);
    if (i == end())
      return 0;
    erase(i);
    return 1;
  }

private:
  std::vector<value_type> items_;
};

} // namespace tickgate
