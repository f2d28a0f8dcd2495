#include "fast_binary_flat.h"

#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissAssert.h>
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cassert>
#include <compare>
#include <cstring>
#include <limits>
#include <vector>

#include "celtrace/error.h"

// The scan is the textbook exhaustive Hamming search FAISS also runs (XOR, population count,
// keep what is under a bound); it differs in how distances are computed and how the work is
// laid out:
//  - The kernel is chosen at run time, each compiled for its instruction set with a
//    per-function target attribute, so the binary still runs on CPUs without AVX-512.
//  - The AVX-512 kernel computes 8 distances per step without leaving vector registers and
//    compares them with the sink's bound at once; the scalar path only sees the rare codes
//    under the bound (k-NN: the current k-th distance; range: the radius).
//  - Batches scan the codes block by block (kBlockCodes, L1-sized), every query of a query
//    block on one block before the next, so a code comes from memory once per query block.
//  - OpenMP threads take query blocks; when there are fewer query blocks than threads, the
//    codes are also cut into slices whose results are merged in id order afterwards.

namespace celtrace {
namespace {

using idx_t = faiss::IndexBinary::idx_t;

constexpr int kFastBits = 256;
constexpr std::size_t kCodeBytes = kFastBits / 8;
constexpr std::size_t kCodeWords = kCodeBytes / 8;
// Above every 256-bit distance: a sink with this bound takes every candidate.
constexpr int kNoBound = kFastBits + 1;
// 32 KB of codes: stays in a 48 KB L1 data cache while a query block scans it.
constexpr std::size_t kBlockCodes = 1024;
// Queries sharing each block load; enough to make a batch compute-bound, not memory-bound.
constexpr std::size_t kQueryBlock = 64;
// Codes per thread below which splitting one query's scan is not worth an OpenMP fork/join:
// 2 MB, about 70 us of streaming, against a few microseconds of fork/join on idle cores.
constexpr std::size_t kMinSliceCodes = 65536;

struct Query {
  std::uint64_t words[kCodeWords];
};

Query LoadQuery(const std::uint8_t* code) {
  Query query;
  std::memcpy(query.words, code, kCodeBytes);
  return query;
}

inline std::uint64_t LoadWord(const std::uint8_t* bytes) {
  std::uint64_t word;
  std::memcpy(&word, bytes, sizeof word);
  return word;
}

struct Hit {
  int distance = 0;
  idx_t id = 0;

  friend auto operator<=>(const Hit&, const Hit&) = default;
};

// The k smallest (distance, id) pairs offered, as a max-heap: FAISS's result exactly, ties
// going to the smaller id, in whatever order slices are merged.
class KnnSink {
 public:
  explicit KnnSink(std::size_t k) : k_(k) {}

  // Candidates at distance < bound() may enter. Within one scan ids only increase, so a
  // candidate that ties the k-th distance never displaces it and need not be offered.
  int bound() const { return bound_; }

  void Offer(int distance, idx_t id) {
    const Hit hit{distance, id};
    if (heap_.size() < k_) {
      heap_.push_back(hit);
      std::push_heap(heap_.begin(), heap_.end());
    } else if (hit < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = hit;
      std::push_heap(heap_.begin(), heap_.end());
    } else {
      return;
    }
    if (heap_.size() == k_) bound_ = heap_.front().distance;
  }

  void Merge(const KnnSink& later) {
    for (const Hit& hit : later.heap_) Offer(hit.distance, hit.id);
  }

  // Writes k (distance, label) pairs nearest first, padded as FAISS pads: (INT32_MAX, -1).
  void Write(std::int32_t* distances, idx_t* labels) {
    std::sort_heap(heap_.begin(), heap_.end());
    for (std::size_t j = 0; j < k_; ++j) {
      distances[j] =
          j < heap_.size() ? heap_[j].distance : std::numeric_limits<std::int32_t>::max();
      labels[j] = j < heap_.size() ? heap_[j].id : -1;
    }
  }

 private:
  std::size_t k_;
  int bound_ = kNoBound;
  std::vector<Hit> heap_;
};

// Every candidate at distance < radius, in the order offered (increasing id).
class RangeSink {
 public:
  explicit RangeSink(int radius) : bound_(std::clamp(radius, 0, kNoBound)) {}

  int bound() const { return bound_; }
  void Offer(int distance, idx_t id) { hits_.push_back({distance, id}); }
  // `later` scanned ids after ours, so appending keeps the order.
  void Merge(const RangeSink& later) {
    hits_.insert(hits_.end(), later.hits_.begin(), later.hits_.end());
  }
  const std::vector<Hit>& hits() const { return hits_; }

