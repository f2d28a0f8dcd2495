#include "synthetic_leak.h"

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/image_io.h"
#include "celtrace/media_type.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "test_util.h"

namespace celtrace::synth {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;
using Row = std::map<std::string, std::string>;
using testing::ReadCsv;
using testing::TempDir;

// Small and short, so the whole suite stays well under the 4 s budget.
std::vector<CatalogEntry> SmallCatalog() {
  CatalogSpec spec;
  spec.episodes = 3;
  spec.seconds = 8;
  spec.seed = 5;
  spec.size = cv::Size(320, 180);
  return PlanCatalog(spec);
}

LeakSpec SmallLeak(const fs::path& out, bool with_clips) {
  LeakSpec spec;
  spec.out_dir = out;
  spec.catalog = SmallCatalog();
  spec.seed = 11;
  spec.with_clips = with_clips;
  return spec;
}

Bytes ReadFileBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every regular member of a zip, read back with libarchive's read API.
std::map<std::string, Bytes> ReadZip(const fs::path& path) {
  std::unique_ptr<archive, decltype(&archive_read_free)> zip(archive_read_new(),
                                                             &archive_read_free);
  archive_read_support_format_zip(zip.get());
  if (archive_read_open_filename(zip.get(), path.c_str(), 1 << 16) != ARCHIVE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << archive_error_string(zip.get());
    return {};
  }
  std::map<std::string, Bytes> members;
  archive_entry* entry = nullptr;
  while (archive_read_next_header(zip.get(), &entry) == ARCHIVE_OK) {
    if (archive_entry_filetype(entry) != AE_IFREG) continue;
    Bytes bytes(static_cast<std::size_t>(archive_entry_size(entry)));
    if (!bytes.empty()) {
      EXPECT_EQ(archive_read_data(zip.get(), bytes.data(), bytes.size()),
                static_cast<la_ssize_t>(bytes.size()));
    }
    members[archive_entry_pathname(entry)] = std::move(bytes);
  }
  return members;
}

bool IsArchiveMember(const std::string& path) { return path.find("!/") != std::string::npos; }

// The bytes a row names: a file, or a member of a zip in the leak.
Bytes RowBytes(const fs::path& leak, const std::string& path) {
  const std::size_t bang = path.find("!/");
  if (bang == std::string::npos) return ReadFileBytes(leak / path);
  const auto members = ReadZip(leak / path.substr(0, bang));
  const auto it = members.find(path.substr(bang + 2));
  return it == members.end() ? Bytes() : it->second;
}

// PDQ as the index sees a frame: luma-equivalent hashing of the image scaled to 384x384.
// Hashing at native size instead makes PDQ's box filter window depend on the image size, so
// a half-size copy of a 320x180 frame lands up to 34 bits from the original (median 24),
// while at 384x384 it stays within 10.
constexpr int kIndexSide = 384;

Pdq IndexHash(const cv::Mat& image) {
  cv::Mat square;
  cv::resize(image, square, cv::Size(kIndexSide, kIndexSide), 0, 0, cv::INTER_AREA);
  return ComputePdq(square);
}

Pdq RowHash(const fs::path& leak, const std::string& path) {
  return IndexHash(DecodeImage(RowBytes(leak, path), path));
}

// The catalogue episode and frame a match row points at: its ref_start, or its ref_end.
struct SourceRef {
  const CatalogEntry* entry = nullptr;
  std::int64_t frame = 0;
};

SourceRef Reference(const std::vector<CatalogEntry>& catalog, const Row& row, bool at_end) {
  for (const CatalogEntry& entry : catalog) {
    if (entry.title == row.at("title") && std::to_string(entry.season) == row.at("season") &&
        std::to_string(entry.episode) == row.at("episode")) {
      const double seconds = std::stod(row.at(at_end ? "ref_end" : "ref_start"));
      return {&entry, std::llround(seconds * entry.spec.fps)};
    }
  }
  ADD_FAILURE() << "no catalogue episode for " << row.at("path");
  return {};
}

cv::Mat ReferenceFrame(const SourceRef& ref) {
  const EpisodeSpec& spec = ref.entry->spec;
  return RenderFrame(spec, PlanEpisode(spec), ref.frame);
}

// Decoding luma only skips the colour conversion, the slow part; PDQ hashes luma anyway.
VideoReaderOptions LumaOnly() {
  VideoReaderOptions options;
  options.luma_only = true;
  return options;
}

class SyntheticLeak : public ::testing::Test {
 protected:
  static inline testing::SharedSetUp shared_setup_;
  static void SetUpTestSuite() {
    shared_setup_.Run([] {
      dir_ = new TempDir();
      catalog_ = new std::vector<CatalogEntry>(SmallCatalog());
      items_ = new std::vector<LeakItem>(WriteLeak(SmallLeak(dir_->path(), true)));
      rows_ = new std::vector<Row>(ReadCsv(dir_->path() / "expected.csv"));
    });
  }
  void SetUp() override { ASSERT_TRUE(shared_setup_.ok()) << shared_setup_.error(); }
  static void TearDownTestSuite() {
    delete rows_;
    delete items_;
    delete catalog_;
    delete dir_;
  }

