#include "fuzz_targets.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "celtrace/catalog.h"
#include "celtrace/error.h"
#include "celtrace/hash_index.h"
#include "celtrace/image_io.h"
#include "celtrace/index_store.h"
#include "celtrace/media_type.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "input_walker.h"

namespace celtrace::fuzz {
namespace {

namespace fs = std::filesystem;

// Limits of the fuzzed decoders: small enough that an input cannot make one run take
// seconds, as the sandbox's limits do in production.
constexpr std::int64_t kMaxPixels = 4'000'000;
constexpr int kMaxFrames = 16;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

// The targets' files (the walker's input, index copies), removed when the process exits.
class Scratch {
 public:
  Scratch() : path_(fs::temp_directory_path() / ("celtrace-fuzz-" + std::to_string(::getpid()))) {
    fs::create_directories(path_);
  }
  ~Scratch() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

fs::path ScratchDir() {
  static const Scratch scratch;
  return scratch.path();
}

void WriteBytes(const fs::path& path, std::span<const std::uint8_t> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<std::uint8_t> ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

int SniffDecodeHash(const std::uint8_t* data, std::size_t size) {
  // OpenCV reads its limits once, at its first decode.
  static const bool limits = [] {
    ::setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(kMaxPixels).c_str(), 1);
    return true;
  }();
  (void)limits;
  const std::span<const std::uint8_t> bytes(data, size);
  const MediaKind kind = SniffMediaKind(bytes.first(std::min(size, kSniffBytes)));
  try {
    if (kind == MediaKind::kImage) {
      const DeclaredSize declared = SniffImageSize(bytes);
      Check(declared.width >= 0 && declared.height >= 0);
      if (declared.Exceeds(kMaxPixels)) return 0;
      const cv::Mat image = DecodeImage(bytes, "fuzz");
      if (!image.empty() && static_cast<std::int64_t>(image.total()) <= kMaxPixels) {
        const Pdq hash = ComputePdq(image);
        Check(hash.quality >= 0 && hash.quality <= 100);
      }
    } else if (kind == MediaKind::kVideo) {
      VideoReaderOptions options;
      options.luma_only = true;
      options.square_side = 64;
      options.max_pixels = kMaxPixels;
      options.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      VideoReader reader(std::make_shared<const std::vector<std::uint8_t>>(data, data + size),
                         "fuzz", options);
      Frame frame;
      for (int i = 0; i < kMaxFrames && reader.Read(&frame); ++i) {
        Check(!frame.image.empty() && frame.image.rows <= 64 && frame.image.cols <= 64);
        const Pdq hash = ComputePdq(frame.image);
        Check(hash.quality >= 0 && hash.quality <= 100);
      }
    }
  } catch (const Error&) {
    // Refused or undecodable: the matcher records it as an error; nothing else may escape.
  }
  return 0;
}

int WalkArchive(const std::uint8_t* data, std::size_t size) {
  const fs::path path = ScratchDir() / "input.bin";
  WriteBytes(path, std::span(data, size));
  WalkOptions options;
  options.max_archive_depth = 3;
  options.max_member_bytes = 1 << 20;
  options.max_archive_bytes = 8 << 20;
  options.max_archive_entries = 1000;
  InputWalker walker({path.string()}, options);
  std::uint64_t items = 0;
  while (auto item = walker.Next()) {
    ++items;
    Check(item->label.starts_with(path.string()));
    if (item->kind == InputKind::kArchiveMember) {
      Check(item->bytes != nullptr && item->bytes->size() <= options.max_member_bytes);
    }
    if (item->kind == InputKind::kSkipped) Check(!item->reason.empty());
    // Every entry yields at most one item, plus one per archive for its own record; three
    // levels of nesting bound the whole walk.
    Check(items <= 4 * (options.max_archive_entries + 1));
  }
  Check(items >= 1);  // every input gets a record
  return 0;
}

int LoadIndex(const std::uint8_t* data, std::size_t size) {
  // An empty generation, published once; its files are kept in memory and written afresh for
  // every input, so that no input depends on files an earlier one left on disk. (A CI run
  // once died in copying them from the published directory, the cause not found; the bytes
  // are the same either way.)
  struct Published {
    std::string generation;
    std::map<std::string, std::vector<std::uint8_t>> files;  // name -> bytes, in generation
    std::vector<std::uint8_t> current;
  };
  static const Published published = [] {
    const fs::path dir = ScratchDir() / "index-original";
    fs::remove_all(dir);
    {
      GenerationWriter writer(dir);
      Catalog catalog = Catalog::Create(writer.catalog_path());
      catalog.Finish();
      // The gate checks bytes, whatever they hold.
      writer.Publish(HashIndex(), IndexParameters{});
    }
    Published p;
    p.current = ReadBytes(dir / "CURRENT");
    p.generation.assign(p.current.begin(), std::find(p.current.begin(), p.current.end(), '\n'));
    for (const char* file : {"manifest.json", "pdq.faiss", "catalog.sqlite"}) {
      p.files[file] = ReadBytes(dir / p.generation / file);
      Check(!p.files[file].empty());
    }
    fs::remove_all(dir);
    return p;
  }();
  const std::string& generation = published.generation;
  if (size < 1) return 0;
  const char* kFiles[] = {"manifest.json", "pdq.faiss", "catalog.sqlite", "CURRENT"};
  const std::string target = kFiles[data[0] % 4];
  const bool overlay = (data[0] & 4) != 0;
  const fs::path copy = ScratchDir() / "index";
  fs::remove_all(copy);
  fs::create_directories(copy / generation);
  WriteBytes(copy / "CURRENT", published.current);
  for (const auto& [name, bytes] : published.files) WriteBytes(copy / generation / name, bytes);
  const fs::path file = target == "CURRENT" ? copy / "CURRENT" : copy / generation / target;
  const std::vector<std::uint8_t> before = ReadBytes(file);
  std::vector<std::uint8_t> after = before;
  const std::span<const std::uint8_t> payload(data + 1, size - 1);
  if (overlay && !payload.empty()) {
    // The first payload byte picks the offset (scaled to the file), the rest is written there.
    const std::size_t offset = before.empty() ? 0 : payload[0] * before.size() / 256;
    const auto rest = payload.subspan(1);
    if (after.size() < offset + rest.size()) after.resize(offset + rest.size());
    std::copy(rest.begin(), rest.end(), after.begin() + static_cast<std::ptrdiff_t>(offset));
  } else {
    after.assign(payload.begin(), payload.end());
  }
  WriteBytes(file, after);
  try {
    const Index index = Index::Open(copy);
    // Opened: the FAISS and SQLite bytes must be the checksummed ones.
    if (target == "pdq.faiss" || target == "catalog.sqlite") Check(after == before);
    Check(index.pdq().size() == 0);
  } catch (const IndexError&) {
    // Refused, as it should be for anything that is not the published generation.
  }
  return 0;
}

}  // namespace celtrace::fuzz
