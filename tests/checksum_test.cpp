#include "celtrace/checksum.h"

#include <gtest/gtest.h>

#include <fstream>

#include "celtrace/error.h"
#include "test_util.h"

namespace celtrace {
namespace {

std::span<const std::uint8_t> Bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// FIPS 180-2 test vectors.
TEST(Checksum, Sha256MatchesStandardVectors) {
  EXPECT_EQ(Sha256(Bytes("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256(Bytes("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  testing::TempDir dir;
  std::ofstream(dir / "abc") << "abc";
  EXPECT_EQ(Sha256File(dir / "abc"), Sha256(Bytes("abc")));
  EXPECT_THROW(Sha256File(dir / "missing"), Error);
}

TEST(Checksum, Xxh128DetectsEveryFlippedBit) {
  std::string text(257, 'x');
  const std::string base = Xxh128(Bytes(text));
  EXPECT_EQ(base.size(), 32u);
  EXPECT_EQ(Xxh128(Bytes(text)), base);
  for (size_t bit = 0; bit < text.size() * 8; bit += 13) {
    std::string flipped = text;
    flipped[bit / 8] ^= static_cast<char>(1 << (bit % 8));
    EXPECT_NE(Xxh128(Bytes(flipped)), base) << bit;
  }
}

}  // namespace
}  // namespace celtrace
