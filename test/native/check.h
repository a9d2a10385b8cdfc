// A minimal test harness for the plain C++ kernel tests (no framework to install).
// TEST(name) registers a case; CHECK* record failures without stopping the case; main()
// runs all and prints "N passed, N failed".
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace dgtest {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

inline int& failures_in_case() {
  static int n = 0;
  return n;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, fn}); }
};

inline void fail(const char* file, int line, const std::string& what) {
  ++failures_in_case();
  std::fprintf(stderr, "  %s:%d: %s\n", file, line, what.c_str());
}

inline int run_all() {
  int passed = 0, failed = 0;
  for (const Case& c : registry()) {
    failures_in_case() = 0;
    try {
      c.fn();
    } catch (const std::exception& e) {
      fail(c.name, 0, std::string("uncaught exception: ") + e.what());
    }
    if (failures_in_case() == 0) {
      ++passed;
      std::printf("ok   %s\n", c.name);
    } else {
      ++failed;
      std::printf("FAIL %s\n", c.name);
    }
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

}  // namespace dgtest

#define DG_CONCAT2(a, b) a##b
#define DG_CONCAT(a, b) DG_CONCAT2(a, b)
#define TEST(name)                                                 \
  static void name();                                              \
  static dgtest::Register DG_CONCAT(register_, name)(#name, name); \
  static void name()

#define CHECK(cond)                                                    \
  do {                                                                 \
    if (!(cond)) dgtest::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)

#define CHECK_EQ(a, b)                                                                          \
  do {                                                                                          \
    const auto va_ = (a);                                                                       \
    const auto vb_ = (b);                                                                       \
    if (!(va_ == vb_))                                                                          \
      dgtest::fail(                                                                             \
          __FILE__, __LINE__,                                                                   \
          std::string(#a " == " #b ": ") + std::to_string(va_) + " vs " + std::to_string(vb_)); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                  \
  do {                                                                                         \
    const double va_ = (a), vb_ = (b);                                                         \
    if (!(std::fabs(va_ - vb_) <= (tol)))                                                      \
      dgtest::fail(                                                                            \
          __FILE__, __LINE__,                                                                  \
          std::string(#a " ~ " #b ": ") + std::to_string(va_) + " vs " + std::to_string(vb_)); \
  } while (0)

#define CHECK_THROWS(stmt)                                                     \
  do {                                                                         \
    bool threw_ = false;                                                       \
    try {                                                                      \
      stmt;                                                                    \
    } catch (...) {                                                            \
      threw_ = true;                                                           \
    }                                                                          \
    if (!threw_) dgtest::fail(__FILE__, __LINE__, "expected a throw: " #stmt); \
  } while (0)
