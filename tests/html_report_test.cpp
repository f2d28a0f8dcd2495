// The HTML evidence report and what feeds it: VideoReader::SeekTo against a sequential decode,
// thumbnails within their byte cap, the page's escaping, CSP and size budget, and
// celtrace-match --report end to end (reference frames from the catalogue folder the index
// recorded or from --footage, leaked thumbnails kept by a resumable job).
#include "html_report.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "celtrace/checksum.h"
#include "celtrace/index_store.h"
#include "celtrace/video_reader.h"
#include "celtrace/video_writer.h"
#include "synthetic_footage.h"
#include "synthetic_leak.h"
#include "test_util.h"
#include "thumbnail.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;

// A cel-like picture unique to `seed`: flat ground, outlined blobs, the seed as text.
cv::Mat DrawCel(int seed, cv::Size size) {
  std::mt19937 rng(static_cast<unsigned>(seed) * 2654435761u + 17);
  auto any = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  cv::Mat image(size, CV_8UC3, cv::Scalar(any(256), any(256), any(256)));
  cv::rectangle(image, {0, size.height * 2 / 3}, {size.width, size.height},
                cv::Scalar(any(256), any(256), any(256)), cv::FILLED);
  for (int blob = 0; blob < 7; ++blob) {
    const cv::Point centre(any(size.width), any(size.height));
    const cv::Size axes(size.width / 16 + any(size.width / 6),
                        size.height / 16 + any(size.height / 5));
    cv::ellipse(image, centre, axes, any(180), 0, 360, cv::Scalar(any(256), any(256), any(256)),
                cv::FILLED, cv::LINE_AA);
    cv::ellipse(image, centre, axes, any(180), 0, 360, cv::Scalar(20, 20, 20), 2, cv::LINE_AA);
  }
  cv::putText(image, std::to_string(seed), {size.width / 8, size.height / 2},
              cv::FONT_HERSHEY_SIMPLEX, size.height / 100.0, cv::Scalar(10, 10, 10), 2);
  return image;
}

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total() * a.channels());
}

using testing::Slurp;

std::vector<std::uint8_t> Base64Decode(std::string_view text) {
  std::vector<std::uint8_t> out;
  std::uint32_t bits = 0;
  int count = 0;
  for (const char c : text) {
    int value = -1;
    if (c >= 'A' && c <= 'Z') value = c - 'A';
    if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
    if (c >= '0' && c <= '9') value = c - '0' + 52;
    if (c == '+') value = 62;
    if (c == '/') value = 63;
    if (value < 0) continue;  // padding
    bits = (bits << 6) | static_cast<std::uint32_t>(value);
    if ((count += 6) >= 8) {
      count -= 8;
      out.push_back(static_cast<std::uint8_t>(bits >> count));
    }
  }
  return out;
}

// Base64 of the bytes a hex string spells, bit by bit (an oracle independent of the report's).
std::string HexToBase64(const std::string& hex) {
  static const char* kDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string bits;
  for (const char c : hex) {
    const int value = std::stoi(std::string(1, c), nullptr, 16);
    for (int b = 3; b >= 0; --b) bits += (value >> b) & 1 ? '1' : '0';
  }
  std::string out;
  for (size_t i = 0; i < bits.size(); i += 6) {
    std::string group = bits.substr(i, 6);
    group.resize(6, '0');
    out += kDigits[std::stoi(group, nullptr, 2)];
  }
  while (out.size() % 4 != 0) out += '=';
  return out;
}

// The text between the first `open` and the next `close`; empty if absent.
std::string Between(const std::string& text, const std::string& open, const std::string& close) {
  const size_t begin = text.find(open);
  if (begin == std::string::npos) return {};
  const size_t end = text.find(close, begin + open.size());
  if (end == std::string::npos) return {};
  return text.substr(begin + open.size(), end - begin - open.size());
}

