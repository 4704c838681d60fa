// Runs every fuzz target over its seed corpus (corpus/<target>/*). A crash or
// a failed invariant aborts the test. `fuzz_corpus_replay NAME` replays one
// target's corpus; a file argument replays that one input through NAME.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "fuzz_target.hpp"

namespace fs = std::filesystem;

namespace {

void replay(fuzz_fn fn, const fs::path& file) {
  std::ifstream in{file, std::ios::binary};
  std::string bytes{std::istreambuf_iterator<char>{in}, {}};
  fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

} // namespace

int main(int argc, char** argv) {
  auto& targets = fuzz_targets();
  if (argc == 3) {
    auto it = targets.find(argv[1]);
    if (it == targets.end()) {
      std::fprintf(stderr, "no fuzz target %s\n", argv[1]);
      return 1;
    }
    replay(it->second, argv[2]);
    std::printf("1 passed, 0 failed\n");
    return 0;
  }
  // A corpus without a target would silently stop being replayed.
  for (auto& entry : fs::directory_iterator{CORPUS_DIR})
    if (!targets.count(entry.path().filename().string())) {
      std::fprintf(stderr, "corpus %s has no fuzz target\n", entry.path().c_str());
      return 1;
    }
  size_t passed = 0;
  for (auto& [name, fn] : targets) {
    if (argc == 2 && name != argv[1])
      continue;
    fs::path dir = fs::path{CORPUS_DIR} / name;
    if (!fs::is_directory(dir)) {
      std::fprintf(stderr, "no corpus for %s at %s\n", name.c_str(), dir.c_str());
      return 1;
    }
    size_t n = 0;
    for (auto& entry : fs::directory_iterator{dir}) {
      replay(fn, entry.path());
      ++n;
    }
    if (n == 0) {
      std::fprintf(stderr, "the corpus of %s is empty\n", name.c_str());
      return 1;
    }
    std::printf("%s: %zu inputs\n", name.c_str(), n);
    passed += n;
  }
  std::printf("%zu passed, 0 failed\n", passed);
  return passed > 0 ? 0 : 1;
}