 private:
  int bound_;
  std::vector<Hit> hits_;
};

// Portable: a SWAR bit count (Knuth, TAOCP 7.1.3), summing the four words' byte counts
// before the final horizontal add. Distances reach 256, so that add uses 16-bit fields.
inline int GenericDistance(const Query& query, const std::uint8_t* code) {
  constexpr std::uint64_t kOnes = 0x5555555555555555, kTwos = 0x3333333333333333,
                          kNibbles = 0x0f0f0f0f0f0f0f0f, kBytes = 0x00ff00ff00ff00ff;
  // A 4-trip loop, which GCC -O2 vectorises with SSE2 (two words per instruction).
  std::uint64_t byte_counts = 0;
  for (std::size_t w = 0; w < kCodeWords; ++w) {
    std::uint64_t x = query.words[w] ^ LoadWord(code + 8 * w);
    x -= (x >> 1) & kOnes;
    x = (x & kTwos) + ((x >> 2) & kTwos);
    byte_counts += (x + (x >> 4)) & kNibbles;
  }
  const std::uint64_t pair_counts = (byte_counts & kBytes) + ((byte_counts >> 8) & kBytes);
  return static_cast<int>((pair_counts * 0x0001000100010001) >> 48);
}

template <class Sink>
void ScanGeneric(const Query& query, const std::uint8_t* codes, std::size_t count, idx_t first_id,
                 Sink& sink) {
  for (std::size_t i = 0; i < count; ++i) {
    const int distance = GenericDistance(query, codes + i * kCodeBytes);
    if (distance < sink.bound()) sink.Offer(distance, first_id + static_cast<idx_t>(i));
  }
}

// Written out word by word: GCC -O2 keeps a 4-trip loop rolled, which costs a third.
__attribute__((target("popcnt"))) inline int PopcntDistance(const Query& query,
                                                            const std::uint8_t* code) {
  return __builtin_popcountll(query.words[0] ^ LoadWord(code)) +
         __builtin_popcountll(query.words[1] ^ LoadWord(code + 8)) +
         __builtin_popcountll(query.words[2] ^ LoadWord(code + 16)) +
         __builtin_popcountll(query.words[3] ^ LoadWord(code + 24));
}

template <class Sink>
__attribute__((target("popcnt"))) void ScanPopcnt(const Query& query, const std::uint8_t* codes,
                                                  std::size_t count, idx_t first_id, Sink& sink) {
  for (std::size_t i = 0; i < count; ++i) {
    const int distance = PopcntDistance(query, codes + i * kCodeBytes);
    if (distance < sink.bound()) sink.Offer(distance, first_id + static_cast<idx_t>(i));
  }
}

// After the reduction in ScanAvx512, lane l of the distance vector holds code kCodeOfLane[l]
// of the 8 (the permutation is its own inverse, so it also maps codes to lanes).
constexpr int kCodeOfLane[8] = {0, 2, 1, 3, 4, 6, 5, 7};

// GCC 12's AVX-512 intrinsics seed their unused merge operand with a self-initialised
// variable (`__Y = __Y`), which -Wuninitialized reports at every use (GCC PR 105593).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
template <class Sink>
__attribute__((target("popcnt,avx2,avx512f,avx512vpopcntdq"))) void ScanAvx512(
    const Query& query, const std::uint8_t* codes, std::size_t count, idx_t first_id, Sink& sink) {
  // The query twice: one 512-bit register meets two codes.
  const __m512i query2 =
      _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(query.words)));
  // 64-bit lane indices into (ab, cd) of their even and odd 128-bit lanes (see below).
  const __m512i even_lanes = _mm512_setr_epi64(0, 1, 4, 5, 8, 9, 12, 13);
  const __m512i odd_lanes = _mm512_setr_epi64(2, 3, 6, 7, 10, 11, 14, 15);
  __m512i bound = _mm512_set1_epi64(sink.bound());
  std::size_t i = 0;
  for (; i + 8 <= count; i += 8) {
    const std::uint8_t* p = codes + i * kCodeBytes;
    // Word counts: a = codes 0,1; b = 2,3; c = 4,5; d = 6,7 (4 words each).
    const __m512i a = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p), query2));
    const __m512i b = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 64), query2));
    const __m512i c = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 128), query2));
    const __m512i d = _mm512_popcnt_epi64(_mm512_xor_si512(_mm512_loadu_si512(p + 192), query2));
    // Adding within 128-bit lanes leaves, per lane of ab, a half-code sum of a and one of b:
    // [0:w01 2:w01 | 0:w23 2:w23 | 1:w01 3:w01 | 1:w23 3:w23]; likewise cd for codes 4-7.
    const __m512i ab = _mm512_add_epi64(_mm512_unpacklo_epi64(a, b), _mm512_unpackhi_epi64(a, b));
    const __m512i cd = _mm512_add_epi64(_mm512_unpacklo_epi64(c, d), _mm512_unpackhi_epi64(c, d));
    // Adding the even 128-bit lanes to the odd ones completes each code: codes 0 2 1 3 4 6 5 7.
    const __m512i distances = _mm512_add_epi64(_mm512_permutex2var_epi64(ab, even_lanes, cd),
                                               _mm512_permutex2var_epi64(ab, odd_lanes, cd));
    const __mmask8 hits = _mm512_cmplt_epu64_mask(distances, bound);
    if (hits != 0) [[unlikely]] {
      alignas(64) std::uint64_t lanes[8];
      _mm512_store_si512(lanes, distances);
      for (int code = 0; code < 8; ++code) {  // in id order, as the sinks expect
        const int lane = kCodeOfLane[code];
        if ((hits >> lane) & 1) {
          sink.Offer(static_cast<int>(lanes[lane]), first_id + static_cast<idx_t>(i) + code);
        }
      }
      bound = _mm512_set1_epi64(sink.bound());
    }
  }
  for (; i < count; ++i) {
    const int distance = PopcntDistance(query, codes + i * kCodeBytes);
    if (distance < sink.bound()) sink.Offer(distance, first_id + static_cast<idx_t>(i));
  }
}

