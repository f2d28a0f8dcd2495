// Hostile inputs end to end: a leak made in code of everything an adversary's server may
// hold (truncated and corrupt videos, empty files, wrong extensions, a PNG declaring
// 100000x100000 pixels, a compression bomb, traversal and absolute member names, zips
// nested 5 deep, an encrypted zip, symlink loops, a FIFO, names with newlines, terminal
// escapes, invalid UTF-8 and spreadsheet formulas) through celtrace-match with its sandbox:
// one record per input, nothing written outside the output and job folders, every output
// escaped; plus the video reader's and the archive walker's own limits.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <set>
#include <sstream>

#include "archive_fixture.h"
#include "celtrace/csv.h"
#include "celtrace/error.h"
#include "celtrace/video_reader.h"
#include "celtrace/video_writer.h"
#include "input_walker.h"
#include "synthetic_footage.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;
using testing::Format;
using testing::MakeArchive;
using testing::Member;

using testing::Slurp;

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A real PNG of random pixels (fixed seed): decodes, matches nothing.
std::string RandomPng(unsigned seed) {
  cv::Mat image(96, 128, CV_8UC3);
  cv::RNG rng(seed);
  rng.fill(image, cv::RNG::UNIFORM, 0, 256);
  std::vector<std::uint8_t> bytes;
  cv::imencode(".png", image, bytes);
  return {bytes.begin(), bytes.end()};
}

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

std::string BigEndian(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

// A well-formed PNG header (valid CRC) declaring width x height, then a tiny IDAT and IEND.
std::string PngDeclaring(std::uint32_t width, std::uint32_t height) {
  const std::string ihdr =
      "IHDR" + BigEndian(width) + BigEndian(height) + std::string("\x08\x02\0\0\0", 5);
  const std::string idat = std::string("IDAT") + std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8);
  std::string png = "\x89PNG\r\n\x1A\n";
  png += BigEndian(13) + ihdr + BigEndian(Crc32(ihdr));
  png += BigEndian(8) + idat + BigEndian(Crc32(idat));
  png += BigEndian(0) + "IEND" + BigEndian(Crc32("IEND"));
  return png;
}

// Zips nested `depth` deep around a PNG: level1.zip holds level2.zip ... holds deep.png.
std::string NestedZips(int depth, const std::string& png) {
  std::string inner = MakeArchive(Format::kZip, {{.path = "deep.png", .data = png}});
  for (int level = depth; level > 1; --level) {
    inner = MakeArchive(Format::kZip,
                        {{.path = "level" + std::to_string(level) + ".zip", .data = inner}});
  }
  return inner;
}

// Members of zeros: ~1000:1 under deflate.
std::string ZipBomb(int members, std::size_t member_bytes) {
  std::vector<Member> zeros;
  for (int i = 0; i < members; ++i) {
    zeros.push_back(
        {.path = "zeros-" + std::to_string(i) + ".bin", .data = std::string(member_bytes, '\0')});
  }
  return MakeArchive(Format::kZip, zeros);
}

// Every file and link under `root` (not followed) with its size: the "nothing written"
// oracle.
std::map<std::string, std::uintmax_t> Snapshot(const fs::path& root,
                                               const std::set<fs::path>& excluded) {
  std::map<std::string, std::uintmax_t> files;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator();
       ++it) {
    if (excluded.contains(it->path())) {
      it.disable_recursion_pending();
      continue;
    }
    const auto status = it->symlink_status();
    files[it->path().string()] = fs::is_regular_file(status) ? fs::file_size(it->path()) : 0;
  }
  return files;
}

// Runs a program in `cwd` with stdin from `input`, stdout and stderr to files; returns the
// exit code.
int RunIn(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& input,
          const fs::path& out, const fs::path& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) _exit(126);
    const int in = ::open(input.c_str(), O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    _exit(127);
  }
  return testing::WaitProgram(pid);
}

const std::string kEscapeName = "\x1b[31mred\x1b[0m.png";  // ANSI colour escapes
const std::string kNewlineName = "new\nline.png";
const std::string kInvalidName = "bad\xff\xfe.png";
// The classic DDE payload, with a backslash for its slash (names cannot hold a slash).
const std::string kFormulaName = "=cmd|' \\C calc'!A0.png";
const std::string kC1Name =
    "c1-\xc2\x9b"
    "31m.png";  // U+009B CSI, valid UTF-8

