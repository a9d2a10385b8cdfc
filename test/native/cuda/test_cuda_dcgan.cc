// The device-resident DCGAN trainer (dcgan_resident.cu) against the CPU reference step composed
// from the CPU kernels (dcgan_cpu_reference.h): same initial weights, same z and real batches.
//
// Tolerances (lr 1e-3, Adam beta1 0.5):
//   losses and D's mean outputs after the first step: relative 1e-5 (the forward differs from
//     the CPU only by float rounding: FMA order in the convs and GEMMs, expf ulps);
//   parameters, Adam moments and running statistics after one and after three steps: at least
//     99.5% of the entries within 1e-5 + 1e-4 |cpu|, and every entry within 6 lr t. Adam moves
//     each parameter by about lr per step whatever the gradient's size, so a gradient that is
//     zero up to rounding may take a different sign on the two paths and move its entry by up
//     to 2 lr per step; a kernel bug moves far more than 0.5% of the entries;
//   eval-mode generation from the initial weights: 2e-5 (1 + |y|).
#include <cmath>
#include <cstdint>
#include <vector>

#include "../check.h"
#include "cuda_test_util.h"
#include "dcgan_cpu_reference.h"

using namespace deepgen;
using cudatest::DcganCpuReference;
using cudatest::have_device;
using cudatest::uniform;

namespace {

cuda::DcganSpec small_spec() {
  cuda::DcganSpec s;
  s.height = 8;
  s.width = 12;
  s.zdim = 5;
  s.channels[0] = 6;
  s.channels[1] = 4;
  s.disc_channels[0] = 3;
  s.disc_channels[1] = 5;
  return s;
}

// Random weights (gamma near 1), running mean 0, running variance 1.
void init(DcganCpuReference& ref) {
  ref.gp = uniform(ref.gp.size(), -0.3f, 0.3f, 901);
  ref.dp = uniform(ref.dp.size(), -0.3f, 0.3f, 902);
  for (int t : {DcganCpuReference::G1gamma, DcganCpuReference::G2gamma}) {
    for (int64_t i = 0; i < ref.gt[t].size; ++i) ref.g(t)[i] += 1.0f;
  }
  for (int t : {DcganCpuReference::B1var, DcganCpuReference::B2var}) {
    for (int64_t i = 0; i < ref.bt[t].size; ++i) ref.b(t)[i] = 1.0f;
  }
}

bool close_rel(double a, double b, double rel) {
  return std::fabs(a - b) <= rel * (std::fabs(b) + 1e-12);
}

// Entries outside 1e-5 + 1e-4 |cpu|; -1 when any entry is beyond `hard` (or NaN).
int64_t count_far(const std::vector<float>& gpu, const std::vector<float>& cpu, double hard) {
  int64_t far = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    const double d = std::fabs(static_cast<double>(gpu[i]) - cpu[i]);
    if (!(d <= hard)) return -1;
    far += !(d <= 1e-5 + 1e-4 * std::fabs(cpu[i]));
  }
  return far;
}

void check_state(cuda::DcganDeviceModel* model, DcganCpuReference& ref, double hard) {
  std::vector<float> gp(ref.gp.size()), dp(ref.dp.size()), buf(ref.buf.size());
  std::vector<float> gm(ref.gm.size()), gv(ref.gv.size()), dm(ref.dm.size()), dv(ref.dv.size());
  int64_t gs = -1, ds = -1;
  cuda::dcgan_download(model, gp.data(), dp.data(), buf.data(), gm.data(), gv.data(), dm.data(),
                       dv.data(), &gs, &ds);
  CHECK_EQ(gs, ref.gen_step);
  CHECK_EQ(ds, ref.disc_step);
  const std::vector<const std::vector<float>*> gpu = {&gp, &dp, &buf, &gm, &gv, &dm, &dv};
  const std::vector<const std::vector<float>*> cpu = {&ref.gp, &ref.dp, &ref.buf, &ref.gm,
                                                      &ref.gv, &ref.dm, &ref.dv};
  for (size_t k = 0; k < gpu.size(); ++k) {
    const int64_t far = count_far(*gpu[k], *cpu[k], k == 2 ? 1e-4 : hard);
    CHECK(far >= 0);
    CHECK(far * 200 <= static_cast<int64_t>(cpu[k]->size()));
  }
}

}  // namespace

