// Hamming search speed on 256-bit codes, one thread unless a name says otherwise:
//  - flat_knn10 / flat_range31 at 10^6 and 10^7 entries: Debian's faiss::IndexBinaryFlat scan
//    ("debian", the parent's search on the same object) against FastBinaryFlat with each
//    kernel this CPU runs, single queries and batches of 64 and 256. items_per_second =
//    Hamming distances/s (entries x queries / s); x_debian = that rate over Debian's in the
//    same run; of_bandwidth = over the memory_bandwidth rate of the same size (entries/s
//    that one core can stream: a plain sum over the code array).
//  - ann_* at 10^6: IndexBinaryMultiHash and IndexBinaryIVF answering the same range query
//    (threshold 31) one query at a time: recall against the exact scan on planted
//    near-duplicates (distance 0-31 from an indexed code), queries/s, index memory. Built
//    outside the timing.
//  - hash_index_* at 10^5-10^7: HashIndex::Search as the matcher calls it: a still (16
//    codes: 8 orientations, plain and border-trimmed, radius 63, limit 1024) and a second of
//    clip (24 codes: 12 drawings, plain and trimmed, radius 31, limit 64); search only.
// Random codes are generated once per size (10^7 x 32 B = 320 MB).
// Run: build/bench/celtrace_bench_search [--benchmark_filter=flat_]
#include <benchmark/benchmark.h>
#include <faiss/IndexBinaryFlat.h>
#include <faiss/IndexBinaryHash.h>
#include <faiss/IndexBinaryIVF.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <immintrin.h>
#include <malloc.h>
#include <omp.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "celtrace/hash_index.h"
#include "fast_binary_flat.h"

namespace {

using celtrace::FastBinaryFlat;
using celtrace::HammingKernel;
using idx_t = faiss::IndexBinary::idx_t;

constexpr int kBits = 256;
constexpr std::size_t kBytes = kBits / 8;
constexpr int kThreshold = 31;           // the matcher's default distance threshold
constexpr int kRadius = kThreshold + 1;  // FAISS keeps distance < radius
constexpr int kNeighbors = 10;           // k of the k-NN benchmarks
constexpr std::size_t kMaxBatch = 256;

// splitmix64 (Steele, Lea, Flood 2014): fast, seeded, good enough for random codes.
struct SplitMix64 {
  std::uint64_t state;
  std::uint64_t operator()() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    return z ^ (z >> 31);
  }
};

// A catalogue of random codes and queries that are near-duplicates of indexed codes: query
// q has exactly q % 32 bits flipped, so every query has an answer at the threshold.
struct Catalogue {
  std::unique_ptr<FastBinaryFlat> index;
  std::vector<std::uint8_t> queries;  // kMaxBatch codes, then padding FAISS's hashes read past
};

const Catalogue& CatalogueOf(std::int64_t entries) {
  static std::map<std::int64_t, Catalogue> catalogues;
  Catalogue& catalogue = catalogues[entries];
  if (catalogue.index) return catalogue;
  SplitMix64 rng{static_cast<std::uint64_t>(entries)};
  catalogue.index = std::make_unique<FastBinaryFlat>(kBits);
  std::vector<std::uint8_t>& codes = catalogue.index->xb;
  codes.resize(static_cast<std::size_t>(entries) * kBytes);
  for (std::size_t i = 0; i < codes.size(); i += 8) {
    const std::uint64_t word = rng();
    std::memcpy(&codes[i], &word, 8);
  }
  catalogue.index->ntotal = entries;
  catalogue.queries.assign(kMaxBatch * kBytes + 8, 0);
  for (std::size_t q = 0; q < kMaxBatch; ++q) {
    std::uint8_t* query = &catalogue.queries[q * kBytes];
    std::memcpy(query, &codes[(rng() % entries) * kBytes], kBytes);
    std::uint8_t flipped[kBits] = {};
    for (std::size_t flips = 0; flips < q % kRadius;) {
      const std::uint64_t bit = rng() % kBits;
      if (flipped[bit]) continue;
      flipped[bit] = 1;
      query[bit / 8] ^= 1 << (bit % 8);
      ++flips;
    }
  }
  return catalogue;
}

