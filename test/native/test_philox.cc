#include <cmath>
#include <vector>

#include "../../native/common/philox.h"
#include "../../native/common/thread_pool.h"
#include "../../native/kernels/cpu/philox_fill.h"
#include "check.h"

using namespace deepgen;

// Known-answer vectors of Philox4x32-10 published with Random123 (kat_vectors).
TEST(philox_known_answers) {
  struct Kat {
    uint32_t ctr[4], key[2], out[4];
  } kats[] = {
      {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
      {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
       {0xffffffff, 0xffffffff},
       {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
      {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
       {0xa4093822, 0x299f31d0},
       {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
  };
  for (const Kat& k : kats) {
    const PhiloxBlock b = philox4x32_10(k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3], k.key[0], k.key[1]);
    for (int i = 0; i < 4; ++i) CHECK_EQ(b.v[i], k.out[i]);
  }
}

TEST(philox_uniform_range_is_open) {
  CHECK(philox_uniform_f32(0u) > 0.0f);
  CHECK(philox_uniform_f32(0xffffffffu) < 1.0f);
  CHECK(philox_uniform_f64(0u) > 0.0);
  CHECK(philox_uniform_f64(0xffffffffu) < 1.0);
  CHECK_EQ(philox_uniform_f32(0u), 1.0f / 16777216.0f);
}

TEST(philox_fill_matches_blocks_and_is_thread_count_independent) {
  const int64_t n = 200003;  // not a multiple of 4 or of the chunk size
  std::vector<float> one(n), many(n);
  set_thread_limit(1);
  philox_fill(one.data(), n, 7, 9, 3, Distribution::kUniform);
  set_thread_limit(4);
  philox_fill(many.data(), n, 7, 9, 3, Distribution::kUniform);
  set_thread_limit(default_thread_limit());
  int mismatches = 0;
  for (int64_t i = 0; i < n; ++i) mismatches += one[i] != many[i];
  CHECK_EQ(mismatches, 0);
  const int64_t i = 123457;
  const PhiloxBlock b = philox4x32_10(static_cast<uint32_t>(i / 4), 0, 3, 0, 7, 9);
  CHECK_EQ(one[i], philox_uniform_f32(b.v[i % 4]));
}

TEST(philox_normal_fill_moments) {
  const int64_t n = 1 << 20;
  std::vector<float> z(n);
  philox_fill(z.data(), n, 42, 0, 1, Distribution::kNormal);
  double s = 0, s2 = 0;
  for (float v : z) {
    s += v;
    s2 += static_cast<double>(v) * v;
  }
  const double mean = s / n, var = s2 / n - mean * mean;
  CHECK_NEAR(mean, 0.0, 5.0 / std::sqrt(static_cast<double>(n)));  // 5 sigma
  CHECK_NEAR(var, 1.0, 0.01);
}

TEST(philox_fill_cancelled_throws) {
  int32_t flag = 1;
  JobHooks hooks;
  hooks.cancel_flag = &flag;
  std::vector<float> out(1000);
  CHECK_THROWS(philox_fill(out.data(), 1000, 0, 0, 0, Distribution::kUniform, hooks));
}
