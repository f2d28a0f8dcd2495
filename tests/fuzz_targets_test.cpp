// A short, deterministic run of the fuzz targets (fuzz_targets.h) in every suite run: seeds
// made in code plus seeded random mutations of them. Not coverage-guided (that is the
// libFuzzer build, preset `fuzz`); it keeps the targets and their oracles working and
// catches regressions on known-shaped hostile bytes. With CELTRACE_FUZZ_CORPUS=DIR set, the
// seeds are also written to DIR/<target>/ as the libFuzzer runs' starting corpus.
#include "fuzz_targets.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "archive_fixture.h"
#include "celtrace/video_writer.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

Bytes FromString(const std::string& text) { return {text.begin(), text.end()}; }

Bytes Encoded(const char* extension, unsigned seed) {
  cv::Mat image(48, 64, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  cv::GaussianBlur(image, image, cv::Size(5, 5), 0);
  Bytes bytes;
  cv::imencode(extension, image, bytes);
  return bytes;
}

Bytes Video(const char* name) {
  testing::TempDir dir;
  const fs::path path = dir / name;
  VideoWriterOptions options;
  options.width = 64;
  options.height = 48;
  {
    VideoWriter writer(path, options);
    for (int i = 0; i < 6; ++i) {
      writer.Write(cv::Mat(48, 64, CV_8UC3, cv::Scalar(i * 30, 100, 200 - i * 20)), i / 24.0);
    }
    writer.Close();
  }
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Bit flips, random bytes, truncation, a duplicated chunk, inserted noise.
Bytes Mutate(Bytes input, std::mt19937& random) {
  const int operations = 1 + static_cast<int>(random() % 4);
  for (int op = 0; op < operations; ++op) {
    if (input.empty()) input.push_back(static_cast<std::uint8_t>(random()));
    const std::size_t at = random() % input.size();
    switch (random() % 5) {
      case 0:
        input[at] ^= static_cast<std::uint8_t>(1u << (random() % 8));
        break;
      case 1:
        input[at] = static_cast<std::uint8_t>(random());
        break;
      case 2:
        input.resize(at);
        break;
      case 3: {
        const std::size_t length = std::min<std::size_t>(input.size() - at, 1 + random() % 64);
        const Bytes chunk(input.begin() + static_cast<std::ptrdiff_t>(at),
                          input.begin() + static_cast<std::ptrdiff_t>(at + length));
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(random() % input.size()),
                     chunk.begin(), chunk.end());
        break;
      }
      default: {
        Bytes noise(1 + random() % 16);
        for (auto& byte : noise) byte = static_cast<std::uint8_t>(random());
        input.insert(input.begin() + static_cast<std::ptrdiff_t>(at), noise.begin(), noise.end());
      }
    }
  }
  return input;
}

// Runs `target` on every seed and on `mutants` mutations of each; writes the seeds to
// $CELTRACE_FUZZ_CORPUS/<name>/ when set. Returns the inputs run.
int Replay(const char* name, int (*target)(const std::uint8_t*, std::size_t),
           const std::vector<Bytes>& seeds, int mutants) {
  if (const char* corpus = std::getenv("CELTRACE_FUZZ_CORPUS")) {
    const fs::path dir = fs::path(corpus) / name;
    fs::create_directories(dir);
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream(dir / ("seed-" + std::to_string(i)), std::ios::binary)
          .write(reinterpret_cast<const char*>(seeds[i].data()),
                 static_cast<std::streamsize>(seeds[i].size()));
    }
  }
  std::mt19937 random(1);
  int runs = 0;
  for (const Bytes& seed : seeds) {
    EXPECT_EQ(target(seed.data(), seed.size()), 0);
    ++runs;
    for (int i = 0; i < mutants; ++i) {
      const Bytes input = Mutate(seed, random);
      EXPECT_EQ(target(input.data(), input.size()), 0);
      ++runs;
    }
  }
  return runs;
}

TEST(FuzzTargets, SniffDecodeHashSurvivesSeedsAndMutations) {
  std::string huge_png = "\x89PNG\r\n\x1A\n";
  huge_png += std::string("\0\0\0\x0dIHDR\0\x01\x86\xa0\0\x01\x86\xa0\x08\x02\0\0\0", 21);
  // libFuzzer's find (UBSan): 2^32-1 x 2^32-1 overflowed the pixel-limit product (undefined
  // behaviour; wrapped, it is negative and passes the limit).
  std::string overflow_png = "\x89PNG\r\n\x1A\n";
  overflow_png += std::string("\0\0\0\x0dIHDR\xff\xff\xff\xff\xff\xff\xff\xff\x08\x02\0\0\0", 21);
  const std::vector<Bytes> seeds = {Encoded(".png", 1),   Encoded(".jpg", 2),
                                    Encoded(".bmp", 3),   Encoded(".webp", 4),
                                    Encoded(".tiff", 5),  FromString(huge_png),
                                    Video("clip.mkv"),    Video("clip.mp4"),
                                    Video("clip.avi"),    {},
                                    FromString("GIF89a"), FromString(overflow_png)};
  EXPECT_EQ(Replay("sniff_decode_hash", &fuzz::SniffDecodeHash, seeds, 60), 12 * 61);
}

TEST(FuzzTargets, ArchiveWalkerSurvivesSeedsAndMutations) {
  using testing::Format;
  using testing::MakeArchive;
  const std::string png(reinterpret_cast<const char*>(Encoded(".png", 6).data()),
                        Encoded(".png", 6).size());
  const std::string zip =
      MakeArchive(Format::kZip, {{.path = "a.png", .data = png},
                                 {.path = "../b.png", .data = "x"},
                                 {.path = "link", .type = AE_IFLNK, .link = "/etc"}});
  const std::vector<Bytes> seeds = {
      FromString(zip),
      FromString(MakeArchive(Format::kTarGz, {{.path = "dir/c.png", .data = png}})),
      FromString(MakeArchive(Format::kSevenZip, {{.path = "d.png", .data = png}})),
      FromString(MakeArchive(Format::kGzip, {{.path = "data", .data = png}})),
      FromString(MakeArchive(Format::kZip, {{.path = "inner.zip", .data = zip}})),
      FromString(MakeArchive(Format::kZip, {{.path = "e.png", .data = png}},
                             "zip:encryption=zipcrypt", "pw"))};
  EXPECT_EQ(Replay("archive_walker", &fuzz::WalkArchive, seeds, 60), 6 * 61);
}

TEST(FuzzTargets, IndexLoaderChecksumGateSurvivesSeedsAndMutations) {
  std::vector<Bytes> seeds;
  for (std::uint8_t selector = 0; selector < 8; ++selector) {
    Bytes seed = {selector, 128};
    for (int i = 0; i < 24; ++i) seed.push_back(static_cast<std::uint8_t>(i * 37));
    seeds.push_back(seed);
  }
  seeds.push_back(FromString(std::string("\x03") + "gen-000001\n"));  // CURRENT unchanged
  seeds.push_back(FromString(std::string("\x03") + "../../etc\n"));   // CURRENT elsewhere
  // libFuzzer's find (UBSan): a manifest number out of int's range ("bits": 8.00016e+23)
  // was cast to int (undefined behaviour); it is refused now.
  seeds.push_back(FromString(std::string(",\xb1\n8000158580080758580017")));
  EXPECT_EQ(Replay("index_loader", &fuzz::LoadIndex, seeds, 30), 11 * 31);
}

}  // namespace
}  // namespace celtrace