// Rates measured earlier in this run, for the ratio counters.
std::map<std::string, double>& Rates() {
  static std::map<std::string, double> rates;
  return rates;
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Sums the array with 256-bit loads and four independent accumulators, so that the loads,
// not the adds, are the limit: what one core can stream from memory.
__attribute__((target("avx2"))) std::uint64_t SumWithAvx2(const std::vector<std::uint8_t>& bytes) {
  __m256i sums[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                     _mm256_setzero_si256()};
  for (std::size_t i = 0; i + 128 <= bytes.size(); i += 128) {
    for (int j = 0; j < 4; ++j) {
      sums[j] = _mm256_add_epi64(
          sums[j], _mm256_loadu_si256(reinterpret_cast<const __m256i*>(&bytes[i + 32 * j])));
    }
  }
  alignas(32) std::uint64_t lanes[4];
  _mm256_store_si256(
      reinterpret_cast<__m256i*>(lanes),
      _mm256_add_epi64(_mm256_add_epi64(sums[0], sums[1]), _mm256_add_epi64(sums[2], sums[3])));
  return lanes[0] + lanes[1] + lanes[2] + lanes[3];
}

std::uint64_t SumPortably(const std::vector<std::uint8_t>& bytes) {
  std::uint64_t sums[4] = {};
  for (std::size_t i = 0; i + 32 <= bytes.size(); i += 32) {
    for (int w = 0; w < 4; ++w) {
      std::uint64_t word;
      std::memcpy(&word, &bytes[i + 8 * w], 8);
      sums[w] += word;
    }
  }
  return sums[0] + sums[1] + sums[2] + sums[3];
}

void MemoryBandwidth(benchmark::State& state, std::int64_t entries) {
  const std::vector<std::uint8_t>& codes = CatalogueOf(entries).index->xb;
  const bool avx2 = __builtin_cpu_supports("avx2");
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(avx2 ? SumWithAvx2(codes) : SumPortably(codes));
  }
  const double items = static_cast<double>(state.iterations()) * static_cast<double>(entries);
  Rates()["bandwidth/" + std::to_string(entries)] = items / Seconds(start);
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
  state.SetBytesProcessed(static_cast<std::int64_t>(items) * kBytes);
}

enum class Scan { kDebian, kFast };
enum class Query { kKnn, kRange };

void FlatSearch(benchmark::State& state, Query kind, Scan scan, HammingKernel kernel,
                std::int64_t entries, int batch, int threads) {
  const Catalogue& catalogue = CatalogueOf(entries);
  FastBinaryFlat& index = *catalogue.index;
  index.set_kernel(kernel);
  omp_set_num_threads(threads);
  std::vector<std::int32_t> distances(batch * kNeighbors);
  std::vector<idx_t> labels(batch * kNeighbors);
  std::size_t found = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    if (kind == Query::kKnn) {
      if (scan == Scan::kDebian) {
        index.faiss::IndexBinaryFlat::search(batch, catalogue.queries.data(), kNeighbors,
                                             distances.data(), labels.data());
      } else {
        index.search(batch, catalogue.queries.data(), kNeighbors, distances.data(), labels.data());
      }
      benchmark::DoNotOptimize(labels.data());
    } else {
      faiss::RangeSearchResult result(batch);
      if (scan == Scan::kDebian) {
        index.faiss::IndexBinaryFlat::range_search(batch, catalogue.queries.data(), kRadius,
                                                   &result);
      } else {
        index.range_search(batch, catalogue.queries.data(), kRadius, &result);
      }
      found = result.lims[batch];
    }
  }
  const double seconds = Seconds(start);
  omp_set_num_threads(1);
  const double items =
      static_cast<double>(state.iterations()) * static_cast<double>(entries) * batch;
  const std::string config = std::to_string(kind == Query::kKnn) + "/" + std::to_string(entries) +
                             "/" + std::to_string(batch);
  if (scan == Scan::kDebian) {
    Rates()["debian/" + config] = items / seconds;
  } else {
    if (const double debian = Rates()["debian/" + config]; debian > 0) {
      state.counters["x_debian"] = items / seconds / debian;
    }
    const double bandwidth = Rates()["bandwidth/" + std::to_string(entries)];
    if (batch == 1 && bandwidth > 0) state.counters["of_bandwidth"] = items / seconds / bandwidth;
  }
  if (kind == Query::kRange) state.counters["hits_per_query"] = static_cast<double>(found) / batch;
  state.SetItemsProcessed(static_cast<std::int64_t>(items));
}

// Heap bytes in use, to size an index by the growth while building it.
std::size_t HeapBytes() {
  const struct mallinfo2 info = mallinfo2();
  return info.uordblks + info.hblkhd;
}

