// Runs every fuzz target over its seed corpus (corpus/<target>/*). A crash or
// a failed invariant aborts the test.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz_target.hpp"

int main() {
  namespace fs = std::filesystem;
  size_t passed = 0;
  for (auto& [name, fn] : fuzz_targets()) {
    fs::path dir = fs::path{CORPUS_DIR} / name;
    if (!fs::is_directory(dir)) {
      std::fprintf(stderr, "no corpus for %s at %s\n", name.c_str(), dir.c_str());
      return 1;
    }
    size_t n = 0;
    for (auto& entry : fs::directory_iterator{dir}) {
      std::ifstream in{entry.path(), std::ios::binary};
      std::string bytes{std::istreambuf_iterator<char>{in}, {}};
      fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
      ++n;
    }
    std::printf("%s: %zu inputs\n", name.c_str(), n);
    passed += n;
  }
  std::printf("%zu passed, 0 failed\n", passed);
  return passed > 0 ? 0 : 1;
}