TEST(cuda_dcgan_steps_match_cpu_reference) {
  if (cudatest::skip_without_device()) return;
  const cuda::DcganSpec spec = small_spec();
  DcganCpuReference ref(spec);
  init(ref);
  const int64_t m = 6;
  const double lr = 1e-3;
  cuda::DcganState st;
  st.gen_params = ref.gp.data();
  st.disc_params = ref.dp.data();
  st.gen_buffers = ref.buf.data();
  cuda::DcganDeviceModel* model = cuda::dcgan_upload(spec, st);
  // generation from the initial weights (eval mode)
  {
    const std::vector<float> z = uniform(3 * ref.Z, -2.0f, 2.0f, 910);
    std::vector<float> out(3 * ref.P);
    cuda::dcgan_generate(model, z.data(), 3, out.data());
    const std::vector<float> cpu = ref.gen_forward(z.data(), 3, false);
    int64_t bad = 0;
    for (size_t i = 0; i < out.size(); ++i)
      bad += !(std::fabs(out[i] - cpu[i]) <= 2e-5 * (1 + std::fabs(cpu[i])));
    CHECK_EQ(bad, 0);
  }
  cuda::DcganStepOptions opts;
  opts.gen_lr = opts.disc_lr = lr;
  for (int t = 1; t <= 3; ++t) {
    const std::vector<float> real = uniform(m * ref.P, -1.0f, 1.0f, 920 + t);
    const std::vector<float> z = uniform(m * ref.Z, -2.0f, 2.0f, 930 + t);
    const cuda::DcganStepResult g = cuda::dcgan_step(model, real.data(), z.data(), m, opts);
    const cuda::DcganStepResult c = ref.step(real.data(), z.data(), m, lr);
    CHECK(g.disc_updated && g.gen_updated);
    if (t == 1) {
      CHECK(close_rel(g.disc_loss_sum, c.disc_loss_sum, 1e-5));
      CHECK(close_rel(g.d_real_sum, c.d_real_sum, 1e-5));
      CHECK(close_rel(g.d_fake_sum, c.d_fake_sum, 1e-5));
      CHECK(close_rel(g.gen_loss, c.gen_loss, 1e-5));
      CHECK(close_rel(g.disc_grad_norm, c.disc_grad_norm, 1e-4));
      CHECK(close_rel(g.gen_grad_norm, c.gen_grad_norm, 1e-4));
    }
    if (t == 1 || t == 3) check_state(model, ref, 6 * lr * t);
  }
  cuda::dcgan_release(model);
}

TEST(cuda_dcgan_rejects_bad_input_and_reports_no_device) {
  cuda::DcganSpec bad = small_spec();
  bad.height = 10;  // not a multiple of 4
  CHECK_CODE([&] { cuda::dcgan_gen_tensors(bad); }, "E_ARG");
  bad = small_spec();
  bad.disc_channels[1] = 0;
  CHECK_CODE([&] { cuda::dcgan_disc_tensors(bad); }, "E_ARG");
  const cuda::DcganSpec spec = small_spec();
  DcganCpuReference ref(spec);
  cuda::DcganState st;
  st.gen_params = ref.gp.data();
  st.disc_params = ref.dp.data();
  st.gen_buffers = ref.buf.data();
  cuda::DcganSpec norm = spec;
  norm.disc_norm = true;
  CHECK_CODE([&] { cuda::dcgan_upload(norm, st); }, "E_BACKEND");  // not covered, device or not
  cuda::DcganSpec stddev = spec;
  stddev.disc_stddev = true;
  CHECK_CODE([&] { cuda::dcgan_upload(stddev, st); }, "E_BACKEND");
  cuda::DcganState missing = st;
  missing.disc_params = nullptr;
  CHECK_CODE([&] { cuda::dcgan_upload(spec, missing); }, "E_ARG");
  CHECK_CODE(
      [&] { cuda::dcgan_step(nullptr, ref.gp.data(), ref.gp.data(), 4, cuda::DcganStepOptions()); },
      "E_ARG");
  CHECK_CODE([&] { cuda::dcgan_generate(nullptr, ref.gp.data(), 1, ref.gp.data()); }, "E_ARG");
  cuda::dcgan_release(nullptr);
  if (!have_device()) {
    CHECK_CODE([&] { cuda::dcgan_upload(spec, st); }, "E_BACKEND");
    return;
  }
  cuda::DcganDeviceModel* model = cuda::dcgan_upload(spec, st);
  std::vector<float> real(4 * ref.P), z(4 * ref.Z);
  CHECK_CODE([&] { cuda::dcgan_step(model, real.data(), z.data(), 1, cuda::DcganStepOptions()); },
             "E_SHAPE");
  cuda::DcganStepOptions neg;
  neg.gen_lr = -1;
  CHECK_CODE([&] { cuda::dcgan_step(model, real.data(), z.data(), 4, neg); }, "E_ARG");
  CHECK_CODE([&] { cuda::dcgan_step(model, nullptr, z.data(), 4, cuda::DcganStepOptions()); },
             "E_ARG");
  cuda::dcgan_release(model);
}

// The reference itself, on any machine: three steps run through the CPU kernels' checks,
// stay finite and count both Adam steps (so the GPU comparison compares against a step that
// really trains).
TEST(dcgan_cpu_reference_runs_three_steps) {
  DcganCpuReference ref(small_spec());
  init(ref);
  const std::vector<float> before = ref.gp;
  for (int t = 1; t <= 3; ++t) {
    const std::vector<float> real = uniform(4 * ref.P, -1.0f, 1.0f, 940 + t);
    const std::vector<float> z = uniform(4 * ref.Z, -2.0f, 2.0f, 950 + t);
    const cuda::DcganStepResult r = ref.step(real.data(), z.data(), 4, 1e-3);
    CHECK(std::isfinite(r.disc_loss_sum) && std::isfinite(r.gen_loss));
    CHECK(r.disc_grad_norm > 0 && r.gen_grad_norm > 0);
  }
  CHECK_EQ(ref.gen_step, 3);
  CHECK_EQ(ref.disc_step, 3);
  int64_t moved = 0;
  for (size_t i = 0; i < before.size(); ++i) moved += ref.gp[i] != before[i];
  CHECK(moved * 10 > static_cast<int64_t>(before.size()) * 9);
}