struct Approximate {
  std::unique_ptr<faiss::IndexBinary> index;
  double megabytes = 0;
  double build_seconds = 0;
};

// Builds (once) and runs an approximate index on the 10^6 catalogue, one query per call,
// reporting recall at the threshold against the exact scan.
void ApproximateSearch(benchmark::State& state, const std::string& name,
                       const std::function<Approximate()>& build) {
  constexpr std::int64_t kEntries = 1'000'000;
  static std::map<std::string, Approximate> built;
  const Catalogue& catalogue = CatalogueOf(kEntries);
  Approximate& approximate = built[name];
  if (!approximate.index) approximate = build();

  faiss::RangeSearchResult exact(kMaxBatch);
  catalogue.index->range_search(kMaxBatch, catalogue.queries.data(), kRadius, &exact);
  std::size_t relevant = 0, retrieved = 0;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    relevant = retrieved = 0;
    for (std::size_t q = 0; q < kMaxBatch; ++q) {
      faiss::RangeSearchResult result(1);
      approximate.index->range_search(1, &catalogue.queries[q * kBytes], kRadius, &result);
      // Both lists are exact distances under the radius, so found ones are all relevant.
      retrieved += result.lims[1];
      relevant += exact.lims[q + 1] - exact.lims[q];
    }
  }
  const double queries = static_cast<double>(state.iterations()) * kMaxBatch;
  state.counters["recall"] = static_cast<double>(retrieved) / static_cast<double>(relevant);
  state.counters["queries_per_s"] = queries / Seconds(start);
  state.counters["index_MB"] = approximate.megabytes;
  state.counters["build_s"] = approximate.build_seconds;
  state.SetItemsProcessed(static_cast<std::int64_t>(queries * kEntries));
}

// IndexBinaryMultiHash: `nhash` tables of `b`-bit substrings, probing `nflip` flips each.
// With 16 x 16 bits and one flip, a code within 31 bits shares some substring within one
// bit (pigeonhole), so recall is 1 by construction.
Approximate BuildMultiHash(int nhash, int b, int nflip) {
  const Catalogue& catalogue = CatalogueOf(1'000'000);
  const auto start = std::chrono::steady_clock::now();
  const std::size_t before = HeapBytes();
  auto index = std::make_unique<faiss::IndexBinaryMultiHash>(kBits, nhash, b);
  index->nflip = nflip;
  // The hashes read 8 bytes at each substring's offset, past the last code: add from a
  // padded copy.
  std::vector<std::uint8_t> padded(catalogue.index->xb);
  padded.resize(padded.size() + 8);
  index->add(catalogue.index->ntotal, padded.data());
  padded = {};
  Approximate built;
  built.megabytes = static_cast<double>(HeapBytes() - before) / 1e6;
  built.build_seconds = Seconds(start);
  built.index = std::move(index);
  return built;
}

// IndexBinaryIVF with `nlist` lists, FastBinaryFlat as its coarse quantizer (a FAISS index
// like any other), trained on a sample; the list scans are FAISS's own.
Approximate BuildIvf(int nlist, int nprobe) {
  const Catalogue& catalogue = CatalogueOf(1'000'000);
  const auto start = std::chrono::steady_clock::now();
  const std::size_t before = HeapBytes();
  auto quantizer = new FastBinaryFlat(kBits);
  auto index = std::make_unique<faiss::IndexBinaryIVF>(quantizer, kBits, nlist);
  index->own_fields = true;
  index->nprobe = nprobe;
  index->cp.verbose = false;
  // Debian's reference BLAS makes k-means slow: train on 40 points per list, FAISS's minimum.
  index->train(40 * nlist, catalogue.index->xb.data());
  index->add(catalogue.index->ntotal, catalogue.index->xb.data());
  Approximate built;
  built.megabytes = static_cast<double>(HeapBytes() - before) / 1e6;
  built.build_seconds = Seconds(start);
  built.index = std::move(index);
  return built;
}

// HashIndex::Search with the matcher's query shapes, on one thread as match jobs run it.
void HashIndexSearch(benchmark::State& state, std::int64_t entries, int codes, int radius,
                     int limit) {
  static std::map<std::int64_t, celtrace::HashIndex> indexes;
  const Catalogue& catalogue = CatalogueOf(entries);
  auto [it, inserted] = indexes.try_emplace(entries);
  if (inserted) it->second.Add(catalogue.index->xb);
  const std::span<const std::uint8_t> queries(catalogue.queries.data(), codes * kBytes);
  for (auto _ : state) benchmark::DoNotOptimize(it->second.Search(queries, radius, limit));
  state.SetItemsProcessed(state.iterations());  // stills or clip-seconds
  state.counters["distances_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(entries) * codes,
      benchmark::Counter::kIsRate);
}

