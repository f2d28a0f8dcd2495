// Private to core/: FastBinaryFlat is a faiss::IndexBinaryFlat whose exhaustive search scans
// 256-bit codes with a Hamming kernel chosen at run time by CPU features (AVX-512 VPOPCNTDQ,
// POPCNT, or portable code), because Debian's FAISS is built with a software popcount. It
// owns its codes (`xb`, the parent's layout) and serialises as a plain IndexBinaryFlat.
// search and range_search are const and thread-safe; add, reset and set_kernel are not.
#pragma once

#include <faiss/IndexBinaryFlat.h>

#include <cstdint>
#include <string>

namespace celtrace {

// The Hamming scans FastBinaryFlat can run. kAuto stands for the fastest this CPU supports.
enum class HammingKernel { kAuto, kGeneric, kPopcnt, kAvx512 };

// Returns whether this CPU (and OS) can run `kernel`; kAuto and kGeneric always can.
bool KernelSupported(HammingKernel kernel);
// Returns the fastest kernel this CPU runs (never kAuto).
HammingKernel BestKernel();
// Returns "generic", "popcnt", "avx512" or "auto".
std::string KernelName(HammingKernel kernel);

class FastBinaryFlat : public faiss::IndexBinaryFlat {
 public:
  // An empty index of `d`-bit codes. Codes of other lengths than 256 bits are searched by
  // the parent's scan.
  explicit FastBinaryFlat(idx_t d);
  // Takes over the codes and settings of `flat` (as read from disk), leaving it empty.
  explicit FastBinaryFlat(faiss::IndexBinaryFlat&& flat);

  // FAISS's k-NN search, with FAISS's results: per query the k smallest (distance, id)
  // pairs in that order, padded with (INT32_MAX, -1). Throws faiss::FaissException if
  // k <= 0 or params is set.
  void search(idx_t n, const std::uint8_t* x, idx_t k, std::int32_t* distances, idx_t* labels,
              const faiss::SearchParameters* params = nullptr) const override;

  // FAISS's range search: per query, the entries at distance < radius, by increasing id.
  void range_search(idx_t n, const std::uint8_t* x, int radius, faiss::RangeSearchResult* result,
                    const faiss::SearchParameters* params = nullptr) const override;

  // Forces a kernel (tests, benchmarks); kAuto selects BestKernel(). Throws
  // celtrace::Error if the CPU cannot run it.
  void set_kernel(HammingKernel kernel);
  // The kernel searches run (never kAuto).
  HammingKernel kernel() const { return kernel_; }

 private:
  HammingKernel kernel_;
};

}  // namespace celtrace
