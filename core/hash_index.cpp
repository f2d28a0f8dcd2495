#include "celtrace/hash_index.h"

#include <faiss/IndexBinaryFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <typeinfo>

#include "celtrace/error.h"
#include "fast_binary_flat.h"

namespace celtrace {
namespace {

std::atomic<int> g_faiss_threads{0};  // 0: leave OpenMP's setting alone

}  // namespace

void SetFaissThreads(int threads) { g_faiss_threads = threads; }

HashIndex::HashIndex(int bits) {
  if (bits <= 0 || bits % 8 != 0) throw Error("hash bits must be a positive multiple of 8");
  index_ = std::make_unique<FastBinaryFlat>(bits);
}

HashIndex::HashIndex(std::unique_ptr<faiss::IndexBinary> index) : index_(std::move(index)) {}
HashIndex::~HashIndex() = default;
HashIndex::HashIndex(HashIndex&&) noexcept = default;
HashIndex& HashIndex::operator=(HashIndex&&) noexcept = default;

int HashIndex::bits() const { return index_->d; }
std::int64_t HashIndex::size() const { return index_->ntotal; }

std::string HashIndex::type_name() const {
  if (dynamic_cast<const faiss::IndexBinaryFlat*>(index_.get())) return "IndexBinaryFlat";
  return typeid(*index_).name();
}

void HashIndex::Add(std::span<const std::uint8_t> codes) {
  if (codes.size() % code_size() != 0) throw Error("HashIndex::Add: partial code");
  if (codes.empty()) return;
  index_->add(static_cast<std::int64_t>(codes.size() / code_size()), codes.data());
}

std::vector<std::vector<Neighbor>> HashIndex::Search(std::span<const std::uint8_t> queries,
                                                     int max_distance, int limit) const {
  const auto n = static_cast<std::int64_t>(queries.size() / code_size());
  std::vector<std::vector<Neighbor>> results(n);
  if (n == 0 || size() == 0) return results;
  // FAISS's binary range search keeps distances strictly below the radius.
  faiss::RangeSearchResult found(n);
  // OpenMP's thread count is per calling thread; apply the process-wide choice here.
  if (const int threads = g_faiss_threads.load(); threads > 0) omp_set_num_threads(threads);
  try {
    index_->range_search(n, queries.data(), max_distance + 1, &found);
  } catch (const faiss::FaissException& e) {
    throw Error(std::string("FAISS search failed: ") + e.what());
  }
  for (std::int64_t q = 0; q < n; ++q) {
    auto& neighbors = results[q];
    for (size_t j = found.lims[q]; j < found.lims[q + 1]; ++j) {
      neighbors.push_back({found.labels[j], static_cast<int>(found.distances[j])});
    }
    std::sort(neighbors.begin(), neighbors.end(), [](const Neighbor& a, const Neighbor& b) {
      return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
    });
    if (static_cast<int>(neighbors.size()) > limit) neighbors.resize(limit);
  }
  return results;
}

std::vector<std::uint8_t> HashIndex::Code(std::int64_t id) const {
  if (id < 0 || id >= size()) throw Error("HashIndex::Code: id out of range");
  std::vector<std::uint8_t> code(code_size());
  index_->reconstruct(id, code.data());
  return code;
}

std::vector<std::uint8_t> HashIndex::Serialize() const {
  faiss::VectorIOWriter writer;
  faiss::write_index_binary(index_.get(), &writer);
  return std::move(writer.data);
}

HashIndex HashIndex::Deserialize(std::span<const std::uint8_t> bytes) {
  faiss::VectorIOReader reader;
  reader.data.assign(bytes.begin(), bytes.end());
  try {
    std::unique_ptr<faiss::IndexBinary> index(faiss::read_index_binary(&reader));
    // A plain flat index (what Serialize writes) is searched by FastBinaryFlat's scan.
    if (typeid(*index) == typeid(faiss::IndexBinaryFlat)) {
      index =
          std::make_unique<FastBinaryFlat>(std::move(static_cast<faiss::IndexBinaryFlat&>(*index)));
    }
    return HashIndex(std::move(index));
  } catch (const faiss::FaissException& e) {
    throw IndexError(std::string("FAISS cannot read the index: ") + e.what());
  }
}

std::string SearchKernelName() { return KernelName(BestKernel()); }

std::string FaissVersion() {
  return std::to_string(FAISS_VERSION_MAJOR) + "." + std::to_string(FAISS_VERSION_MINOR) + "." +
         std::to_string(FAISS_VERSION_PATCH);
}

}  // namespace celtrace
