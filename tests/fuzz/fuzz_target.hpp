#pragma once

// One source per decoder works two ways: as a libFuzzer target
// (-DTICKGATE_FUZZ=ON, clang) and, registered by name, inside the corpus
// replay test that every build runs.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#ifdef TICKGATE_FUZZ_REPLAY
#include <map>
#include <string>

using fuzz_fn = int (*)(const uint8_t*, size_t);

inline std::map<std::string, fuzz_fn>& fuzz_targets() {
  static std::map<std::string, fuzz_fn> targets;
  return targets;
}

struct fuzz_registrar {
  fuzz_registrar(const char* name, fuzz_fn fn) { fuzz_targets()[name] = fn; }
};

#define TICKGATE_FUZZ_TARGET(name)                                             \
  static int fuzz_##name(const uint8_t* data, size_t size);                    \
  static fuzz_registrar registrar_##name{#name, fuzz_##name};                  \
  static int fuzz_##name(const uint8_t* data, size_t size)
#else
#define TICKGATE_FUZZ_TARGET(name)                                             \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
#endif

/// Aborts (a finding) when an invariant does not hold.
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__,  \
                   __LINE__);                                                  \
      std::abort();                                                            \
    }                                                                          \
  } while (false)
