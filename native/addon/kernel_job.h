// Runs a kernel off the event loop: an AsyncProgressWorker that settles a Promise.
// The JS buffers the kernel reads or writes are held by persistent references until the
// job settles (JS must not mutate them meanwhile; lib/kernels/native.ts documents this).
// Cancellation: the kernel polls JobHooks::cancel_flag, which points into a JS Int32Array.
// define_pair (below) exports a kernel as a sync / async pair from one description.
#pragma once
#include <napi.h>

#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "../common/job.h"
#include "args.h"
#include "bindings.h"

namespace deepgen {
namespace addon {

class KernelJob final : public Napi::AsyncProgressWorker<double> {
 public:
  using Work = std::function<void(const JobHooks&)>;
  using Result = std::function<Napi::Value(Napi::Env)>;

  // Queues the job and returns its Promise. `keep` are the JS values to keep alive.
  static Napi::Promise start(Napi::Env env, Work work, Result result, Napi::Int32Array cancel,
                             Napi::Function on_progress, const std::vector<Napi::Value>& keep);

 protected:
  void Execute(const ExecutionProgress& progress) override;
  void OnOK() override;
  void OnError(const Napi::Error& e) override;
  void OnProgress(const double* data, size_t count) override;

 private:
  KernelJob(Napi::Env env, Work work, Result result, Napi::Int32Array cancel,
            Napi::Function on_progress);

  Napi::Promise::Deferred deferred_;
  Work work_;
  Result result_;
  Napi::Reference<Napi::Int32Array> cancel_ref_;
  Napi::FunctionReference on_progress_;
  std::vector<Napi::Reference<Napi::Value>> keep_;
  JobHooks hooks_;
  std::string error_code_ = "E_BACKEND";
  std::mutex progress_mu_;  // kernels may report from several pool threads
  double last_reported_ = -1.0;
};

// The JS values an async job must keep alive while it runs. A sync call holds nothing: its
// arguments outlive it. Parsers hold every value their Args point into.
class Keep {
 public:
  explicit Keep(bool async) : async_(async) {}
  // Async jobs read their arguments later, on a pool thread: a parser copies whatever JS could
  // change meanwhile in a way that steers indices (e.g. a NADE ordering).
  bool async() const { return async_; }
  void hold(std::initializer_list<Napi::Value> values) {
    if (async_) values_.insert(values_.end(), values.begin(), values.end());
  }
  const std::vector<Napi::Value>& values() const { return values_; }

 private:
  bool async_;
  std::vector<Napi::Value> values_;
};

// A kernel exported twice from one description: Op::kName runs it on the calling thread
// (for worker_threads and scripts), Op::kAsyncName queues it as a KernelJob and returns a
// Promise; the async call takes two more arguments after Op::kArgs, the cancel flag and an
// optional progress callback. Op provides:
//   static constexpr const char* kName, * kAsyncName;
//   static constexpr size_t kArgs;          // the sync call's argument count
//   struct Args;                            // what the kernel needs: sizes, data pointers
//   static Args parse(const Napi::CallbackInfo&, const char* fn, Keep&);
//                                           // checks everything, holds the JS values
//   static R run(const Args&, const JobHooks&);       // R: void or a result
//   static Napi::Value result(Napi::Env, const R&);   // only when R is not void
template <class Op>
using PairResult = decltype(Op::run(std::declval<const typename Op::Args&>(), no_hooks()));

template <class Op>
Napi::Value run_sync(const Napi::CallbackInfo& info) {
  require_args(info, Op::kArgs, Op::kName);
  Keep keep(false);
  const typename Op::Args args = Op::parse(info, Op::kName, keep);
  if constexpr (std::is_void_v<PairResult<Op>>) {
    Op::run(args, no_hooks());
    return info.Env().Undefined();
  } else {
    return Op::result(info.Env(), Op::run(args, no_hooks()));
  }
}

template <class Op>
Napi::Value run_async(const Napi::CallbackInfo& info) {
  const char* fn = Op::kAsyncName;
  require_args(info, Op::kArgs + 1, fn);
  Keep keep(true);
  auto args = std::make_shared<const typename Op::Args>(Op::parse(info, fn, keep));
  Napi::Int32Array cancel = arg_cancel(info, Op::kArgs, fn);
  Napi::Function progress = arg_optional_fn(info, Op::kArgs + 1, fn, "onProgress");
  using R = PairResult<Op>;
  if constexpr (std::is_void_v<R>) {
    return KernelJob::start(
        info.Env(), [args](const JobHooks& hooks) { Op::run(*args, hooks); },
        [](Napi::Env env) { return env.Undefined(); }, cancel, progress, keep.values());
  } else {
    auto out = std::make_shared<R>();
    return KernelJob::start(
        info.Env(), [args, out](const JobHooks& hooks) { *out = Op::run(*args, hooks); },
        [out](Napi::Env env) { return Op::result(env, *out); }, cancel, progress, keep.values());
  }
}

template <class Op>
void define_pair(Napi::Env env, Napi::Object exports) {
  define(env, exports, Op::kName, run_sync<Op>);
  define(env, exports, Op::kAsyncName, run_async<Op>);
}

}  // namespace addon
}  // namespace deepgen
