// The native thread pool. One process-wide pool; `parallel_for` splits a range of chunk
// indices over the pool's workers AND the calling thread. The caller always takes part, so
// concurrent or nested parallel_for calls make progress even when every worker is busy.
//
// Size: DEEPGEN_THREADS if set (>= 1), else std::thread::hardware_concurrency().
// `set_thread_limit` changes how many threads later calls use (benchmarks run 1 and 2).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

namespace deepgen {

// Number of threads parallel_for uses (caller included).
int thread_limit();
// Sets the limit; n < 1 is clamped to 1. The pool grows lazily to n - 1 workers.
void set_thread_limit(int n);
// Default limit from the environment / hardware (what thread_limit() starts at).
int default_thread_limit();

// Runs fn(chunk) for every chunk in [0, num_chunks), at most `max_threads` at once
// (0 = thread_limit()). Blocks until all chunks are done. The first exception thrown by any
// chunk is rethrown here after the others finish; chunks not yet started are skipped.
// Results must not depend on which thread runs a chunk: kernels partition by chunk index only.
void parallel_for(int64_t num_chunks, const std::function<void(int64_t)>& fn, int max_threads = 0);

// Lowers the calling thread's scheduling priority once (Linux: nice + DEEPGEN_COMPUTE_NICE,
// default 10; 0 leaves it). The threads that run async jobs call it, so that when the cores are
// all busy the event loop preempts them: a server stays responsive while its jobs run. The
// pool's workers keep their priority: a sync call's helpers niced beside a caller that is not
// were left waiting on its core (measured: a 2-thread forward no faster than 1 thread), and
// an async job's helpers share the cores with a niced caller anyway. No-op elsewhere and on
// later calls from the same thread.
void deprioritize_compute_thread();

}  // namespace deepgen