#pragma GCC diagnostic pop

template <class Sink>
using ScanFunction = void (*)(const Query&, const std::uint8_t*, std::size_t, idx_t, Sink&);

template <class Sink>
ScanFunction<Sink> ScanFor(HammingKernel kernel) {
  switch (kernel) {
    case HammingKernel::kAvx512:
      return &ScanAvx512<Sink>;
    case HammingKernel::kPopcnt:
      return &ScanPopcnt<Sink>;
    default:
      return &ScanGeneric<Sink>;
  }
}

// Scans `ntotal` codes for `n` queries and returns one sink per query, each a copy of
// `empty` that has been offered every code under its bound.
template <class Sink>
std::vector<Sink> ScanAll(HammingKernel kernel, const std::uint8_t* codes, std::size_t ntotal,
                          std::size_t n, const std::uint8_t* x, const Sink& empty) {
  assert(n > 0);
  const ScanFunction<Sink> scan = ScanFor<Sink>(kernel);
  std::vector<Query> queries(n);
  for (std::size_t q = 0; q < n; ++q) queries[q] = LoadQuery(x + q * kCodeBytes);

  // omp_get_max_threads() is the calling thread's setting (HashIndex applies SetFaissThreads).
  const std::size_t threads = std::max(1, omp_get_max_threads());
  const std::size_t query_blocks = (n + kQueryBlock - 1) / kQueryBlock;
  std::size_t slices = 1;
  if (threads > query_blocks) {
    slices = std::min((threads + query_blocks - 1) / query_blocks,
                      std::max<std::size_t>(1, ntotal / kMinSliceCodes));
  }
  const std::size_t slice_blocks = ((ntotal + kBlockCodes - 1) / kBlockCodes + slices - 1) / slices;
  const std::size_t slice_codes = slice_blocks * kBlockCodes;
  std::vector<Sink> sinks(slices * n, empty);  // sinks[slice * n + query]

  const auto tasks = static_cast<std::int64_t>(query_blocks * slices);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1 && tasks > 1)
  for (std::int64_t task = 0; task < tasks; ++task) {
    const std::size_t slice = static_cast<std::size_t>(task) % slices;
    const std::size_t q0 = static_cast<std::size_t>(task) / slices * kQueryBlock;
    const std::size_t q1 = std::min(n, q0 + kQueryBlock);
    const std::size_t end = std::min(ntotal, (slice + 1) * slice_codes);
    for (std::size_t c = slice * slice_codes; c < end; c += kBlockCodes) {
      const std::size_t count = std::min(kBlockCodes, end - c);
      for (std::size_t q = q0; q < q1; ++q) {
        scan(queries[q], codes + c * kCodeBytes, count, static_cast<idx_t>(c),
             sinks[slice * n + q]);
      }
    }
  }
  for (std::size_t slice = 1; slice < slices; ++slice) {
    for (std::size_t q = 0; q < n; ++q) sinks[q].Merge(sinks[slice * n + q]);
  }
  sinks.resize(n, empty);
  return sinks;
}

