// HashIndex is the FAISS binary index of one hash channel: entry ids are sequential
// (0..size-1, the order of Add), distances Hamming bits. Searches on a const index are
// thread-safe; Add is not. FAISS types stay behind this interface.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace faiss {
struct IndexBinary;
}

namespace celtrace {

struct Neighbor {
  std::int64_t id = 0;  // entry id
  int distance = 0;     // Hamming bits

  friend auto operator<=>(const Neighbor&, const Neighbor&) = default;
};

class HashIndex {
 public:
  // An empty exhaustive (IndexBinaryFlat) index of `bits`-bit codes (a multiple of 8). For
  // 256-bit codes its scan uses the fastest Hamming kernel the CPU runs (SearchKernelName).
  explicit HashIndex(int bits = 256);
  ~HashIndex();
  HashIndex(HashIndex&&) noexcept;
  HashIndex& operator=(HashIndex&&) noexcept;

  int bits() const;
  int code_size() const { return bits() / 8; }
  std::int64_t size() const;
  std::string type_name() const;  // e.g. "IndexBinaryFlat"

  // Appends codes.size() / code_size() codes; their ids continue from size(). Throws
  // celtrace::Error if the span is not a whole number of codes.
  void Add(std::span<const std::uint8_t> codes);

  // Returns, for each query code, the entries within `max_distance` bits, nearest first
  // (ties by id), at most `limit` of them.
  std::vector<std::vector<Neighbor>> Search(std::span<const std::uint8_t> queries, int max_distance,
                                            int limit) const;

  // Returns the code stored for entry `id`.
  std::vector<std::uint8_t> Code(std::int64_t id) const;

  // FAISS's serialised form, for writing to disk: a flat index is written as a plain
  // IndexBinaryFlat, which any FAISS reads.
  std::vector<std::uint8_t> Serialize() const;
  // Parses FAISS's serialised form. Callers verify checksums first. Throws
  // celtrace::IndexError if FAISS rejects the bytes.
  static HashIndex Deserialize(std::span<const std::uint8_t> bytes);

 private:
  explicit HashIndex(std::unique_ptr<faiss::IndexBinary> index);
  std::unique_ptr<faiss::IndexBinary> index_;
};

// Sets the OpenMP threads FAISS may use inside one Search call, for every thread that
// searches afterwards. Callers that search from many threads at once (TBB tasks) set 1 so
// FAISS's OpenMP teams do not oversubscribe the cores; default: OpenMP's own.
void SetFaissThreads(int threads);

// The Hamming scan exhaustive 256-bit searches run on this CPU, chosen at run time:
// "avx512" (VPOPCNTDQ), "popcnt" or "generic".
std::string SearchKernelName();

// The FAISS library version the program was built with, e.g. "1.7.3".
std::string FaissVersion();

}  // namespace celtrace