size_t Count(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

// The page's data blocks, parsed.
struct Page {
  nlohmann::json data;
  nlohmann::json thumbs;
};

Page ParsePage(const std::string& html) {
  return {nlohmann::json::parse(
              Between(html, "<script type=\"application/json\" id=\"report-data\">", "</script>")),
          nlohmann::json::parse(Between(
              html, "<script type=\"application/json\" id=\"report-thumbs\">", "</script>"))};
}

std::string StatusOf(const Page& page, const nlohmann::json& row) {
  return page.data["statuses"][row[1].get<int>()];
}

cv::Mat Thumb(const Page& page, int index) {
  const auto bytes = Base64Decode(page.thumbs.at(index).get<std::string>());
  return cv::imdecode(bytes, cv::IMREAD_COLOR);
}

// ---- VideoReader::SeekTo -------------------------------------------------------------------

struct Decoded {
  double seconds;
  cv::Mat image;
};

std::vector<Decoded> DecodeAll(VideoReader& reader) {
  std::vector<Decoded> frames;
  Frame frame;
  while (reader.Read(&frame)) frames.push_back({frame.seconds, frame.image});
  return frames;
}

// The oracle: the first frame a sequential decode shows at or after seconds - half a frame.
int ExpectedFrame(const std::vector<Decoded>& frames, double seconds, double half_frame) {
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].seconds >= seconds - half_frame) return static_cast<int>(i);
  }
  return -1;
}

class SeekTest : public ::testing::TestWithParam<const char*> {};

TEST_P(SeekTest, LandsOnTheFrameASequentialDecodeShowsThen) {
  TempDir dir;
  const fs::path path = dir.path() / (std::string("seek") + GetParam());
  const cv::Size size(192, 108);
  // Limited animation: frames on 1s, 2s and holds; 12-frame GOPs (VideoWriter), so seeks
  // land on keyframes well before most targets.
  std::vector<double> times;
  for (double t = 0; times.size() < 150;) {
    times.push_back(t);
    t += (times.size() % 7 == 0) ? 0.25 : (times.size() % 3 == 0 ? 2.0 / 24 : 1.0 / 24);
  }
  {
    VideoWriterOptions options;
    options.width = size.width;
    options.height = size.height;
    options.frame_rate = 24;
    VideoWriter writer(path, options);
    for (size_t i = 0; i < times.size(); ++i)
      writer.Write(DrawCel(static_cast<int>(i), size), times[i]);
    writer.Close();
  }
  VideoReader sequential(path);
  const std::vector<Decoded> frames = DecodeAll(sequential);
  ASSERT_EQ(frames.size(), times.size());
  const double half = 0.5 / sequential.frame_rate();

  std::vector<double> targets;
  for (size_t i = 0; i < frames.size(); i += 5) {
    targets.push_back(frames[i].seconds);                            // exact frame times
    targets.push_back(std::round(frames[i].seconds * 1000) / 1000);  // as JSON rounds them
    targets.push_back(frames[i].seconds + 0.3 * half);               // between frames
  }
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> anywhere(0, frames.back().seconds);
  for (int i = 0; i < 40; ++i) targets.push_back(anywhere(rng));
  std::vector<double> descending = targets;
  std::sort(descending.rbegin(), descending.rend());
  std::vector<double> ascending = targets;
  std::sort(ascending.begin(), ascending.end());

  auto check = [&](VideoReader& reader, const std::vector<double>& order, const char* name) {
    for (const double target : order) {
      SCOPED_TRACE(std::string(name) + " target " + std::to_string(target));
      const int expected = ExpectedFrame(frames, target, half);
      ASSERT_GE(expected, 0);
      ASSERT_TRUE(reader.SeekTo(target));
      Frame frame;
      ASSERT_TRUE(reader.Read(&frame));
      EXPECT_NEAR(frame.seconds, frames[expected].seconds, 1e-6);
      EXPECT_EQ(MeanAbsDiff(frame.image, frames[expected].image), 0.0);
      // Reading goes on from there, frame by frame.
      if (expected + 1 < static_cast<int>(frames.size())) {
        ASSERT_TRUE(reader.Read(&frame));
        EXPECT_NEAR(frame.seconds, frames[expected + 1].seconds, 1e-6);
        EXPECT_EQ(MeanAbsDiff(frame.image, frames[expected + 1].image), 0.0);
      }
    }
  };
  VideoReader reader(path);
  check(reader, targets, "shuffled");
  check(reader, descending, "descending");
  check(reader, ascending, "ascending");  // mostly the decode-forward path

  // Past the end: false, and the reader is at the end; a seek back recovers.
  Frame frame;
  EXPECT_FALSE(reader.SeekTo(frames.back().seconds + 1));
  EXPECT_FALSE(reader.Read(&frame));
  ASSERT_TRUE(reader.SeekTo(0));
  ASSERT_TRUE(reader.Read(&frame));
  EXPECT_EQ(frame.seconds, frames.front().seconds);

  // The same from memory (archive members), through the custom I/O context's seek.
  const std::string bytes = Slurp(path);
  VideoReader memory(std::make_shared<const std::vector<std::uint8_t>>(bytes.begin(), bytes.end()),
                     "member", {});
  check(memory, descending, "memory");
}

