// Errors thrown by kernels. The addon turns them into JS errors carrying the same stable
// code as DeepgenError (lib/core/errors.ts), so native failures never abort the process.
#pragma once
#include <stdexcept>
#include <string>

namespace deepgen {

class KernelError : public std::runtime_error {
 public:
  KernelError(const char* code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;  // always a string literal: E_ARG, E_SHAPE, E_BACKEND, ...
};

// Thrown from inside a kernel when its job's cancel flag is raised.
class Cancelled : public std::exception {
 public:
  const char* what() const noexcept override { return "operation aborted"; }
};

}  // namespace deepgen
