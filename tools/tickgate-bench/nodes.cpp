#include "tools/tickgate-bench/nodes.hpp"

#include <cstdlib>

namespace tickgate::bench {

bool parse_ws_url(const std::string& url, endpoint_info& out) {
  std::string rest = url;
  if (rest.rfind("ws://", 0) == 0)
    rest = rest.substr(5);
  auto slash = rest.find('/');
  out.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto hostport = rest.substr(0, slash);
  auto colon = hostport.rfind(':');
  if (colon == std::string::npos)
    return false;
  out.host = hostport.substr(0, colon);
  out.port = static_cast<uint16_t>(std::atoi(hostport.c_str() + colon + 1));
  return out.port != 0;
}

uint64_t deliveries_of_server(size_t pid_index, const std::vector<uint64_t>& by_node,
                              uint64_t total) {
  return pid_index < by_node.size() ? by_node[pid_index] : total;
}

std::optional<double> metric_sample(std::string_view body, std::string_view series) {
  size_t at = 0;
  while (at < body.size()) {
    auto end = body.find('\n', at);
    if (end == std::string_view::npos)
      end = body.size();
    auto line = body.substr(at, end - at);
    at = end + 1;
    if (line.size() > series.size() && line.substr(0, series.size()) == series
        && line[series.size()] == ' ') {
      std::string value{line.substr(series.size() + 1)};
      char* parsed_end = nullptr;
      double v = std::strtod(value.c_str(), &parsed_end);
      if (parsed_end != value.c_str())
        return v;
    }
  }
  return std::nullopt;
}

} // namespace tickgate::bench
