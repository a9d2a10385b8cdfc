// A driver for the LLVMFuzzerTestOneInput targets where libFuzzer is not available (g++):
// replays every corpus file, then runs random inputs and mutations of corpus entries, with the
// same flags it shares with libFuzzer (-runs=N, -seed=S, -max_len=L). Not coverage-guided;
// build with clang and DEEPGEN_LIBFUZZER=ON for that (scripts/fuzz-native.sh picks).
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

using Bytes = std::vector<uint8_t>;
constexpr double kHangSeconds = 10.0;

double run_one(const Bytes& input) {
  const auto t0 = std::chrono::steady_clock::now();
  LLVMFuzzerTestOneInput(input.data(), input.size());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (s > kHangSeconds) {
    std::fprintf(stderr, "hang: one input took %.1f s\n", s);
    std::exit(1);
  }
  return s;
}

void add_file(const std::filesystem::path& p, std::vector<Bytes>& corpus) {
  std::ifstream f(p, std::ios::binary);
  corpus.emplace_back(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

Bytes mutate(Bytes b, std::mt19937_64& rng, size_t max_len) {
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 4) {
      case 0:
        if (!b.empty()) b[rng() % b.size()] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        if (!b.empty()) b[rng() % b.size()] = static_cast<uint8_t>(rng());
        break;
      case 2:
        if (b.size() < max_len)
          b.insert(b.begin() + static_cast<long>(rng() % (b.size() + 1)),
                   static_cast<uint8_t>(rng()));
        break;
      default:
        if (!b.empty()) b.erase(b.begin() + static_cast<long>(rng() % b.size()));
    }
  }
  return b;
}

}  // namespace

int main(int argc, char** argv) {
  long long runs = 10000;
  unsigned long long seed = 1;
  size_t max_len = 256;
  std::vector<Bytes> corpus;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("-runs=", 0) == 0) {
      runs = std::stoll(a.substr(6));
    } else if (a.rfind("-seed=", 0) == 0) {
      seed = std::stoull(a.substr(6));
    } else if (a.rfind("-max_len=", 0) == 0) {
      max_len = std::stoul(a.substr(9));
    } else if (a.rfind("-", 0) == 0) {
      std::fprintf(stderr, "standalone driver: ignoring libFuzzer flag %s\n", a.c_str());
    } else if (std::filesystem::is_directory(a)) {
      for (const auto& e : std::filesystem::directory_iterator(a)) add_file(e.path(), corpus);
    } else {
      add_file(a, corpus);
    }
  }
  double slowest = 0;
  for (const auto& c : corpus) slowest = std::max(slowest, run_one(c));
  std::mt19937_64 rng(seed);
  for (long long r = 0; r < runs; ++r) {
    Bytes input;
    if (!corpus.empty() && rng() % 4 != 0) {
      input = mutate(corpus[rng() % corpus.size()], rng, max_len);
    } else {
      input.resize(rng() % (max_len + 1));
      for (auto& x : input) x = static_cast<uint8_t>(rng());
    }
    slowest = std::max(slowest, run_one(input));
  }
  std::printf(
      "%zu corpus inputs and %lld generated inputs (%lld reached the kernels), 0 crashes, slowest "
      "%.3f s\n",
      corpus.size(), runs, fuzz::reached, slowest);
  return 0;
}
