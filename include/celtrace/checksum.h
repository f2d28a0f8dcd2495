// Content digests: SHA-256 (OpenSSL) identifies episodes and leaked files across tools;
// XXH3-128 (xxHash) guards index files, fast enough to verify on every load. Thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace celtrace {

// Returns the lowercase hex SHA-256 of a file's bytes. Throws celtrace::Error on I/O errors.
std::string Sha256File(const std::filesystem::path& path);

// The same for an open file descriptor, read with pread from offset 0 to its end (the
// descriptor's offset is not moved). Throws celtrace::Error naming `label` on read errors.
std::string Sha256Fd(int fd, const std::string& label);

// Returns the lowercase hex SHA-256 of a buffer.
std::string Sha256(std::span<const std::uint8_t> bytes);

// Returns the 32 lowercase hex digits of XXH3-128 over a buffer (canonical big-endian).
std::string Xxh128(std::span<const std::uint8_t> bytes);

}  // namespace celtrace