  static std::vector<Row> RowsWhere(const std::string& column, const std::string& value) {
    std::vector<Row> rows;
    for (const Row& row : *rows_) {
      if (row.at(column) == value) rows.push_back(row);
    }
    return rows;
  }

  static const fs::path& leak() { return dir_->path(); }

  static TempDir* dir_;
  static std::vector<CatalogEntry>* catalog_;
  static std::vector<LeakItem>* items_;
  static std::vector<Row>* rows_;
};

TempDir* SyntheticLeak::dir_ = nullptr;
std::vector<CatalogEntry>* SyntheticLeak::catalog_ = nullptr;
std::vector<LeakItem>* SyntheticLeak::items_ = nullptr;
std::vector<Row>* SyntheticLeak::rows_ = nullptr;

TEST_F(SyntheticLeak, ExpectedCsvListsTheReturnedItems) {
  std::ifstream in(leak() / "expected.csv");
  std::string header;
  std::getline(in, header);
  EXPECT_EQ(header, kLeakCsvHeader);
  ASSERT_EQ(rows_->size(), items_->size());
  for (std::size_t i = 0; i < items_->size(); ++i) {
    EXPECT_EQ((*rows_)[i].at("path"), (*items_)[i].path);
    EXPECT_EQ((*rows_)[i].at("transform"), (*items_)[i].transform);
  }
  std::map<std::string, int> kinds;
  for (const LeakItem& item : *items_) ++kinds[item.kind];
  EXPECT_EQ(kinds["still"], 12 * 2 + 4);  // 12 transforms x 2, and 4 in the zip
  EXPECT_EQ(kinds["clip"], 4);            // the compilation has two rows
  EXPECT_EQ(kinds["negative"], 2 + 2 + 1 + 1);
  EXPECT_EQ(kinds["corrupt"], 3);
  EXPECT_EQ(RowsWhere("transform", "compilation").size(), 2u);
}

TEST_F(SyntheticLeak, SameSpecWritesSameBytesAndClipsChangeNothingElse) {
  TempDir first, second;
  WriteLeak(SmallLeak(first.path(), false));
  WriteLeak(SmallLeak(second.path(), false));
  int files = 0;
  for (const auto& file : fs::recursive_directory_iterator(first.path())) {
    if (!file.is_regular_file()) continue;
    const fs::path relative = fs::relative(file.path(), first.path());
    const Bytes bytes = ReadFileBytes(file.path());
    EXPECT_EQ(bytes, ReadFileBytes(second.path() / relative)) << relative;
    if (relative != "expected.csv") {
      // Sections draw from their own streams: the full leak holds the same file.
      EXPECT_EQ(bytes, ReadFileBytes(leak() / relative)) << relative;
    }
    ++files;
  }
  EXPECT_GT(files, 30);
  // The rows of the leak without clips are the full leak's rows minus the clip rows.
  std::vector<Row> without_clips;
  for (const Row& row : *rows_) {
    const std::string& path = row.at("path");
    const bool video = path.ends_with(".mp4") || path.ends_with(".mkv") || path.ends_with(".mov") ||
                       path.ends_with(".avi");
    if (!video) without_clips.push_back(row);
  }
  EXPECT_EQ(ReadCsv(first.path() / "expected.csv"), without_clips);
}

TEST_F(SyntheticLeak, EveryRowNamesAFileOrAZipMember) {
  std::set<std::string> members;
  for (const auto& [name, bytes] : ReadZip(leak() / "leak_drop.zip")) members.insert(name);
  int in_zip = 0;
  for (const Row& row : *rows_) {
    const std::string& path = row.at("path");
    if (IsArchiveMember(path)) {
      ASSERT_TRUE(path.starts_with("leak_drop.zip!/")) << path;
      EXPECT_TRUE(members.count(path.substr(path.find("!/") + 2))) << path;
      ++in_zip;
    } else {
      EXPECT_TRUE(fs::is_regular_file(leak() / path)) << path;
    }
  }
  EXPECT_EQ(in_zip, 5);
  EXPECT_EQ(members.size(), 5u);
}

TEST_F(SyntheticLeak, MildStillsStayNearTheirSourceFrame) {
  const std::set<std::string> mild = {"none", "jpeg_q40", "scale_50", "gamma", "hue"};
  std::set<std::string> seen;
  for (const Row& row : RowsWhere("kind", "still")) {
    if (!mild.count(row.at("transform"))) continue;
    seen.insert(row.at("transform"));
    EXPECT_EQ(row.at("ref_start"), row.at("ref_end"));
    const SourceRef ref = Reference(*catalog_, row, false);
    ASSERT_NE(ref.entry, nullptr);
    const cv::Mat frame = ReferenceFrame(ref);
    EXPECT_GE(ComputePdq(frame).quality, 60) << row.at("path");
    EXPECT_LE(HammingDistance(RowHash(leak(), row.at("path")), IndexHash(frame)), 30)
        << row.at("path") << " (" << row.at("transform") << ")";
  }
  EXPECT_EQ(seen, mild);
}

TEST_F(SyntheticLeak, UnrelatedArtIsFarFromEveryEpisodeFrame) {
  std::vector<Pdq> art;
  for (const Row& row : RowsWhere("transform", "unrelated_art")) {
    EXPECT_EQ(row.at("expected"), "no_match");
    const fs::path path = leak() / row.at("path");
    if (SniffFile(path) == MediaKind::kVideo) {
      VideoReader reader(path, LumaOnly());
      Frame frame;
      ASSERT_TRUE(reader.Read(&frame));
      art.push_back(ComputePdq(frame.image));
    } else {
      art.push_back(ComputePdq(LoadImage(path)));
    }
    EXPECT_GE(art.back().quality, 50) << row.at("path");
  }
  ASSERT_EQ(art.size(), 3u);  // two stills and the clip
  int closest = 256;
  for (const CatalogEntry& entry : *catalog_) {
    const Episode episode = PlanEpisode(entry.spec);
    for (std::int64_t f = 0; f < episode.frame_count; f += 6) {
      const Pdq frame = ComputePdq(RenderFrame(entry.spec, episode, f));
      for (const Pdq& a : art) closest = std::min(closest, HammingDistance(a, frame));
    }
  }
  EXPECT_GT(closest, 70);
}

TEST_F(SyntheticLeak, FlatAndTitleCardItemsAreLowInformation) {
  int count = 0;
  for (const Row& row : RowsWhere("expected", "low_information")) {
    EXPECT_LT(ComputePdq(LoadImage(leak() / row.at("path"))).quality, 50) << row.at("path");
    ++count;
  }
  EXPECT_EQ(count, 3);  // one colour, black, a title card
  EXPECT_EQ(RowsWhere("transform", "title_card").size(), 1u);
}

TEST_F(SyntheticLeak, CorruptItemsFailToDecode) {
  int count = 0;
  for (const Row& row : RowsWhere("kind", "corrupt")) {
    EXPECT_EQ(row.at("expected"), "error");
    const std::string& path = row.at("path");
    const Bytes bytes = RowBytes(leak(), path);
    ASSERT_FALSE(bytes.empty()) << path;
    if (SniffMediaKind(bytes) == MediaKind::kImage) {
      EXPECT_THROW(DecodeImage(bytes, path), Error) << path;
    } else {
      EXPECT_EQ(SniffMediaKind(bytes), MediaKind::kVideo) << path;
      EXPECT_THROW(
          {
            VideoReader reader(leak() / path);
            Frame frame;
            while (reader.Read(&frame)) {
            }
          },
          Error)
          << path;
    }
    ++count;
  }
  EXPECT_EQ(count, 3);  // a PNG, a truncated MP4, a zip member
}

TEST_F(SyntheticLeak, WrongExtensionsHoldAnotherFormat) {
  std::set<std::string> extensions;
  for (const Row& row : RowsWhere("kind", "still")) {
    const fs::path path = leak() / row.at("path");
    if (IsArchiveMember(row.at("path"))) continue;
    const Bytes head = ReadFileBytes(path);
    ASSERT_GE(head.size(), 4u);
    const bool png = head[0] == 0x89 && head[1] == 'P';
    const bool jpeg = head[0] == 0xff && head[1] == 0xd8;
    if (row.at("transform") == "none" && path.extension() == ".jpg") {
      EXPECT_TRUE(png) << path;
      extensions.insert("png as .jpg");
    }
    if (path.extension() == ".txt") {
      EXPECT_TRUE(jpeg) << path;
      EXPECT_EQ(SniffFile(path), MediaKind::kImage);
      extensions.insert("jpeg as .txt");
    }
  }
  EXPECT_EQ(extensions.size(), 2u);
}

// Decoded clip frames against the episode frames the rows name, at both ends of every
// segment: the ground truth's times are right, and the PAL mapping is one frame for one.
TEST_F(SyntheticLeak, ClipRowsPointAtTheirEpisodeFrames) {
  std::map<std::string, std::vector<Frame>> clips;
  for (const Row& row : RowsWhere("kind", "clip")) {
    auto& frames = clips[row.at("path")];
    if (frames.empty()) {
      VideoReader reader(leak() / row.at("path"), LumaOnly());
      Frame frame;
      while (reader.Read(&frame)) frames.push_back(frame);
    }
    ASSERT_FALSE(frames.empty()) << row.at("path");
    for (const bool at_end : {false, true}) {
      const double query = std::stod(row.at(at_end ? "query_end" : "query_start"));
      const Frame* nearest = &frames.front();
      for (const Frame& frame : frames) {
        if (std::abs(frame.seconds - query) < std::abs(nearest->seconds - query)) {
          nearest = &frame;
        }
      }
      EXPECT_NEAR(nearest->seconds, query, 0.002) << row.at("path");
      const SourceRef ref = Reference(*catalog_, row, at_end);
      ASSERT_NE(ref.entry, nullptr);
      EXPECT_LE(HammingDistance(ComputePdq(nearest->image), ComputePdq(ReferenceFrame(ref))), 30)
          << row.at("path") << " at " << query << " s";
    }
  }
  EXPECT_EQ(clips.size(), 3u);
}

TEST_F(SyntheticLeak, RetimedClipRunsAt25Fps) {
  const std::vector<Row> rows = RowsWhere("transform", "retimed_25fps");
  ASSERT_EQ(rows.size(), 1u);
  VideoReader reader(leak() / rows[0].at("path"), LumaOnly());
  Frame frame;
  int count = 0;
  while (reader.Read(&frame)) {
    EXPECT_NEAR(frame.seconds, count / 25.0, 0.002);
    ++count;
  }
  EXPECT_EQ(count, 100);
  EXPECT_NEAR(reader.frame_rate(), 25.0, 0.01);
  // 100 episode frames at 24000/1001 fps: 99 frame steps between first and last.
  const double span = std::stod(rows[0].at("ref_end")) - std::stod(rows[0].at("ref_start"));
  EXPECT_NEAR(span, 99 * 1001.0 / 24000.0, 0.002);
}

TEST(SyntheticLeakSpec, RefusesAnEmptyCatalogueOrEpisodesTooShortForClips) {
  TempDir dir;
  LeakSpec spec;
  spec.out_dir = dir / "leak";
  EXPECT_THROW(WriteLeak(spec), Error);
  CatalogSpec short_episodes;
  short_episodes.episodes = 1;
  short_episodes.seconds = 3;
  short_episodes.size = cv::Size(128, 72);
  spec.catalog = PlanCatalog(short_episodes);
  EXPECT_THROW(WriteLeak(spec), Error);
  EXPECT_FALSE(fs::exists(spec.out_dir)) << "nothing is written before the checks";
}

}  // namespace
}  // namespace celtrace::synth
