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

// The command line cannot be carried out as given, whatever is retried: an output path that
// cannot be written, a job folder started with other inputs or options, or in use by another
// run. Programs exit with code 2, as for an option they cannot parse; other failures of a
// run under way (a full disk, a worker that cannot start) are not usage errors.
class UsageError : public Error {
 public:
  using Error::Error;
};

}  // namespace celtrace
