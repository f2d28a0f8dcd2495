// celtrace::Error is the one exception type of the celtrace libraries: bad input, I/O
// failures and errors translated from FFmpeg, FAISS or OpenCV. Only main() catches it.
#pragma once

#include <stdexcept>
#include <string>

namespace celtrace {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The index directory is missing, corrupted or incompatible: programs exit with code 3.
class IndexError : public Error {
 public:
  using Error::Error;
};

}  // namespace celtrace
