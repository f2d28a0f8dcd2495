// ReadAt: the one loop that fills a buffer from a file descriptor with pread, for every
// reader that must not move the descriptor's offset (content sniffing, whole small files,
// a job's journal).
#pragma once

#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace celtrace {

// Reads up to `size` bytes at `offset` of `fd` into `buffer` (the descriptor's offset is not
// moved), retrying interrupted and short reads; it stops short only at the end of the file.
// Returns the bytes read, or -1 with errno set.
inline std::int64_t ReadAt(int fd, void* buffer, std::size_t size, std::uint64_t offset) {
  std::size_t filled = 0;
  while (filled < size) {
    const ssize_t got = ::pread(fd, static_cast<char*>(buffer) + filled, size - filled,
                                static_cast<off_t>(offset + filled));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return -1;
    if (got == 0) break;
    filled += static_cast<std::size_t>(got);
  }
  return static_cast<std::int64_t>(filled);
}

}  // namespace celtrace
