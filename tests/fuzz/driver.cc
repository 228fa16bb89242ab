// Runs a fuzz target without libFuzzer (gcc builds, CI): every file of the
// corpus directories given, then --mutations deterministic mutations of
// each (byte flips, inserted and deleted runs, repeated runs, splices with
// another seed, interesting bytes: quotes, commas, newlines, NUL, 0xFF,
// UTF-8 fragments), each at most --max_len bytes. The sanitizers report
// what breaks; a target's own property checks abort.
//   fuzz_X [--mutations=N] [--seed=S] [--max_len=B] DIR...
#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace {

std::string Mutate(const std::string& seed, const std::vector<std::string>& seeds, std::mt19937_64& rng,
                   size_t max_len) {
  static const char* kInteresting[] = {"\"", ",", "\n", "\r\n", "\0", "\xff", "\xc3", "\xe1\xbb", "\"\"", "-", ":",
                                       "9999999999999999999", "-1", "0", "#", "=", " ", "\t", "Q5", "W53", "/"};
  std::string s = seed;
  const int edits = 1 + static_cast<int>(rng() % 8);
  for (int e = 0; e < edits; ++e) {
    const size_t at = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 7) {
      case 0:  // flip a byte
        if (!s.empty()) s[std::min(at, s.size() - 1)] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1: {  // insert an interesting token
        const char* t = kInteresting[rng() % (sizeof(kInteresting) / sizeof(*kInteresting))];
        s.insert(at, std::string(t, std::max<size_t>(1, std::strlen(t))));
        break;
      }
      case 2:  // delete a run
        if (!s.empty()) s.erase(std::min(at, s.size() - 1), 1 + rng() % 16);
        break;
      case 3:  // repeat a run
        if (!s.empty()) {
          const size_t from = rng() % s.size();
          const std::string run = s.substr(from, 1 + rng() % 32);
          s.insert(at, run);
        }
        break;
      case 4: {  // splice with another seed
        const std::string& other = seeds[rng() % seeds.size()];
        if (!other.empty()) s = s.substr(0, at) + other.substr(rng() % other.size());
        break;
      }
      case 5:  // a random byte
        s.insert(at, 1, static_cast<char>(rng() % 256));
        break;
      default:  // truncate
        s.resize(at);
        break;
    }
  }
  if (s.size() > max_len) s.resize(max_len);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  long mutations = 2000;
  unsigned long long seed = 20261205;
  size_t max_len = 1 << 16;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--mutations=", 0) == 0) {
      mutations = std::stol(a.substr(12));
    } else if (a.rfind("--seed=", 0) == 0) {
      seed = std::stoull(a.substr(7));
    } else if (a.rfind("--max_len=", 0) == 0) {
      max_len = std::stoul(a.substr(10));
    } else {
      std::vector<std::filesystem::path> files;
      for (const auto& f : std::filesystem::directory_iterator(a)) files.push_back(f.path());
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        std::ifstream in(f, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        seeds.push_back(ss.str());
      }
    }
  }
  if (seeds.empty()) {
    std::cerr << "usage: " << argv[0] << " [--mutations=N] [--seed=S] [--max_len=B] CORPUS_DIR...\n";
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();
  long runs = 0;
  auto run = [&](const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    ++runs;
  };
  run("");
  for (const std::string& s : seeds) run(s);
  std::mt19937_64 rng(seed);
  for (const std::string& s : seeds) {
    for (long m = 0; m < mutations; ++m) run(Mutate(s, seeds, rng, max_len));
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << argv[0] << ": " << runs << " inputs (" << seeds.size() << " seeds, " << mutations
            << " mutations each) in " << seconds << " s, no crash\n";
  return 0;
}
