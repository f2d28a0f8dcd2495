#include "fast_binary_flat.h"

#include <faiss/IndexBinaryFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "celtrace/hash_index.h"

namespace celtrace {
namespace {

using idx_t = faiss::IndexBinary::idx_t;
constexpr int kBytes = 32;

// The OpenMP threads the tests search with. One under ThreadSanitizer: Debian's libgomp is
// not instrumented, so TSan cannot see the barrier that ends a parallel region and would
// report every read of its results (README "Sanitizers"); the searches from several
// std::threads at once (ConcurrentSearchesAgree) are what TSan checks here.
#if defined(__SANITIZE_THREAD__)
constexpr int kOmpThreads = 1;
#else
constexpr int kOmpThreads = 2;
#endif

// Random codes where the second half are near-duplicates (0-40 flipped bits, often 0) of
// earlier codes, so that small radii find something and k-NN sees distance ties.
std::vector<std::uint8_t> PlantedCodes(int n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<std::uint8_t> codes(static_cast<std::size_t>(n) * kBytes);
  for (auto& b : codes) b = static_cast<std::uint8_t>(rng());
  for (int i = std::max(1, n / 2); i < n; ++i) {
    const int source = static_cast<int>(rng() % static_cast<unsigned>(i));
    std::copy_n(&codes[source * kBytes], kBytes, &codes[i * kBytes]);
    const int flips = rng() % 3 == 0 ? 0 : static_cast<int>(rng() % 41);
    for (int f = 0; f < flips; ++f) codes[i * kBytes + rng() % kBytes] ^= 1 << (rng() % 8);
  }
  return codes;
}

// Queries: indexed codes, perturbed indexed codes, and unrelated random codes.
std::vector<std::uint8_t> Queries(const std::vector<std::uint8_t>& codes, int batch,
                                  unsigned seed) {
  std::mt19937 rng(seed);
  const int n = static_cast<int>(codes.size() / kBytes);
  std::vector<std::uint8_t> queries(static_cast<std::size_t>(batch) * kBytes);
  for (int q = 0; q < batch; ++q) {
    std::uint8_t* query = &queries[q * kBytes];
    if (q % 3 == 2) {
      for (int b = 0; b < kBytes; ++b) query[b] = static_cast<std::uint8_t>(rng());
      continue;
    }
    std::copy_n(&codes[(rng() % n) * kBytes], kBytes, query);
    if (q % 3 == 1) {
      for (int f = 0; f < 12; ++f) query[rng() % kBytes] ^= 1 << (rng() % 8);
    }
  }
  return queries;
}

struct RangeResult {
  std::vector<std::size_t> lims;
  std::vector<idx_t> labels;
  std::vector<float> distances;
};

RangeResult RangeSearch(const faiss::IndexBinary& index, const std::vector<std::uint8_t>& queries,
                        int radius) {
  const idx_t n = static_cast<idx_t>(queries.size() / kBytes);
  faiss::RangeSearchResult found(n);
  index.range_search(n, queries.data(), radius, &found);
  RangeResult result;
  result.lims.assign(found.lims, found.lims + n + 1);
  result.labels.assign(found.labels, found.labels + found.lims[n]);
  result.distances.assign(found.distances, found.distances + found.lims[n]);
  return result;
}

struct KnnResult {
  std::vector<std::int32_t> distances;
  std::vector<idx_t> labels;
};

KnnResult Knn(const faiss::IndexBinary& index, const std::vector<std::uint8_t>& queries, int k) {
  const idx_t n = static_cast<idx_t>(queries.size() / kBytes);
  KnnResult result{std::vector<std::int32_t>(n * k), std::vector<idx_t>(n * k)};
  index.search(n, queries.data(), k, result.distances.data(), result.labels.data());
  return result;
}

// Oracle: FAISS's own IndexBinaryFlat on the same codes. FAISS's k-NN keeps the smallest
// (distance, id) pairs in that order, so labels must match exactly even with ties.
void ExpectSameAsFaiss(const faiss::IndexBinaryFlat& plain, const FastBinaryFlat& fast,
                       const std::vector<std::uint8_t>& queries, const std::string& what) {
  for (int k : {1, 10, 100}) {
    const KnnResult expected = Knn(plain, queries, k);
    const KnnResult actual = Knn(fast, queries, k);
    EXPECT_EQ(actual.distances, expected.distances) << what << " k=" << k;
    EXPECT_EQ(actual.labels, expected.labels) << what << " k=" << k;
  }
  for (int radius : {-1, 0, 1, 20, 32, 64, 129, 256, 257, 1000}) {
    const RangeResult expected = RangeSearch(plain, queries, radius);
    const RangeResult actual = RangeSearch(fast, queries, radius);
    EXPECT_EQ(actual.lims, expected.lims) << what << " radius=" << radius;
    EXPECT_EQ(actual.labels, expected.labels) << what << " radius=" << radius;
    EXPECT_EQ(actual.distances, expected.distances) << what << " radius=" << radius;
  }
}

class FastBinaryFlatKernel : public ::testing::TestWithParam<HammingKernel> {
 protected:
  void SetUp() override {
    if (!KernelSupported(GetParam())) GTEST_SKIP() << "CPU lacks " << KernelName(GetParam());
  }
};

TEST_P(FastBinaryFlatKernel, EqualsFaissIndexBinaryFlat) {
  const int saved_threads = omp_get_max_threads();
  for (int n : {1, 7, 1000, 20000}) {
    const std::vector<std::uint8_t> codes = PlantedCodes(n, 11 + n);
    faiss::IndexBinaryFlat plain(256);
    plain.add(n, codes.data());
    FastBinaryFlat fast(256);
    fast.add(n, codes.data());
    fast.set_kernel(GetParam());
    ASSERT_EQ(fast.kernel(), GetParam());
    for (int batch : {1, 3, 64}) {
      const std::vector<std::uint8_t> queries = Queries(codes, batch, 5 + batch);
      // One thread scans serially; two share the query blocks of a batch of 64.
      for (int threads : {1, kOmpThreads}) {
        omp_set_num_threads(threads);
        ExpectSameAsFaiss(plain, fast, queries,
                          "n=" + std::to_string(n) + " batch=" + std::to_string(batch) +
                              " threads=" + std::to_string(threads));
      }
    }
  }
  omp_set_num_threads(saved_threads);
}

INSTANTIATE_TEST_SUITE_P(Kernels, FastBinaryFlatKernel,
                         ::testing::Values(HammingKernel::kGeneric, HammingKernel::kPopcnt,
                                           HammingKernel::kAvx512),
                         [](const auto& info) { return KernelName(info.param); });

// With more threads than query blocks, one query's scan is cut into slices of the codes
// (at least 65536 codes each) whose results are merged; the merge keeps FAISS's order.
TEST(FastBinaryFlat, SplitsFewQueriesOverThreads) {
  if (kOmpThreads == 1) GTEST_SKIP() << "OpenMP runs one thread under ThreadSanitizer";
  const int saved_threads = omp_get_max_threads();
  const int n = 150000;
  const std::vector<std::uint8_t> codes = PlantedCodes(n, 21);
  faiss::IndexBinaryFlat plain(256);
  plain.add(n, codes.data());
  FastBinaryFlat fast(256);
  fast.add(n, codes.data());
  for (HammingKernel kernel : {HammingKernel::kGeneric, BestKernel()}) {
    fast.set_kernel(kernel);
    for (int batch : {1, 3}) {
      omp_set_num_threads(1);
      const std::vector<std::uint8_t> queries = Queries(codes, batch, 8 + batch);
      omp_set_num_threads(2);
      ExpectSameAsFaiss(plain, fast, queries,
                        KernelName(kernel) + " batch=" + std::to_string(batch) + " threads=2");
    }
  }
  omp_set_num_threads(saved_threads);
}

TEST(FastBinaryFlat, ChoosesASupportedKernel) {
  EXPECT_NE(BestKernel(), HammingKernel::kAuto);
  EXPECT_TRUE(KernelSupported(BestKernel()));
  FastBinaryFlat fast(256);
  EXPECT_EQ(fast.kernel(), BestKernel());
  fast.set_kernel(HammingKernel::kGeneric);
  fast.set_kernel(HammingKernel::kAuto);
  EXPECT_EQ(fast.kernel(), BestKernel());
  EXPECT_EQ(SearchKernelName(), KernelName(BestKernel()));
}

// Other code lengths fall back to the parent's scan, with the same results.
TEST(FastBinaryFlat, OtherLengthsUseFaissScan) {
  std::mt19937 rng(2);
  std::vector<std::uint8_t> codes(500 * 8);
  for (auto& b : codes) b = static_cast<std::uint8_t>(rng());
  faiss::IndexBinaryFlat plain(64);
  FastBinaryFlat fast(64);
  plain.add(500, codes.data());
  fast.add(500, codes.data());
  const std::vector<std::uint8_t> queries(codes.begin(), codes.begin() + 10 * 8);
  std::vector<std::int32_t> expected_d(50), actual_d(50);
  std::vector<idx_t> expected_l(50), actual_l(50);
  plain.search(10, queries.data(), 5, expected_d.data(), expected_l.data());
  fast.search(10, queries.data(), 5, actual_d.data(), actual_l.data());
  EXPECT_EQ(actual_d, expected_d);
  EXPECT_EQ(actual_l, expected_l);
}

TEST(FastBinaryFlat, RejectsWhatFaissRejects) {
  FastBinaryFlat fast(256);
  const std::vector<std::uint8_t> codes = PlantedCodes(10, 1);
  fast.add(10, codes.data());
  std::int32_t distance = 0;
  idx_t label = 0;
  EXPECT_THROW(fast.search(1, codes.data(), 0, &distance, &label), faiss::FaissException);
}

// Serialised bytes are a plain IndexBinaryFlat's, and loading them back searches the same.
TEST(FastBinaryFlat, SerializesAsIndexBinaryFlat) {
  const int n = 3000;
  const std::vector<std::uint8_t> codes = PlantedCodes(n, 7);
  faiss::IndexBinaryFlat plain(256);
  plain.add(n, codes.data());
  FastBinaryFlat fast(256);
  fast.add(n, codes.data());
  faiss::VectorIOWriter plain_bytes, fast_bytes;
  faiss::write_index_binary(&plain, &plain_bytes);
  faiss::write_index_binary(&fast, &fast_bytes);
  EXPECT_EQ(fast_bytes.data, plain_bytes.data);

  // An index file written before FastBinaryFlat existed loads unchanged.
  const HashIndex loaded = HashIndex::Deserialize(plain_bytes.data);
  EXPECT_EQ(loaded.type_name(), "IndexBinaryFlat");
  EXPECT_EQ(loaded.size(), n);
  EXPECT_EQ(loaded.Serialize(), plain_bytes.data);
  const std::vector<std::uint8_t> queries = Queries(codes, 20, 3);
  const auto found = loaded.Search(queries, 31, 1000);
  const RangeResult expected = RangeSearch(plain, queries, 32);
  for (int q = 0; q < 20; ++q) {
    std::vector<Neighbor> want;
    for (std::size_t j = expected.lims[q]; j < expected.lims[q + 1]; ++j) {
      want.push_back({expected.labels[j], static_cast<int>(expected.distances[j])});
    }
    std::sort(want.begin(), want.end(), [](const Neighbor& a, const Neighbor& b) {
      return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
    });
    EXPECT_EQ(found[q], want) << "query " << q;
  }

  faiss::VectorIOReader reader;
  reader.data = fast_bytes.data;
  std::unique_ptr<faiss::IndexBinary> read(faiss::read_index_binary(&reader));
  auto* flat = dynamic_cast<faiss::IndexBinaryFlat*>(read.get());
  ASSERT_NE(flat, nullptr);
  const FastBinaryFlat adopted(std::move(*flat));
  EXPECT_EQ(adopted.ntotal, n);
  EXPECT_EQ(adopted.xb, codes);
  EXPECT_EQ(flat->ntotal, 0);
  ExpectSameAsFaiss(plain, adopted, queries, "adopted");
}

// Searches on a const index from several threads at once agree with a serial search.
TEST(FastBinaryFlat, ConcurrentSearchesAgree) {
  const int n = 20000;
  const std::vector<std::uint8_t> codes = PlantedCodes(n, 9);
  FastBinaryFlat fast(256);
  fast.add(n, codes.data());
  const std::vector<std::uint8_t> queries = Queries(codes, 40, 4);
  omp_set_num_threads(1);
  const KnnResult expected = Knn(fast, queries, 10);
  std::vector<KnnResult> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results) {
    threads.emplace_back([&] {
      omp_set_num_threads(kOmpThreads);
      result = Knn(fast, queries, 10);
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& result : results) {
    EXPECT_EQ(result.distances, expected.distances);
    EXPECT_EQ(result.labels, expected.labels);
  }
}

}  // namespace
}  // namespace celtrace