INSTANTIATE_TEST_SUITE_P(Containers, SeekTest, ::testing::Values(".mkv", ".mp4"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param + 1);
                         });

// ---- Thumbnails ----------------------------------------------------------------------------

TEST(Thumbnail, SmallJpegOfTheSamePictureForEveryDecodedType) {
  const cv::Mat bgr = DrawCel(5, {1280, 720});
  cv::Mat grey, bgra, deep, floating;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(bgr, bgra, cv::COLOR_BGR2BGRA);
  bgr.convertTo(deep, CV_16UC3, 257.0);
  bgr.convertTo(floating, CV_32FC3, 1 / 255.0);
  const ThumbnailOptions options;
  cv::Mat grey3;
  cv::cvtColor(grey, grey3, cv::COLOR_GRAY2BGR);
  const std::vector<std::pair<const cv::Mat*, const cv::Mat*>> cases = {
      {&bgr, &bgr}, {&grey, &grey3}, {&bgra, &bgr}, {&deep, &bgr}, {&floating, &bgr}};
  for (const auto& [image, shown] : cases) {
    SCOPED_TRACE("type " + std::to_string(image->type()));
    const auto jpeg = EncodeThumbnail(*image, options);
    ASSERT_FALSE(jpeg.empty());
    EXPECT_LE(static_cast<int>(jpeg.size()), options.max_bytes);
    ASSERT_TRUE(jpeg.size() > 3 && jpeg[0] == 0xFF && jpeg[1] == 0xD8) << "a JPEG";
    const cv::Mat back = cv::imdecode(jpeg, cv::IMREAD_COLOR);
    ASSERT_FALSE(back.empty());
    EXPECT_LE(std::max(back.cols, back.rows), options.side);
    EXPECT_GE(std::max(back.cols, back.rows), options.side / 2);
    EXPECT_NEAR(static_cast<double>(back.cols) / back.rows, 16.0 / 9.0, 0.05);
    cv::Mat expected;
    cv::resize(*shown, expected, back.size(), 0, 0, cv::INTER_AREA);
    EXPECT_LT(MeanAbsDiff(back, expected), 12.0);
  }
  // A picture too detailed for the cap at full size gets smaller, not over budget.
  cv::Mat noise(720, 1280, CV_8UC3);
  cv::randu(noise, 0, 256);
  cv::GaussianBlur(noise, noise, {3, 3}, 0);
  EXPECT_LE(static_cast<int>(EncodeThumbnail(noise, options).size()), 3 * options.max_bytes);
  EXPECT_TRUE(EncodeThumbnail(cv::Mat(), options).empty());
}

// ---- The page ------------------------------------------------------------------------------

MatchRecord Occurrence(const std::string& title, int episode, double start, int distance) {
  MatchRecord m;
  m.title = title;
  m.season = 1;
  m.episode = episode;
  m.source = "show_e" + std::to_string(episode) + ".mkv";
  m.ref_start = start;
  m.ref_end = start + 0.125;
  m.distance = distance;
  m.confidence = 0.99;
  return m;
}

ResultRecord Record(const std::string& path, const std::string& status) {
  ResultRecord r;
  r.path = path;
  r.status = status;
  r.media = "image";
  r.size = 1234;
  r.quality = status == "error" ? -1 : 90;
  r.sha256 = Sha256(std::span(reinterpret_cast<const std::uint8_t*>(path.data()), path.size()));
  return r;
}

std::vector<std::uint8_t> JpegOf(int seed) { return EncodeThumbnail(DrawCel(seed, {320, 180})); }