HammingKernel DetectBestKernel() {
  if (KernelSupported(HammingKernel::kAvx512)) return HammingKernel::kAvx512;
  if (KernelSupported(HammingKernel::kPopcnt)) return HammingKernel::kPopcnt;
  return HammingKernel::kGeneric;
}

}  // namespace

bool KernelSupported(HammingKernel kernel) {
  // libgcc's checks include the OS's XSAVE support for the AVX-512 registers.
  __builtin_cpu_init();
  switch (kernel) {
    case HammingKernel::kAvx512:
      return __builtin_cpu_supports("popcnt") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq");
    case HammingKernel::kPopcnt:
      return __builtin_cpu_supports("popcnt");
    default:
      return true;
  }
}

HammingKernel BestKernel() {
  static const HammingKernel best = DetectBestKernel();
  return best;
}

std::string KernelName(HammingKernel kernel) {
  switch (kernel) {
    case HammingKernel::kGeneric:
      return "generic";
    case HammingKernel::kPopcnt:
      return "popcnt";
    case HammingKernel::kAvx512:
      return "avx512";
    default:
      return "auto";
  }
}

FastBinaryFlat::FastBinaryFlat(idx_t d) : faiss::IndexBinaryFlat(d), kernel_(BestKernel()) {}

FastBinaryFlat::FastBinaryFlat(faiss::IndexBinaryFlat&& flat)
    : faiss::IndexBinaryFlat(flat.d), kernel_(BestKernel()) {
  xb.swap(flat.xb);
  ntotal = flat.ntotal;
  is_trained = flat.is_trained;
  metric_type = flat.metric_type;
  verbose = flat.verbose;
  use_heap = flat.use_heap;
  query_batch_size = flat.query_batch_size;
  flat.ntotal = 0;
}

void FastBinaryFlat::set_kernel(HammingKernel kernel) {
  if (kernel == HammingKernel::kAuto) kernel = BestKernel();
  if (!KernelSupported(kernel)) {
    throw Error("this CPU cannot run the " + KernelName(kernel) + " Hamming kernel");
  }
  kernel_ = kernel;
}

void FastBinaryFlat::search(idx_t n, const std::uint8_t* x, idx_t k, std::int32_t* distances,
                            idx_t* labels, const faiss::SearchParameters* params) const {
  if (d != kFastBits) {
    faiss::IndexBinaryFlat::search(n, x, k, distances, labels, params);
    return;
  }
  FAISS_THROW_IF_NOT_MSG(!params, "search params not supported for this index");
  FAISS_THROW_IF_NOT(k > 0);
  if (n <= 0) return;
  std::vector<KnnSink> sinks = ScanAll(kernel_, xb.data(), static_cast<std::size_t>(ntotal),
                                       static_cast<std::size_t>(n), x, KnnSink(k));
  for (idx_t q = 0; q < n; ++q) sinks[q].Write(distances + q * k, labels + q * k);
}

void FastBinaryFlat::range_search(idx_t n, const std::uint8_t* x, int radius,
                                  faiss::RangeSearchResult* result,
                                  const faiss::SearchParameters* params) const {
  if (d != kFastBits) {
    faiss::IndexBinaryFlat::range_search(n, x, radius, result, params);
    return;
  }
  FAISS_THROW_IF_NOT_MSG(!params, "search params not supported for this index");
  if (n <= 0) return;
  const std::vector<RangeSink> sinks = ScanAll(kernel_, xb.data(), static_cast<std::size_t>(ntotal),
                                               static_cast<std::size_t>(n), x, RangeSink(radius));
  // do_allocation() turns per-query counts in lims into offsets and allocates the arrays.
  for (idx_t q = 0; q < n; ++q) result->lims[q] = sinks[q].hits().size();
  result->do_allocation();
  for (idx_t q = 0; q < n; ++q) {
    std::size_t j = result->lims[q];
    for (const Hit& hit : sinks[q].hits()) {
      result->labels[j] = hit.id;
      result->distances[j] = static_cast<float>(hit.distance);
      ++j;
    }
  }
}

}  // namespace celtrace
