#include "celtrace/hash_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <random>

#include "celtrace/error.h"

namespace celtrace {
namespace {

int Distance(const std::uint8_t* a, const std::uint8_t* b) {
  int d = 0;
  for (int i = 0; i < 32; ++i) d += std::popcount(static_cast<unsigned>(a[i] ^ b[i]));
  return d;
}

// Oracle: FAISS's range search equals a brute-force popcount scan.
TEST(HashIndex, RangeSearchEqualsBruteForce) {
  std::mt19937 rng(3);
  const int n = 2000;
  std::vector<std::uint8_t> codes(n * 32);
  for (auto& b : codes) b = static_cast<std::uint8_t>(rng());
  // Near-duplicates so that small radii find something.
  for (int i = 1000; i < n; ++i) {
    std::copy_n(&codes[(i - 1000) * 32], 32, &codes[i * 32]);
    for (int flip = 0; flip < i % 40; ++flip) codes[i * 32 + rng() % 32] ^= 1 << (rng() % 8);
  }
  HashIndex index;
  index.Add(std::span(codes).first(1200 * 32));
  index.Add(std::span(codes).subspan(1200 * 32));
  ASSERT_EQ(index.size(), n);
  const std::vector<std::uint8_t> queries(codes.begin(), codes.begin() + 50 * 32);
  for (int radius : {0, 10, 31}) {
    const auto results = index.Search(queries, radius, 1000);
    ASSERT_EQ(results.size(), 50u);
    for (int q = 0; q < 50; ++q) {
      std::vector<Neighbor> expected;
      for (int i = 0; i < n; ++i) {
        const int d = Distance(&queries[q * 32], &codes[i * 32]);
        if (d <= radius) expected.push_back({i, d});
      }
      std::sort(expected.begin(), expected.end(), [](const Neighbor& a, const Neighbor& b) {
        return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
      });
      EXPECT_EQ(results[q], expected) << "query " << q << " radius " << radius;
    }
  }
  EXPECT_EQ(index.Search(queries, 31, 1)[0].size(), 1u);
}

TEST(HashIndex, SerializesAndRejectsGarbage) {
  std::vector<std::uint8_t> codes(10 * 32);
  std::iota(codes.begin(), codes.end(), 0);
  HashIndex index;
  index.Add(codes);
  const auto bytes = index.Serialize();
  const HashIndex copy = HashIndex::Deserialize(bytes);
  EXPECT_EQ(copy.size(), 10);
  EXPECT_EQ(copy.type_name(), "IndexBinaryFlat");
  EXPECT_EQ(copy.Code(3), std::vector<std::uint8_t>(codes.begin() + 96, codes.begin() + 128));
  EXPECT_THROW(HashIndex::Deserialize(std::span(bytes).first(bytes.size() / 2)), IndexError);
  const std::vector<std::uint8_t> garbage(64, 0x5a);
  EXPECT_THROW(HashIndex::Deserialize(garbage), IndexError);
  EXPECT_THROW(index.Add(std::span(codes).first(31)), Error);
}

}  // namespace
}  // namespace celtrace
