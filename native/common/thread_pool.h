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
// default 10; 0 leaves it) so that background compute (the pool's workers, the threads that
// run async jobs) yields the cores to the event loop when they are all busy: a server stays
// responsive while its jobs run. Idle cores still run the compute at full speed. No-op
// elsewhere and on later calls from the same thread.
void deprioritize_compute_thread();

}  // namespace deepgen
