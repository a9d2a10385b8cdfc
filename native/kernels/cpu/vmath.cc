// Plain (libm, double precision) versions of vmath.h and the run-time dispatch.
#include "vmath.h"

#include <algorithm>
#include <cmath>

#include "../../common/cpu_features.h"
#include "../../common/errors.h"
#include "../../common/thread_pool.h"

namespace deepgen {

// ---- plain elementwise spans ---------------------------------------------------------------

void exp_span_plain(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::exp(static_cast<double>(x[i])));
}

void log_span_plain(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::log(static_cast<double>(x[i])));
}

void sigmoid_span_plain(const float* x, float* y, int64_t n) {
  // In double exp(-x) overflows only where the float result is 0 anyway.
  for (int64_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x[i]))));
  }
}

void tanh_span_plain(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(std::tanh(static_cast<double>(x[i])));
}

void softplus_span_plain(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    y[i] = static_cast<float>(std::fmax(v, 0.0) + std::log1p(std::exp(-std::fabs(v))));
    if (std::isnan(v)) y[i] = x[i];  // fmax would have dropped the NaN
  }
}

void one_minus_exp_neg_span_plain(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    y[i] = static_cast<float>(-std::expm1(-static_cast<double>(x[i])));
  }
}

// ---- plain reductions ------------------------------------------------------------------------

double sum_f64_plain(const float* x, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

double sum_sq_centered_f64_plain(const float* x, int64_t n, double center) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = x[i] - center;
    s += d * d;
  }
  return s;
}

double dot_centered_f64_plain(const float* a, const float* b, int64_t n, double center) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(a[i]) * (b[i] - center);
  return s;
}

void accumulate_f64_plain(double* acc, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += x[i];
}

// ---- dispatch --------------------------------------------------------------------------------

void exp_span(const float* x, float* y, int64_t n) {
  if (use_avx2_fma())
    exp_span_avx2(x, y, n);
  else
    exp_span_plain(x, y, n);
}
void log_span(const float* x, float* y, int64_t n) {
  if (use_avx2_fma())
    log_span_avx2(x, y, n);
  else
    log_span_plain(x, y, n);
}
void sigmoid_span(const float* x, float* y, int64_t n) {
  if (use_avx2_fma())
    sigmoid_span_avx2(x, y, n);
  else
    sigmoid_span_plain(x, y, n);
}
void tanh_span(const float* x, float* y, int64_t n) {
  if (use_avx2_fma())
    tanh_span_avx2(x, y, n);
  else
    tanh_span_plain(x, y, n);
}
void softplus_span(const float* x, float* y, int64_t n) {
  if (use_avx2_fma())
    softplus_span_avx2(x, y, n);
  else
    softplus_span_plain(x, y, n);
}
void one_minus_exp_neg_span(const float* x, float* y, int64_t n) {
  if (use_avx2_fma())
    one_minus_exp_neg_span_avx2(x, y, n);
  else
    one_minus_exp_neg_span_plain(x, y, n);
}
double sum_f64(const float* x, int64_t n) {
  return use_avx2_fma() ? sum_f64_avx2(x, n) : sum_f64_plain(x, n);
}
double sum_sq_centered_f64(const float* x, int64_t n, double center) {
  return use_avx2_fma() ? sum_sq_centered_f64_avx2(x, n, center)
                        : sum_sq_centered_f64_plain(x, n, center);
}
double dot_centered_f64(const float* a, const float* b, int64_t n, double center) {
  return use_avx2_fma() ? dot_centered_f64_avx2(a, b, n, center)
                        : dot_centered_f64_plain(a, b, n, center);
}

void accumulate_f64(double* acc, const float* x, int64_t n) {
  if (use_avx2_fma())
    accumulate_f64_avx2(acc, x, n);
  else
    accumulate_f64_plain(acc, x, n);
}

// ---- threaded whole-array kernels ----------------------------------------------------------

namespace {

void elementwise(const char* name, void (*span)(const float*, float*, int64_t), const float* x,
                 float* y, int64_t n) {
  if (n < 0) throw KernelError("E_ARG", std::string(name) + ": negative length");
  if (n == 0) return;
  if (x == nullptr || y == nullptr) throw KernelError("E_ARG", std::string(name) + ": null array");
  const int64_t chunks = (n + kElementwiseChunk - 1) / kElementwiseChunk;
  parallel_for(chunks, [&](int64_t c) {
    const int64_t begin = c * kElementwiseChunk;
    span(x + begin, y + begin, std::min(kElementwiseChunk, n - begin));
  });
}

}  // namespace

void vexp(const float* x, float* y, int64_t n) { elementwise("vexp", exp_span, x, y, n); }
void vlog(const float* x, float* y, int64_t n) { elementwise("vlog", log_span, x, y, n); }

}  // namespace deepgen
