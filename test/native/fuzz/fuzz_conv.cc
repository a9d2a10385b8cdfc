// conv2d and conv_transpose2d (forward, backward data, backward weight) with fuzzed
// geometry, masks and widths wide enough to take the AVX2 direct paths: every buffer is
// exactly the size the *_size functions give, and the fast kernels must equal their twins.
#include "../../../native/common/errors.h"
#include "../../../native/kernels/cpu/conv2d.h"
#include "../../../native/kernels/cpu/conv_transpose2d.h"
#include "fuzz_input.h"

namespace {

// Mostly valid geometry (so most inputs reach the kernels); one input in eight breaks one
// field, which the check must refuse.
template <typename P>
void read_geometry(fuzz::Input& in, P& p) {
  p.batch = in.range(0, 3);
  p.in_c = in.range(0, 5);
  p.in_h = in.range(1, 12);
  p.in_w = in.range(1, 12);
  p.out_c = in.range(0, 40);
  p.k_h = in.range(1, 5);
  p.k_w = in.range(1, 5);
  p.stride_h = in.range(1, 3);
  p.stride_w = in.range(1, 3);
  p.pad_h = in.range(0, 3);
  p.pad_w = in.range(0, 3);
  if (in.range(0, 7) == 0) {
    int64_t* fields[] = {&p.in_h,     &p.in_w,  &p.k_h,   &p.k_w,  &p.stride_h,
                         &p.stride_w, &p.pad_h, &p.pad_w, &p.batch};
    *fields[in.range(0, 8)] = in.range(-3, 0);
  }
}

void fuzz_conv2d(fuzz::Input& in) {
  deepgen::Conv2dParams p;
  read_geometry(in, p);
  p.mask = static_cast<deepgen::ConvMask>(in.range(0, 2));
  int64_t ho = 0, wo = 0;
  try {
    deepgen::conv2d_check(p, &ho, &wo);
  } catch (const deepgen::KernelError&) {
    return;
  }
  ++fuzz::reached;
  const auto x = in.values(deepgen::conv2d_x_size(p));
  const auto w = in.values(deepgen::conv2d_weight_size(p));
  const auto bias = in.values(p.out_c);
  const auto dy = in.values(deepgen::conv2d_y_size(p));
  std::vector<float> y(dy.size()), y_plain(dy.size());
  deepgen::conv2d_forward(x.data(), w.data(), bias.data(), y.data(), p);
  deepgen::conv2d_forward_plain(x.data(), w.data(), bias.data(), y_plain.data(), p);
  fuzz::expect_close("conv2d_forward", y, y_plain);
  std::vector<float> dx(x.size()), dx_plain(x.size());
  deepgen::conv2d_backward_data(dy.data(), w.data(), dx.data(), p);
  deepgen::conv2d_backward_data_plain(dy.data(), w.data(), dx_plain.data(), p);
  fuzz::expect_close("conv2d_backward_data", dx, dx_plain);
  const bool accumulate = in.flag();
  std::vector<float> dw = w, dw_plain = w, db = bias, db_plain = bias;
  deepgen::conv2d_backward_weight(x.data(), dy.data(), dw.data(), db.data(), p, accumulate);
  deepgen::conv2d_backward_weight_plain(x.data(), dy.data(), dw_plain.data(), db_plain.data(), p,
                                        accumulate);
  fuzz::expect_close("conv2d_backward_weight", dw, dw_plain);
  fuzz::expect_close("conv2d_backward_bias", db, db_plain);
}

void fuzz_conv_transpose2d(fuzz::Input& in) {
  deepgen::ConvTranspose2dParams p;
  read_geometry(in, p);
  p.out_pad_h = in.range(0, 2);
  p.out_pad_w = in.range(0, 2);
  int64_t ho = 0, wo = 0;
  try {
    deepgen::conv_transpose2d_check(p, &ho, &wo);
  } catch (const deepgen::KernelError&) {
    return;
  }
  ++fuzz::reached;
  const auto x = in.values(deepgen::conv_transpose2d_x_size(p));
  const auto w = in.values(deepgen::conv_transpose2d_weight_size(p));
  const auto bias = in.values(p.out_c);
  const auto dy = in.values(deepgen::conv_transpose2d_y_size(p));
  std::vector<float> y(dy.size()), y_plain(dy.size());
  deepgen::conv_transpose2d_forward(x.data(), w.data(), bias.data(), y.data(), p);
  deepgen::conv_transpose2d_forward_plain(x.data(), w.data(), bias.data(), y_plain.data(), p);
  fuzz::expect_close("conv_transpose2d_forward", y, y_plain);
  std::vector<float> dx(x.size()), dx_plain(x.size());
  deepgen::conv_transpose2d_backward_data(dy.data(), w.data(), dx.data(), p);
  deepgen::conv_transpose2d_backward_data_plain(dy.data(), w.data(), dx_plain.data(), p);
  fuzz::expect_close("conv_transpose2d_backward_data", dx, dx_plain);
  const bool accumulate = in.flag();
  std::vector<float> dw = w, dw_plain = w, db = bias, db_plain = bias;
  deepgen::conv_transpose2d_backward_weight(x.data(), dy.data(), dw.data(), db.data(), p,
                                            accumulate);
  deepgen::conv_transpose2d_backward_weight_plain(x.data(), dy.data(), dw_plain.data(),
                                                  db_plain.data(), p, accumulate);
  fuzz::expect_close("conv_transpose2d_backward_weight", dw, dw_plain);
  fuzz::expect_close("conv_transpose2d_backward_bias", db, db_plain);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  if (in.flag()) {
    fuzz_conv2d(in);
  } else {
    fuzz_conv_transpose2d(in);
  }
  return 0;
}
