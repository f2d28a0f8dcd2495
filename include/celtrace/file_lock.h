// An exclusive flock() on a file, held for the object's life and released when it ends (or
// when the process dies): one writer of an index folder, one run of a job folder.
#pragma once

#include <filesystem>
#include <optional>

namespace celtrace {

class FileLock {
 public:
  // The lock on `path` (the file is created if missing), or nothing when another process
  // holds it. Throws celtrace::Error if the file cannot be opened.
  static std::optional<FileLock> TryAcquire(const std::filesystem::path& path);

  FileLock(FileLock&& other) noexcept;
  FileLock& operator=(FileLock&& other) noexcept;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  ~FileLock();

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace celtrace