void RegisterAll() {
  const std::vector<std::pair<HammingKernel, std::string>> kernels = [] {
    std::vector<std::pair<HammingKernel, std::string>> supported;
    for (HammingKernel k :
         {HammingKernel::kAvx512, HammingKernel::kPopcnt, HammingKernel::kGeneric}) {
      if (celtrace::KernelSupported(k)) supported.emplace_back(k, celtrace::KernelName(k));
    }
    return supported;
  }();
  for (std::int64_t entries : {1'000'000, 10'000'000}) {
    const std::string size = "/entries:" + std::to_string(entries);
    benchmark::RegisterBenchmark(("memory_bandwidth" + size).c_str(),
                                 [=](benchmark::State& s) { MemoryBandwidth(s, entries); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    for (Query kind : {Query::kKnn, Query::kRange}) {
      const std::string op = kind == Query::kKnn ? "flat_knn10" : "flat_range31";
      for (int batch : {1, 64, 256}) {
        const std::string shape = size + "/batch:" + std::to_string(batch);
        // Debian first, so the others can report their ratio to it.
        benchmark::RegisterBenchmark((op + "/debian" + shape).c_str(),
                                     [=](benchmark::State& s) {
                                       FlatSearch(s, kind, Scan::kDebian, HammingKernel::kAuto,
                                                  entries, batch, 1);
                                     })
            ->UseRealTime()
            ->Unit(benchmark::kMillisecond);
        for (const auto& [kernel, name] : kernels) {
          benchmark::RegisterBenchmark((op + "/" + name + shape).c_str(),
                                       [=, kernel = kernel](benchmark::State& s) {
                                         FlatSearch(s, kind, Scan::kFast, kernel, entries, batch,
                                                    1);
                                       })
              ->UseRealTime()
              ->Unit(benchmark::kMillisecond);
        }
      }
      // One query split over two threads (the machine's cores; shared, so noisy).
      benchmark::RegisterBenchmark(
          (op + "/" + kernels.front().second + size + "/batch:1/threads:2").c_str(),
          [=](benchmark::State& s) {
            FlatSearch(s, kind, Scan::kFast, HammingKernel::kAuto, entries, 1, 2);
          })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond);
    }
  }

  const auto ann = [](const std::string& name, std::function<Approximate()> build) {
    benchmark::RegisterBenchmark(("ann_range31/" + name + "/entries:1000000").c_str(),
                                 [=](benchmark::State& s) { ApproximateSearch(s, name, build); })
        ->UseRealTime()
        ->Unit(benchmark::kMicrosecond);
  };
  ann("flat_fast", [] {
    Approximate flat;
    auto index = std::make_unique<FastBinaryFlat>(kBits);
    index->add(CatalogueOf(1'000'000).index->ntotal, CatalogueOf(1'000'000).index->xb.data());
    flat.megabytes = static_cast<double>(index->xb.size()) / 1e6;
    flat.index = std::move(index);
    return flat;
  });
  ann("multihash_16x16_flip1", [] { return BuildMultiHash(16, 16, 1); });
  ann("multihash_16x16_flip0", [] { return BuildMultiHash(16, 16, 0); });
  ann("multihash_8x32_flip1", [] { return BuildMultiHash(8, 32, 1); });
  for (int nprobe : {1, 8, 32}) {
    ann("ivf256_nprobe" + std::to_string(nprobe), [=] { return BuildIvf(256, nprobe); });
  }

  for (std::int64_t entries : {100'000, 1'000'000, 10'000'000}) {
    const std::string size = "/entries:" + std::to_string(entries);
    benchmark::RegisterBenchmark(
        ("hash_index_still" + size).c_str(),
        [=](benchmark::State& s) { HashIndexSearch(s, entries, 16, 2 * kThreshold + 1, 1024); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(
        ("hash_index_clip_second" + size).c_str(),
        [=](benchmark::State& s) { HashIndexSearch(s, entries, 24, kThreshold, 64); })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  omp_set_num_threads(1);
  celtrace::SetFaissThreads(1);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("hamming_kernel", celtrace::SearchKernelName());
  benchmark::AddCustomContext("faiss", celtrace::FaissVersion());
  RegisterAll();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