class HostileInputs : public ::testing::Test {
 protected:
  static inline testing::SharedSetUp shared_setup_;
  static void SetUpTestSuite() {
    shared_setup_.Run([] {
      dir_ = new testing::TempDir;
      const synth::CatalogSpec catalog{.out_dir = *dir_ / "catalog",
                                       .episodes = 2,
                                       .seconds = 8,
                                       .seed = 21,
                                       .size = {320, 180},
                                       .with_opening = false};
      synth::WriteCatalog(catalog);
      testing::RequireIndexBuilt(*dir_ / "catalog" / "catalog.csv", Index(), *dir_ / "index.out");
      const fs::path leak = Leak();
      fs::create_directories(leak);
      const auto plan = synth::PlanCatalog(catalog);
      const std::string episode = Slurp(*dir_ / "catalog" / plan[0].path);
      std::vector<std::string> names;
      auto add = [&](const std::string& name, std::string_view bytes) {
        WriteFile(leak / name, bytes);
        names.push_back(name);
      };
      add("truncated.mkv", episode.substr(0, episode.size() * 2 / 5));
      add("head-only.mkv", episode.substr(0, 300));
      std::string corrupt = episode;
      std::mt19937 random(7);
      for (std::size_t i = 4000; i < corrupt.size(); ++i) corrupt[i] = static_cast<char>(random());
      add("corrupt.mkv", corrupt);
      add("empty.png", "");
      add("photo.mp4", RandomPng(1));  // a PNG with a video's extension
      add("archive.jpg", MakeArchive(Format::kZip, {{.path = "inside.png", .data = RandomPng(2)}}));
      add("huge.png", PngDeclaring(100000, 100000));
      add("bomb.zip", ZipBomb(12, 4u << 20));
      add("traversal.zip",
          MakeArchive(Format::kZip, {{.path = "../evil.png", .data = RandomPng(3)},
                                     {.path = "/tmp/abs-evil.png", .data = RandomPng(4)},
                                     {.path = "../../../etc/evil.png", .data = "x"}}));
      add("nested.zip", NestedZips(5, RandomPng(5)));
      add("folders-only.zip", MakeArchive(Format::kZip, {{.path = "only/", .type = AE_IFDIR}}));
      add("secret.zip", MakeArchive(Format::kZip, {{.path = "hidden.png", .data = RandomPng(6)}},
                                    "zip:encryption=zipcrypt", "hunter2"));
      add(kEscapeName, RandomPng(7));
      add(kNewlineName, RandomPng(8));
      add(kInvalidName, RandomPng(9));
      add(kFormulaName, RandomPng(10));
      add(kC1Name, RandomPng(11));
      fs::create_symlink("loop-b", leak / "loop-a");
      fs::create_symlink("loop-a", leak / "loop-b");
      fs::create_directory_symlink(".", leak / "self");
      names.insert(names.end(), {"loop-a", "loop-b", "self"});
      testing::Require(::mkfifo((leak / "pipe.fifo").c_str(), 0644) == 0, "mkfifo failed");
      names.push_back("pipe.fifo");
      names_ = new std::vector<std::string>(names);
      // The inputs as a NUL-separated list (names with newlines survive).
      std::string list;
      for (const auto& name : names) list += name + '\0';
      WriteFile(*dir_ / "inputs.list", list);
    });
  }
  void SetUp() override { ASSERT_TRUE(shared_setup_.ok()) << shared_setup_.error(); }
  static void TearDownTestSuite() {
    delete names_;
    delete dir_;
  }
  static fs::path Index() { return *dir_ / "index"; }
  static fs::path Leak() { return *dir_ / "leak"; }

  // The labels every input must get one record for: the names, archive members expanded.
  static std::multiset<std::string> ExpectedLabels() {
    std::multiset<std::string> labels;
    for (const auto& name : *names_) {
      if (name == "archive.jpg") {
        labels.insert("archive.jpg!/inside.png");
      } else if (name == "traversal.zip") {
        for (const char* member : {"../evil.png", "/tmp/abs-evil.png", "../../../etc/evil.png"}) {
          labels.insert("traversal.zip!/" + std::string(member));
        }
      } else if (name == "nested.zip") {
        labels.insert("nested.zip!/level2.zip!/level3.zip!/level4.zip");  // depth 3: not opened
      } else if (name == "secret.zip") {
        labels.insert("secret.zip!/hidden.png");
      } else if (name == "bomb.zip") {
        // Read until the expansion ratio trips past 16 MiB: 4 whole members, the 5th is the
        // one it trips in, then the archive's own record; the rest is never read.
        for (int i = 0; i < 5; ++i) labels.insert("bomb.zip!/zeros-" + std::to_string(i) + ".bin");
        labels.insert("bomb.zip");
      } else {
        labels.insert(name);
      }
    }
    return labels;
  }

