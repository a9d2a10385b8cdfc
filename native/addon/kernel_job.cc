#include "kernel_job.h"

#include <new>

#include "../common/thread_pool.h"
#include "args.h"

namespace deepgen {
namespace addon {

KernelJob::KernelJob(Napi::Env env, Work work, Result result, Napi::Int32Array cancel,
                     Napi::Function on_progress)
    : Napi::AsyncProgressWorker<double>(env, "deepgen:kernel"),
      deferred_(Napi::Promise::Deferred::New(env)),
      work_(std::move(work)),
      result_(std::move(result)),
      cancel_ref_(Napi::Persistent(cancel)) {
  hooks_.cancel_flag = cancel.Data();
  if (!on_progress.IsEmpty()) on_progress_ = Napi::Persistent(on_progress);
}

Napi::Promise KernelJob::start(Napi::Env env, Work work, Result result, Napi::Int32Array cancel,
                               Napi::Function on_progress, const std::vector<Napi::Value>& keep) {
  auto* job = new KernelJob(env, std::move(work), std::move(result), cancel, on_progress);
  try {
    // Only objects need keeping alive (null/undefined stand for absent optional buffers).
    for (const Napi::Value& v : keep) {
      if (v.IsObject()) job->keep_.push_back(Napi::Persistent(v));
    }
  } catch (...) {
    delete job;  // never queued: nothing else owns it
    throw;
  }
  Napi::Promise promise = job->deferred_.Promise();
  job->Queue();  // the worker deletes itself after OnOK / OnError
  return promise;
}

void KernelJob::Execute(const ExecutionProgress& progress) {
  // This libuv thread computes from now on: the event loop keeps its priority.
  deprioritize_compute_thread();
  const bool wants_progress = !on_progress_.IsEmpty();
  if (wants_progress) {
    hooks_.progress = [this, &progress](double f) {
      // Throttle: a progress message crosses threads and wakes the event loop. Reports that
      // arrive out of order from different pool threads are dropped, so JS sees them rise.
      std::lock_guard<std::mutex> lock(progress_mu_);
      if (f < 1.0 && f - last_reported_ < 0.01) return;
      last_reported_ = f;
      progress.Send(&f, 1);
    };
  }
  try {
    work_(hooks_);
  } catch (const Cancelled&) {
    error_code_ = "E_ABORTED";
    SetError("operation aborted");
  } catch (const KernelError& e) {
    error_code_ = e.code();
    SetError(e.what());
  } catch (const std::bad_alloc&) {
    SetError("out of memory");
  } catch (const std::exception& e) {
    SetError(e.what());
  }
  hooks_.progress = nullptr;
}

void KernelJob::OnOK() {
  Napi::Env env = Env();
  try {
    deferred_.Resolve(result_(env));
  } catch (const Napi::Error& e) {
    deferred_.Reject(e.Value());
  }
}

void KernelJob::OnError(const Napi::Error& e) {
  Napi::Error err = make_error(Env(), error_code_.c_str(), e.Message());
  deferred_.Reject(err.Value());
}

void KernelJob::OnProgress(const double* data, size_t count) {
  if (on_progress_.IsEmpty() || count == 0) return;
  // The TS wrapper catches errors thrown by user callbacks, so this call does not throw.
  on_progress_.Call({Napi::Number::New(Env(), data[count - 1])});
}

}  // namespace addon
}  // namespace deepgen
