// The timing-sensitive tests (an event loop kept free while native jobs and ONNX sessions
// run), run after the main suite and one file at a time: beside other test files' compute on
// a small machine, a timer's lateness would measure that compute, not the code under test.
export default {
  extensions: { ts: "module" },
  nodeArguments: ["--import=tsx"],
  workerThreads: false,
  files: ["test/event-loop.test.ts", "test/onnx-async.test.ts"],
  concurrency: 1,
  timeout: "5m",
};