  static testing::TempDir* dir_;
  static std::vector<std::string>* names_;
};
testing::TempDir* HostileInputs::dir_ = nullptr;
std::vector<std::string>* HostileInputs::names_ = nullptr;

TEST_F(HostileInputs, OneRecordPerInputNothingWrittenEverythingEscaped) {
  const fs::path out = *dir_ / "out";
  const fs::path job = *dir_ / "job";
  fs::create_directories(out);
  const auto before = Snapshot(dir_->path(), {out, job});
  const int code = RunIn({CELTRACE_MATCH_BIN, "--index", Index().string(), "-0", "--out",
                          (out / "r.jsonl").string(), "--csv", (out / "r.csv").string(), "--report",
                          (out / "r.html").string(), "--job", job.string(), "--threads", "2"},
                         Leak(), *dir_ / "inputs.list", out / "stdout.txt", out / "stderr.txt");
  EXPECT_EQ(code, 1) << Slurp(out / "stderr.txt");
  EXPECT_EQ(before, Snapshot(dir_->path(), {out, job}))
      << "something was written outside out/ and job/";
  EXPECT_FALSE(fs::exists("/tmp/abs-evil.png"));

  const std::string jsonl = Slurp(out / "r.jsonl");
  std::multiset<std::string> labels;
  std::map<std::string, nlohmann::json> records;
  std::istringstream lines(jsonl);
  for (std::string line; std::getline(lines, line);) {
    const auto record = nlohmann::json::parse(line);
    labels.insert(record["path"].get<std::string>());
    records[record["path"].get<std::string>()] = record;
  }
  std::multiset<std::string> expected = ExpectedLabels();
  // The invalid-UTF-8 name comes back escaped (and flagged).
  expected.erase(kInvalidName);
  expected.insert("bad\\xFF\\xFE.png");
  EXPECT_EQ(labels, expected);
  ASSERT_TRUE(records.contains("bad\\xFF\\xFE.png"));
  EXPECT_EQ(records["bad\\xFF\\xFE.png"]["path_escaped"], true);

  auto status = [&](const std::string& label) { return records[label].value("status", "?"); };
  auto error = [&](const std::string& label) { return records[label].value("error", ""); };
  EXPECT_EQ(status("huge.png"), "error");
  EXPECT_TRUE(error("huge.png").starts_with("too_large:")) << error("huge.png");
  EXPECT_EQ(status("empty.png"), "unsupported");
  // Read whole, nothing in it: unsupported as an empty file is, not a failure.
  EXPECT_EQ(status("folders-only.zip"), "unsupported");
  EXPECT_EQ(records["folders-only.zip"]["media"], "archive");
  EXPECT_EQ(error("folders-only.zip"), "empty: no files in the archive");
  EXPECT_EQ(records["photo.mp4"]["media"], "image");
  EXPECT_EQ(records["archive.jpg!/inside.png"]["media"], "image");
  EXPECT_EQ(status("head-only.mkv"), "error");
  EXPECT_TRUE(error("head-only.mkv").starts_with("corrupt:")) << error("head-only.mkv");
  EXPECT_TRUE(error("bomb.zip").starts_with("too_large:")) << error("bomb.zip");
  EXPECT_NE(error("bomb.zip").find("compression bomb"), std::string::npos);
  EXPECT_TRUE(error("nested.zip!/level2.zip!/level3.zip!/level4.zip").starts_with("depth:"));
  EXPECT_TRUE(error("secret.zip!/hidden.png").starts_with("encrypted:"));
  EXPECT_EQ(error("loop-a"), "symlink: not followed");
  EXPECT_EQ(error("self"), "symlink: not followed");
  EXPECT_EQ(error("pipe.fifo"), "fifo: not opened");
  EXPECT_EQ(records[kEscapeName]["media"], "image") << "a name is a label, the content decides";
  for (const auto& [label, record] : records) {
    // Nothing here may crash a decoder; every error carries a known code word.
    const std::string message = record.value("error", "");
    if (record["status"] != "error") continue;
    const std::string code_word = message.substr(0, message.find(':'));
    EXPECT_TRUE((
        std::set<std::string>{"corrupt", "too_large", "timeout", "unreadable", "encrypted", "depth"}
            .contains(code_word)))
        << label << ": " << message;
  }

  // No raw terminal control in any output: ESC (0x1B) and C1 CSI (0x9B, U+009B) stay escapes.
  for (const char* file : {"r.jsonl", "r.csv", "r.html", "stderr.txt"}) {
    const std::string text = Slurp(out / file);
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << file;
    EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << file;
  }
  EXPECT_EQ(jsonl.find('\x9b'), std::string::npos);
  // CSV: formulas defused, newlines and escapes shown as \xNN, one row per record here.
  const auto rows = testing::ReadCsv(out / "r.csv");
  std::set<std::string> csv_paths;
  for (const auto& row : rows) csv_paths.insert(row.at("path"));
  EXPECT_TRUE(csv_paths.contains("'" + kFormulaName)) << "formula not defused";
  EXPECT_TRUE(csv_paths.contains("new\\x0Aline.png"));
  EXPECT_TRUE(csv_paths.contains("\\x1B[31mred\\x1B[0m.png"));
  EXPECT_TRUE(csv_paths.contains("c1-\\xC2\\x9B31m.png"));
  for (const auto& path : csv_paths) EXPECT_EQ(path.find('\n'), std::string::npos);
}