TEST(HtmlReport, LeakNamesAreTextNeverMarkup) {
  const std::string evil = "leak/<img src=x onerror=alert(1)>.png";
  const std::string invalid = "leak/caf\xe9\xff.png";  // Latin-1, not UTF-8
  const std::string title_markup = "</script><script>alert(2)</script>";
  std::vector<ResultRecord> records;
  records.push_back(Record(evil, "match"));
  records.back().matches = {Occurrence("Skyfolk", 1, 12.5, 4), Occurrence("Skyfolk", 1, 80, 9)};
  records.push_back(Record(invalid, "no_match"));
  records.push_back(Record("leak/a\xe2\x80\xa8line.png", "low_information"));  // U+2028
  records.push_back(Record("leak/bad.png", "error"));
  records.back().error = "corrupt: <b>bad</b> & 'quoted' \"x\"";
  records.push_back(Record("leak/copy.png", "match"));
  records.back().matches = records.front().matches;
  records.back().duplicate_of = evil;
  records.push_back(Record("leak/title.png", "match"));
  records.back().matches = {Occurrence(title_markup, 2, 3, 0)};
  ResultRecord clip = Record("leak/clip.mp4", "match");
  clip.media = "video";
  for (int s = 0; s < 2; ++s) {
    MatchRecord m = Occurrence("Skyfolk", 1 + s, 100 + s, 3);
    m.segment = true;
    m.query_start = 3.0 * s;
    m.query_end = 3.0 * s + 2.9;
    m.frames = 70;
    m.coverage = 0.5;
    clip.matches.push_back(m);
  }
  clip.note = "channels stopped after 1 of 2 unexplained stretches: <i>timeout</i>";
  records.push_back(clip);
  // Channel matches show what they rest on: the keypoints' inliers and correlation, a
  // stroke search's strokes in common and shares.
  records.push_back(Record("leak/crop.png", "match"));
  MatchRecord keypoints = Occurrence("Skyfolk", 2, 40, 31);
  keypoints.channel = "orb";
  keypoints.inliers = 87;
  keypoints.correlation = 0.934;
  records.back().matches = {keypoints};
  records.push_back(Record("leak/drawing.png", "match"));
  MatchRecord searched = Occurrence("Skyfolk", 3, 12.846, 0);
  searched.channel = "lineart";
  searched.method = "stroke_search";
  searched.strokes = 0.982;
  searched.drawn = 0.991;
  searched.framed = 0.982;
  keypoints.strokes = 0.9;
  keypoints.channel = "lineart";
  records.back().matches = {searched, keypoints};
  records.push_back(Record("leak/drawing_keypoints.png", "match"));
  records.back().matches = {keypoints};
  records.push_back(Record("leak/unknown_method.png", "match"));
  MatchRecord unknown = searched;
  unknown.method =
      "\xe2\x80\xae"
      "evil<b>";  // a right-to-left override and markup
  records.back().matches = {unknown};
  records.push_back(Record("leak/no_shares.png", "match"));
  MatchRecord bare = searched;
  bare.drawn.reset();
  records.back().matches = {bare};

  ReportContext context;
  context.index = "index<dir>";
  context.generation = "gen-000001";
  HtmlReport report(context);
  for (size_t i = 0; i < records.size(); ++i) {
    const bool matched = records[i].status == "match";
    report.Add(records[i], JpegOf(static_cast<int>(i)),
               matched && i != 5 ? JpegOf(100) : std::vector<std::uint8_t>{},
               "reference footage not found");
  }
  std::ostringstream out;
  report.Write(out);
  const std::string html = out.str();

  // Markup from names never reaches the page as markup.
  EXPECT_EQ(Lower(html).find("<img src=x"), std::string::npos);
  EXPECT_EQ(Lower(html).find("<img"), std::string::npos) << "images are made by the script only";
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_EQ(html.find("<b>bad"), std::string::npos);
  EXPECT_NE(html.find("\\u003cimg src=x onerror=alert(1)\\u003e.png"), std::string::npos);
  EXPECT_NE(html.find("&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("index&lt;dir&gt;"), std::string::npos);
  EXPECT_EQ(html.find("\xe2\x80\xa8"), std::string::npos) << "U+2028 is escaped";
  // Exactly the page's own three script elements, each closed once.
  EXPECT_EQ(Count(Lower(html), "<script"), 3u);
  EXPECT_EQ(Count(Lower(html), "</script"), 3u);
  // No URL: the page asks for nothing over the network.
  EXPECT_EQ(Lower(html).find("http://"), std::string::npos);
  EXPECT_EQ(Lower(html).find("https://"), std::string::npos);

  // The CSP allows exactly the page's style and script, by hash.
  const std::string csp =
      Between(html, "<meta http-equiv=\"Content-Security-Policy\" content=\"", "\">");
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("img-src data:"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  auto csp_hash = [](const std::string& block) {
    const std::string hex =
        Sha256(std::span(reinterpret_cast<const std::uint8_t*>(block.data()), block.size()));
    return "'sha256-" + HexToBase64(hex) + "'";
  };
  EXPECT_NE(csp.find("script-src " + csp_hash(Between(html, "<script>", "</script>"))),
            std::string::npos);
  EXPECT_NE(csp.find("style-src " + csp_hash(Between(html, "<style>", "</style>"))),
            std::string::npos);

  // One row per input; names come back as the JSON output writes them.
  const Page page = ParsePage(html);
  const auto& rows = page.data.at("rows");
  ASSERT_EQ(rows.size(), records.size());
  EXPECT_EQ(rows[0][0], evil);
  EXPECT_EQ(rows[1][0], "leak/caf\\xE9\\xFF.png");
  EXPECT_EQ(rows[2][0], "leak/a\xe2\x80\xa8line.png");
  EXPECT_EQ(rows[3][10], "corrupt: <b>bad</b> & 'quoted' \"x\"");
  EXPECT_EQ(rows[4][11], evil);
  // Identical reference frames are stored once; the missing one carries its note.
  EXPECT_EQ(rows[0][6], rows[4][6]);
  EXPECT_EQ(rows[5][6], -1);
  EXPECT_EQ(page.data["notes"][rows[5][7].get<int>()], "reference footage not found");
  EXPECT_EQ(rows[6][8].size(), 2u) << "both clip segments";
  EXPECT_EQ(rows[6][13], clip.note) << "the note of a clip whose channel pass stopped";
  EXPECT_EQ(rows[0][13], "");
  // A pdq match's evidence is its distance alone (0 in the evidence field); channel matches
  // carry theirs as text.
  EXPECT_EQ(rows[0][8][0][12], 0);
  // Numbers as the JSON record writes them (three decimals); only the top match's, which
  // the page shows.
  EXPECT_EQ(rows[7][8][0][12], "inliers 87, correlation 0.934");
  EXPECT_EQ(rows[8][8][0][12], "stroke search: strokes 0.982 (drawn 0.991, framed 0.982)");
  EXPECT_EQ(rows[8][8][1][12], 0);
  EXPECT_EQ(rows[9][8][0][12], "inliers 87, correlation 0.934, strokes 0.9");
  // A method this version does not know, or a stroke match without its shares, shows none.
  EXPECT_EQ(rows[10][8][0][12], 0);
  EXPECT_EQ(rows[11][8][0][12], 0);
  EXPECT_EQ(html.find("<i>timeout"), std::string::npos);
  EXPECT_EQ(page.thumbs.size(), records.size() + 1);
}

TEST(HtmlReport, TenThousandInputsStayWithinTheSizeBudget) {
  // The worst case: every input a different leaked picture matched to a different reference
  // frame, so no thumbnail is shared; stills list 20 occurrences (5 on the page).
  constexpr int kInputs = 10000;
  constexpr int kPictures = 1000;
  // 1,000 real thumbnails of distinct drawings; each of the 20,000 thumbnail slots takes one
  // with its slot number in a JPEG comment segment, so that no two are identical (and each
  // is a few bytes larger than a real one: the measurement errs on the large side).
  std::vector<std::vector<std::uint8_t>> pictures;
  for (int i = 0; i < kPictures; ++i) pictures.push_back(EncodeThumbnail(DrawCel(i, {480, 270})));
  auto distinct = [&](int slot) {
    std::vector<std::uint8_t> jpeg = pictures[slot % kPictures];
    const std::string note = std::to_string(slot);
    const std::vector<std::uint8_t> comment = {0xFF, 0xFE, 0,
                                               static_cast<std::uint8_t>(note.size() + 2)};
    jpeg.insert(jpeg.begin() + 2, note.begin(), note.end());
    jpeg.insert(jpeg.begin() + 2, comment.begin(), comment.end());
    return jpeg;
  };
  const auto started = std::chrono::steady_clock::now();
  HtmlReport report(ReportContext{});
  size_t thumbnail_bytes = 0;
  for (int i = 0; i < kInputs; ++i) {
    ResultRecord record = Record("leak/day" + std::to_string(i % 30) + "/SC_" +
                                     std::to_string(i % 997) + "/cel_" + std::to_string(i) + ".png",
                                 "match");
    for (int k = 0; k < 20; ++k) {
      record.matches.push_back(Occurrence("Marrow Lane", 1 + i % 40, 61.5 + k * 7.25, 3 + k));
    }
    const auto leak = distinct(i);
    const auto reference = distinct(kInputs + i);
    thumbnail_bytes += leak.size() + reference.size();
    report.Add(record, leak, reference, "");
  }
  std::ostringstream out;
  report.Write(out);
  const std::string html = out.str();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ report   ] " << kInputs << " inputs, every thumbnail distinct: " << html.size()
            << " bytes (" << html.size() / kInputs << " per input; JPEGs "
            << thumbnail_bytes / (2 * kInputs) << " B on average), page made in " << seconds
            << " s\n";
  EXPECT_LE(html.size(), kInputs * kReportBytesPerInput);
  const Page page = ParsePage(html);
  EXPECT_EQ(page.data.at("rows").size(), static_cast<size_t>(kInputs));
  EXPECT_EQ(page.thumbs.size(), static_cast<size_t>(2 * kInputs));
}

// ---- celtrace-match --report end to end ------------------------------------------------------

int RunProgram(const std::vector<std::string>& args) {
  return testing::WaitProgram(testing::StartProgram(args));
}

std::vector<nlohmann::json> JsonLines(const fs::path& path) {
  std::vector<nlohmann::json> records;
  std::istringstream in(Slurp(path));
  std::string line;
  while (std::getline(in, line)) records.push_back(nlohmann::json::parse(line));
  return records;
}

class ReportEndToEnd : public ::testing::Test {
 protected:
  static inline testing::SharedSetUp shared_setup_;
  static void SetUpTestSuite() {
    shared_setup_.Run([] {
      dir_ = new TempDir;
      const synth::CatalogSpec catalog{.out_dir = *dir_ / "catalog",
                                       .episodes = 2,
                                       .seconds = 24,
                                       .seed = 9,
                                       .size = {320, 180},
                                       .with_opening = false};
      synth::WriteCatalog(catalog);
      testing::RequireIndexBuilt(*dir_ / "catalog" / "catalog.csv", *dir_ / "index",
                                 *dir_ / "index.out");
      synth::LeakSpec leak;
      leak.out_dir = *dir_ / "leak";
      leak.catalog = synth::PlanCatalog(catalog);
      leak.seed = 4;
      leak.stills_per_transform = 1;
      items_ = new std::vector<synth::LeakItem>(synth::WriteLeak(leak));
    });
  }
  void SetUp() override { ASSERT_TRUE(shared_setup_.ok()) << shared_setup_.error(); }
  static void TearDownTestSuite() {
    delete items_;
    delete dir_;
  }
  // Runs celtrace-match on the leak; returns the page and checks one row per record.
  static Page Match(const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> args = {CELTRACE_MATCH_BIN,
                                     "--index",
                                     (*dir_ / "index").string(),
                                     (*dir_ / "leak").string(),
                                     "--out",
                                     (*dir_ / (name + ".jsonl")).string(),
                                     "--report",
                                     (*dir_ / (name + ".html")).string(),
                                     "--no-progress"};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string& arg : testing::InstrumentedClipDeadline()) args.push_back(arg);
    EXPECT_EQ(RunProgram(args), 1) << "the leak's corrupt files are errors";
    const std::string html = Slurp(*dir_ / (name + ".html"));
    Page page = ParsePage(html);
    const auto records = JsonLines(*dir_ / (name + ".jsonl"));
    EXPECT_EQ(page.data.at("rows").size(), records.size());
    for (size_t i = 0; i < records.size() && i < page.data["rows"].size(); ++i) {
      EXPECT_EQ(page.data["rows"][i][0], records[i]["path"]);
    }
    return page;
  }
  static const synth::LeakItem* Item(const std::string& path) {
    for (const auto& item : *items_) {
      if ((*dir_ / "leak" / item.path).string() == path) return &item;
    }
    return nullptr;
  }

  static TempDir* dir_;
  static std::vector<synth::LeakItem>* items_;
};
TempDir* ReportEndToEnd::dir_ = nullptr;
std::vector<synth::LeakItem>* ReportEndToEnd::items_ = nullptr;

TEST_F(ReportEndToEnd, TheIndexRecordsTheCatalogueFolderAndOlderManifestsStillLoad) {
  const GenerationInfo info = ReadGenerationInfo(*dir_ / "index");
  EXPECT_EQ(info.catalog_dir, fs::absolute(*dir_ / "catalog").lexically_normal());
  // A manifest without the field (older indexes) loads, with no folder.
  const fs::path copy = *dir_ / "old-index";
  fs::copy(*dir_ / "index", copy, fs::copy_options::recursive);
  const fs::path manifest = copy / info.name / "manifest.json";
  nlohmann::json json = nlohmann::json::parse(Slurp(manifest));
  json.erase("catalog_dir");
  std::ofstream(manifest, std::ios::trunc) << json.dump(2);
  EXPECT_TRUE(ReadGenerationInfo(copy).catalog_dir.empty());
  EXPECT_NO_THROW(Index::Open(copy));
}

TEST_F(ReportEndToEnd, LeakedImageBesideTheReferenceFrameItMatched) {
  const Page page = Match("plain", {});
  int compared = 0;
  cv::Mat previous;
  for (const auto& row : page.data["rows"]) {
    const std::string status = StatusOf(page, row);
    const std::string media = page.data["media"][row[2].get<int>()];
    SCOPED_TRACE(row.dump());
    if (status == "match") {
      ASSERT_GE(row[6].get<int>(), 0) << "reference frame from the recorded catalogue folder";
    }
    if ((media == "image" || media == "video") && status != "error") {
      EXPECT_GE(row[5].get<int>(), 0) << "leaked thumbnail";
    }
    // Untransformed stills and re-encoded clips look like the frame at the matched time.
    const synth::LeakItem* item = Item(row[0]);
    if (status == "match" && item && (item->transform == "none" || item->transform == "reencode")) {
      const cv::Mat leak = Thumb(page, row[5]);
      const cv::Mat reference = Thumb(page, row[6]);
      ASSERT_EQ(leak.size(), reference.size());
      // Measured 2-8 for the right frame; another input's reference frame lies near 70.
      EXPECT_LT(MeanAbsDiff(leak, reference), 12.0);
      if (!previous.empty()) {
        cv::Mat other;
        cv::resize(previous, other, leak.size(), 0, 0, cv::INTER_AREA);
        EXPECT_GT(MeanAbsDiff(leak, other), 30.0) << "the comparison tells frames apart";
      }
      previous = reference;
      ++compared;
    }
  }
  EXPECT_GE(compared, 3);
}

TEST_F(ReportEndToEnd, FootageElsewhereGivesPlaceholdersUntilFootageNamesIt) {
  const Page plain = Match("before-move", {});
  const fs::path moved = *dir_ / "footage-elsewhere";
  fs::rename(*dir_ / "catalog", moved);
  const Page missing = Match("moved", {});
  const Page found = Match("footage", {"--footage", moved.string()});
  fs::rename(moved, *dir_ / "catalog");
  int matched = 0;
  for (size_t i = 0; i < missing.data["rows"].size(); ++i) {
    const auto& row = missing.data["rows"][i];
    if (StatusOf(missing, row) != "match") continue;
    ++matched;
    EXPECT_EQ(row[6], -1);
    EXPECT_NE(missing.data["notes"][row[7].get<int>()].get<std::string>().find("not found"),
              std::string::npos);
    EXPECT_GE(found.data["rows"][i][6].get<int>(), 0);
  }
  EXPECT_GT(matched, 5);
  EXPECT_EQ(found.data, plain.data);
  EXPECT_EQ(found.thumbs, plain.thumbs);
}

TEST_F(ReportEndToEnd, AResumedJobReportsWhatEarlierRunsAnalysed) {
  const Page plain = Match("plain-again", {});
  const fs::path job = *dir_ / "job";
  const Page first = Match("job-first", {"--job", job.string()});
  // Everything is resumed from the journal now: thumbnails come from the job folder.
  const Page resumed = Match("job-resumed", {"--job", job.string()});
  EXPECT_EQ(first.data, plain.data);
  EXPECT_EQ(first.thumbs, plain.thumbs);
  EXPECT_EQ(resumed.data, plain.data);
  EXPECT_EQ(resumed.thumbs, plain.thumbs);
}

}  // namespace
}  // namespace celtrace
