// Runs a kernel off the event loop: an AsyncProgressWorker that settles a Promise.
// The JS buffers the kernel reads or writes are held by persistent references until the
// job settles (JS must not mutate them meanwhile; lib/kernels/native.ts documents this).
// Cancellation: the kernel polls JobHooks::cancel_flag, which points into a JS Int32Array.
#pragma once
#include <napi.h>

#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <vector>

#include "../common/job.h"

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

}  // namespace addon
}  // namespace deepgen