TEST_F(HostileInputs, SandboxedRecordsEqualInProcessRecords) {
  const fs::path out = *dir_ / "compare";
  fs::create_directories(out);
  std::map<bool, std::string> outputs;
  for (const bool sandbox : {true, false}) {
    std::vector<std::string> args = {
        CELTRACE_MATCH_BIN, "--index", Index().string(), "-0", "--no-progress", "--threads", "2"};
    if (!sandbox) args.push_back("--no-sandbox");
    const fs::path jsonl = out / (sandbox ? "sandbox.jsonl" : "inprocess.jsonl");
    EXPECT_EQ(RunIn(args, Leak(), *dir_ / "inputs.list", jsonl, out / "stderr.txt"), 1);
    outputs[sandbox] = Slurp(jsonl);
  }
  EXPECT_FALSE(outputs[true].empty());
  EXPECT_EQ(outputs[true], outputs[false]);
}

// The pixel limits hold in this process as in the sandbox. A JPEG frame header behind a
// stray byte (which libjpeg skips) hid its 30000x30000 declaration from the header check:
// 51 s and 7.2 GB to decode with --no-sandbox. And OpenCV's own limit, the backstop for
// formats whose size the header check does not read (TIFF), was set after OpenCV had read
// it: --no-sandbox ran without it.
TEST_F(HostileInputs, PixelLimitsHoldInProcessAsInTheSandbox) {
  const fs::path dir = *dir_ / "pixels";
  fs::create_directories(dir);
  std::vector<std::uint8_t> jpeg;
  ASSERT_TRUE(cv::imencode(".jpg", cv::Mat(48, 64, CV_8UC3, cv::Scalar(40, 90, 160)), jpeg));
  std::string declared(jpeg.begin(), jpeg.end());
  const size_t sof = declared.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  declared[sof + 5] = declared[sof + 7] = static_cast<char>(30000 >> 8);  // height, width
  declared[sof + 6] = declared[sof + 8] = static_cast<char>(30000 & 0xFF);
  // Before the frame header: a stray byte, and a stuffed zero (FF 00), both of which libjpeg
  // skips.
  std::string hidden = declared;
  hidden.insert(sof, 1, '\0');
  WriteFile(dir / "hidden.jpg", hidden);
  std::string stuffed = declared;
  stuffed.insert(sof, std::string("\xFF\x00\x7F", 3));
  WriteFile(dir / "stuffed.jpg", stuffed);
  // 240,000 pixels, whose size the header check does not read (TIFF); and 140,000 pixels
  // 70,000 wide, within --max-pixels but past OpenCV's side limit of 65,536.
  ASSERT_TRUE(cv::imwrite((dir / "large.tiff").string(),
                          cv::Mat(400, 600, CV_8UC3, cv::Scalar(9, 9, 200))));
  ASSERT_TRUE(cv::imwrite((dir / "wide.png").string(), cv::Mat(2, 70000, CV_8UC1, cv::Scalar(90))));
  std::string list;
  for (const char* name : {"hidden.jpg", "stuffed.jpg", "large.tiff", "wide.png"}) {
    list += std::string(name) + '\0';
  }
  WriteFile(dir / "inputs.list", list);
  std::map<bool, std::map<std::string, nlohmann::json>> records;
  for (const bool sandbox : {true, false}) {
    std::vector<std::string> args = {CELTRACE_MATCH_BIN, "--index",      Index().string(), "-0",
                                     "--no-progress",    "--max-pixels", "200000"};
    if (!sandbox) args.push_back("--no-sandbox");
    const fs::path jsonl = dir / (sandbox ? "sandbox.jsonl" : "inprocess.jsonl");
    EXPECT_EQ(RunIn(args, dir, dir / "inputs.list", jsonl, dir / "stderr.txt"), 1)
        << Slurp(dir / "stderr.txt");
    std::istringstream lines(Slurp(jsonl));
    for (std::string line; std::getline(lines, line);) {
      const auto record = nlohmann::json::parse(line);
      records[sandbox][record["path"].get<std::string>()] = record;
    }
  }
  for (const bool sandbox : {true, false}) {
    SCOPED_TRACE(sandbox ? "sandbox" : "in process");
    ASSERT_EQ(records[sandbox].size(), 4u);
    for (const char* name : {"hidden.jpg", "stuffed.jpg"}) {
      EXPECT_EQ(records[sandbox][name].value("error", ""),
                "too_large: image declares 30000x30000 pixels (limit --max-pixels 200000)")
          << name;
    }
    // Refused by OpenCV's own limits, which check a picture's size as its decoder opens it.
    for (const char* name : {"large.tiff", "wide.png"}) {
      const std::string error = records[sandbox][name].value("error", "");
      EXPECT_NE(error.find("validateInputImageSize"), std::string::npos) << name << ": " << error;
    }
  }
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST_F(HostileInputs, RealWorkersRunUnderTheAddressSpaceLimit) {
  // A limit no process can start under: the real worker cannot even load, and the job says
  // so (exit 4, the run stopped) instead of recording every input as an error.
  const fs::path out = *dir_ / "tiny";
  fs::create_directories(out);
  const int code = RunIn({CELTRACE_MATCH_BIN, "--index", Index().string(), "-0", "--no-progress",
                          "--worker-memory", "1"},
                         Leak(), *dir_ / "inputs.list", out / "r.jsonl", out / "stderr.txt");
  EXPECT_EQ(code, 4);
  EXPECT_NE(Slurp(out / "stderr.txt").find("did not start"), std::string::npos)
      << Slurp(out / "stderr.txt");
  EXPECT_EQ(Slurp(out / "r.jsonl"), "");
}
#endif

TEST(HostileVideo, FormatsOutsideTheAllowlistAreRefused) {
  testing::TempDir dir;
  const fs::path nut = dir / "clip.nut";  // NUT: a real container, not on the allowlist
  {
    VideoWriterOptions options;
    options.width = 64;
    options.height = 48;
    VideoWriter writer(nut, options);
    for (int i = 0; i < 5; ++i)
      writer.Write(cv::Mat(48, 64, CV_8UC3, cv::Scalar(i * 40, 9, 9)), i / 24.0);
    writer.Close();
  }
  EXPECT_THROW(VideoReader reader(nut), Error);
  VideoReaderOptions open;
  open.allowlists = false;
  VideoReader reader(nut, open);
  Frame frame;
  EXPECT_TRUE(reader.Read(&frame));
}

TEST(HostileVideo, PixelLimitDeadlineAndDescriptorInput) {
  testing::TempDir dir;
  const fs::path mkv = dir / "clip.mkv";
  {
    VideoWriterOptions options;
    options.width = 160;
    options.height = 120;
    VideoWriter writer(mkv, options);
    for (int i = 0; i < 24; ++i) {
      writer.Write(cv::Mat(120, 160, CV_8UC3, cv::Scalar(i * 10, 50, 200)), i / 24.0);
    }
    writer.Close();
  }
  VideoReaderOptions small;
  small.max_pixels = 160 * 120 - 1;
  try {
    VideoReader reader(mkv, small);
    ADD_FAILURE() << "frames above max_pixels were accepted";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("too_large:")) << e.what();
  }
  VideoReaderOptions late;
  late.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  try {
    VideoReader reader(mkv, late);
    Frame frame;
    while (reader.Read(&frame)) {
    }
    ADD_FAILURE() << "a reader past its deadline kept reading";
  } catch (const Error& e) {
    EXPECT_TRUE(std::string(e.what()).starts_with("timeout:")) << e.what();
  }
  // Read through a descriptor: the same frames as by path.
  const int fd = ::open(mkv.c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  VideoReader by_fd(fd, "clip.mkv");
  ::close(fd);  // the reader holds its own duplicate
  VideoReader by_path(mkv);
  Frame a, b;
  int frames = 0;
  while (by_fd.Read(&a)) {
    ASSERT_TRUE(by_path.Read(&b));
    EXPECT_EQ(a.seconds, b.seconds);
    EXPECT_EQ(cv::norm(a.image, b.image, cv::NORM_INF), 0);
    ++frames;
  }
  EXPECT_FALSE(by_path.Read(&b));
  EXPECT_EQ(frames, 24);
}

TEST(HostileArchive, CompressionBombsStopAtTheRatioAndCompressedDataDoesNot) {
  testing::TempDir dir;
  WriteFile(dir / "bomb.zip", ZipBomb(12, 4u << 20));
  // Incompressible members of the same total size: ratio ~1, read in full.
  std::vector<Member> noise;
  std::mt19937 random(3);
  for (int i = 0; i < 12; ++i) {
    std::string data(4u << 20, '\0');
    for (auto& ch : data) ch = static_cast<char>(random());
    noise.push_back({.path = "noise-" + std::to_string(i) + ".bin", .data = std::move(data)});
  }
  WriteFile(dir / "noise.zip", MakeArchive(Format::kZip, noise));
  auto walk = [](const fs::path& root) {
    std::vector<InputItem> items;
    InputWalker walker({root.string()});
    while (auto item = walker.Next()) items.push_back(std::move(*item));
    return items;
  };
  const auto bomb = walk(dir / "bomb.zip");
  ASSERT_EQ(bomb.size(), 6u);
  EXPECT_TRUE(bomb[4].reason.starts_with("too_large:")) << bomb[4].reason;
  EXPECT_EQ(bomb[5].label, (dir / "bomb.zip").string());
  EXPECT_NE(bomb[5].reason.find("the rest was not read"), std::string::npos);
  const auto plain = walk(dir / "noise.zip");
  ASSERT_EQ(plain.size(), 12u);
  for (const auto& item : plain) EXPECT_EQ(item.kind, InputKind::kArchiveMember) << item.reason;
}

// A member skipped in a compressed stream (declared past the member limit) was skipped by
// libarchive inside its next header call: decompressed in full, uncounted and
// uninterruptible (842 KB of bzip2 declaring a terabyte of zeros kept the job busy for
// hours). Now its bytes are drained through the walker, counted against the budget and the
// compression ratio: the bomb stops the archive after 16 MiB, and what follows is not read.
TEST(HostileArchive, SkippedMembersOfCompressedStreamsCountTowardsTheBudgets) {
  testing::TempDir dir;
  WriteFile(dir / "skip.tar.gz",
            MakeArchive(Format::kTarGz, {{.path = "huge.bin", .data = std::string(64u << 20, '\0')},
                                         {.path = "after.png", .data = RandomPng(12)}}));
  std::vector<InputItem> items;
  InputWalker walker({(dir / "skip.tar.gz").string()}, {.max_member_bytes = 1u << 20});
  while (auto item = walker.Next()) items.push_back(std::move(*item));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].label, (dir / "skip.tar.gz").string() + "!/huge.bin");
  EXPECT_TRUE(items[0].reason.starts_with("too_large: member of 67108864 bytes"))
      << items[0].reason;
  EXPECT_EQ(items[1].label, (dir / "skip.tar.gz").string());
  EXPECT_EQ(items[1].reason,
            "too_large: archive expands more than 200 times its size (compression bomb); the rest "
            "was not read");
  // A 7z compresses its members in blocks: skipping one decompresses it too.
  const std::string seven =
      MakeArchive(Format::kSevenZip, {{.path = "huge.bin", .data = std::string(64u << 20, '\0')},
                                      {.path = "after.png", .data = RandomPng(12)}});
  if (!seven.empty()) {
    WriteFile(dir / "skip.7z", seven);
    items.clear();
    InputWalker walker7({(dir / "skip.7z").string()}, {.max_member_bytes = 1u << 20});
    while (auto item = walker7.Next()) items.push_back(std::move(*item));
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].label, (dir / "skip.7z").string());
    EXPECT_NE(items[1].reason.find("compression bomb"), std::string::npos) << items[1].reason;
  }
  // Within the ratio, a skipped member is drained and the next one read as usual.
  WriteFile(dir / "fine.tar.gz",
            MakeArchive(Format::kTarGz, {{.path = "big.bin", .data = std::string(2u << 20, '\0')},
                                         {.path = "after.png", .data = RandomPng(12)}}));
  items.clear();
  // The drained bytes count in the ratio, not against the byte budget: a refused member is
  // skipped at the cost of reading it, and the files behind it are still read.
  InputWalker fine({(dir / "fine.tar.gz").string()},
                   {.max_member_bytes = 1u << 20, .max_archive_bytes = 1536u << 10});
  while (auto item = fine.Next()) items.push_back(std::move(*item));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].kind, InputKind::kSkipped);
  EXPECT_EQ(items[1].label, (dir / "fine.tar.gz").string() + "!/after.png");
  EXPECT_EQ(items[1].kind, InputKind::kArchiveMember);
}

