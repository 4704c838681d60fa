#include "actors/metrics.hpp"

namespace tickgate {

metrics& node_metrics() {
  static metrics instance;
  return instance;
}

} // namespace tickgate
