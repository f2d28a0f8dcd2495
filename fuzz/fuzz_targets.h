// The fuzz targets of celtrace: the code that reads hostile bytes. Each takes one input and
// returns 0; an oracle violation aborts (__builtin_trap) so that libFuzzer (fuzz/*_fuzzer.cpp,
// preset `fuzz`) and the suite's replay test (tests/fuzz_targets_test.cpp) both see it. A
// target may be called repeatedly from one thread; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace celtrace::fuzz {

// Content sniffing (SniffMediaKind, SniffImageSize), then decoding as the matcher does
// (OpenCV for stills under a pixel limit, VideoReader over memory for clips, at most 16
// frames) and PDQ hashing of what decodes.
int SniffDecodeHash(const std::uint8_t* data, std::size_t size);

// The archive walker on the input as a file: every item must be labelled under the root,
// members within the member limit, and the walk must end within the entry budget.
int WalkArchive(const std::uint8_t* data, std::size_t size);

// The index loader's checksum gate: one file of a valid generation (manifest.json,
// pdq.faiss, catalog.sqlite or CURRENT; chosen by the first byte) is replaced by or overlaid
// with the input. Index::Open must refuse it (IndexError) unless the data files are the
// ones checksummed: FAISS and SQLite never parse unverified bytes.
int LoadIndex(const std::uint8_t* data, std::size_t size);

}  // namespace celtrace::fuzz