// A GNU incremental tar's folders declare their listings as data ('D' entries): they are
// folders, without a record (an `error` record for each made a valid archive exit 1).
TEST(HostileArchive, IncrementalTarFoldersAreFolders) {
  testing::TempDir dir;
  fs::create_directories(dir / "tree" / "sub");
  WriteFile(dir / "tree" / "sub" / "a.png", RandomPng(14));
  const std::string command =
      "cd '" + dir.path().string() +
      "' && tar --format=gnu -g snapshot -cf incremental.tar tree 2>/dev/null";
  if (std::system(command.c_str()) != 0) GTEST_SKIP() << "no GNU tar here";
  std::vector<InputItem> items;
  InputWalker walker({(dir / "incremental.tar").string()});
  while (auto item = walker.Next()) items.push_back(std::move(*item));
  ASSERT_EQ(items.size(), 1u) << items[0].label << ": " << items[0].reason;
  EXPECT_EQ(items[0].kind, InputKind::kArchiveMember);
  EXPECT_TRUE(items[0].label.ends_with("tree/sub/a.png")) << items[0].label;
}

// A zip entry with the MS-DOS folder attribute but a file's name and data, which unzip and
// Python extract as a file, was dropped without a record: a way to hide a frame. libarchive
// gives such a folder no data, so it gets a record saying so.
TEST(HostileArchive, AFolderEntryWithDataGetsARecord) {
  testing::TempDir dir;
  std::string zip = MakeArchive(Format::kZip, {{.path = "dirflag.png", .data = RandomPng(13)},
                                               {.path = "real/", .type = AE_IFDIR}});
  const size_t central = zip.find("PK\x01\x02");
  ASSERT_NE(central, std::string::npos);
  zip[central + 5] = 0;                    // made by MS-DOS
  const char folder[4] = {0x10, 0, 0, 0};  // external attributes: FILE_ATTRIBUTE_DIRECTORY
  zip.replace(central + 38, 4, folder, 4);
  WriteFile(dir / "dirflag.zip", zip);
  std::vector<InputItem> items;
  InputWalker walker({(dir / "dirflag.zip").string()});
  while (auto item = walker.Next()) items.push_back(std::move(*item));
  ASSERT_EQ(items.size(), 1u);  // the real folder has no record
  EXPECT_TRUE(items[0].label.starts_with((dir / "dirflag.zip").string() + "!/dirflag.png"))
      << items[0].label;
  EXPECT_EQ(items[0].kind, InputKind::kSkipped);
  EXPECT_TRUE(items[0].reason.starts_with("special: a folder entry declaring ")) << items[0].reason;
}

}  // namespace
}  // namespace celtrace
