#include "synthetic_leak.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <span>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "celtrace/csv.h"
#include "celtrace/error.h"
#include "celtrace/pdq.h"
#include "celtrace/video_reader.h"
#include "celtrace/video_writer.h"

namespace celtrace::synth {
namespace {

namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

constexpr char kArchiveName[] = "leak_drop.zip";
constexpr char kExpectedName[] = "expected.csv";
// Source frames must be clearly informative, well above the matcher's quality gate, so a
// miss on them is the matcher's fault and not the frame's.
constexpr int kMinSourceQuality = 60;
// Below this PDQ quality a frame is low-information (the matcher's gate).
constexpr int kLowInformationQuality = 50;
constexpr int kPickAttempts = 2000;
constexpr double kClipSeconds = 4;
constexpr double kCompilationPartSeconds = 3;
constexpr double kUnrelatedClipSeconds = 2;
constexpr double kPalFps = 25;
constexpr double kTruncatedFraction = 0.3;
constexpr int kGarbageBytes = 4096;
// Zip members get a fixed time (2024-03-01 00:00 UTC) so the same spec gives the same zip.
constexpr std::time_t kArchiveTime = 1709251200;

// Every section draws from its own stream, so that turning clips or the archive off leaves
// the other sections' files as they were.
enum class Purpose : std::uint32_t {
  kStills = 1,
  kNegatives,
  kClips,
  kCorrupt,
  kArchive,
  kEvaluationStills,
  kEvaluationNegatives,
  kEvaluationClips,
  kEvaluationCompilations,
};

// Random draws from std::mt19937_64 and std::seed_seq, whose outputs the standard fixes
// exactly, with our own range mapping: the standard distributions' algorithms are left to
// the library, and fixtures must not change with the toolchain.
class Draws {
 public:
  Draws(std::uint64_t seed, Purpose purpose) {
    std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                           static_cast<std::uint32_t>(purpose)};
    engine_.seed(sequence);
  }
  std::uint64_t Next() { return engine_(); }
  // Inclusive range. The modulo bias is below 2^-40 for the ranges used here.
  std::int64_t Int(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(hi - lo + 1));
  }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------- sources

// A catalogue episode with the frames a leak may take: those of content shots that show
// them at one timecode only. Openings, title cards and fades are low-information or shared
// between episodes; a loop and the shot it repeats show the same frames twice, which would
// make a still's ground truth ambiguous.
struct Source {
  const CatalogEntry* entry = nullptr;
  Episode episode;
  std::vector<bool> usable;                 // per frame
  std::vector<std::int64_t> usable_frames;  // the indices of the usable frames
};

std::vector<Source> PlanSources(const std::vector<CatalogEntry>& catalog) {
  std::vector<Source> sources;
  sources.reserve(catalog.size());
  for (const CatalogEntry& entry : catalog) {
    Source source;
    source.entry = &entry;
    source.episode = PlanEpisode(entry.spec);
    const std::vector<Shot>& shots = source.episode.shots;
    std::vector<bool> repeated(shots.size(), false);
    for (const Shot& shot : shots) {
      if (shot.kind == ShotKind::kLoopRepeat && shot.source_shot >= 0) {
        repeated[shot.source_shot] = true;
      }
    }
    source.usable.assign(source.episode.frame_count, false);
    for (size_t i = 0; i < shots.size(); ++i) {
      const ShotKind kind = shots[i].kind;
      const bool content = kind == ShotKind::kAnimatedOn2s || kind == ShotKind::kAnimatedOn3s ||
                           kind == ShotKind::kHeld || kind == ShotKind::kPan;
      if (!content || repeated[i]) continue;
      for (std::int64_t f = shots[i].first_frame; f < shots[i].end_frame; ++f) {
        source.usable[f] = true;
        source.usable_frames.push_back(f);
      }
    }
    sources.push_back(std::move(source));
  }
  return sources;
}

double FrameTime(const Source& source, std::int64_t frame) {
  return static_cast<double>(frame) / source.entry->spec.fps;
}

struct SourceFrame {
  int source = 0;
  std::int64_t frame = 0;
  cv::Mat image;
};

// Picks distinct informative frames (usable, PDQ quality >= kMinSourceQuality) at random.
class FramePicker {
 public:
  explicit FramePicker(const std::vector<Source>& sources) : sources_(sources) {}

  SourceFrame Pick(Draws& draws) {
    for (int attempt = 0; attempt < kPickAttempts; ++attempt) {
      const int index = static_cast<int>(draws.Int(0, static_cast<int>(sources_.size()) - 1));
      const Source& source = sources_[index];
      if (source.usable_frames.empty()) continue;
      const std::int64_t frame = source.usable_frames[draws.Int(
          0, static_cast<std::int64_t>(source.usable_frames.size()) - 1)];
      if (!used_.insert({index, frame}).second) continue;
      cv::Mat image = RenderFrame(source.entry->spec, source.episode, frame);
      if (ComputePdq(image).quality < kMinSourceQuality) continue;
      return {index, frame, std::move(image)};
    }
    throw Error("synthetic leak: the catalogue has too few informative frames for the leak");
  }

 private:
  const std::vector<Source>& sources_;
  std::set<std::pair<int, std::int64_t>> used_;
};

struct Window {
  int source = 0;
  std::int64_t first = 0;  // first episode frame
  std::int64_t count = 0;
};

// Every run of `count` consecutive usable frames in an episode other than `exclude`: the
// places a clip can come from with one true source range.
std::vector<Window> WindowCandidates(const std::vector<Source>& sources, std::int64_t count,
                                     int exclude) {
  std::vector<Window> candidates;
  for (int s = 0; s < static_cast<int>(sources.size()); ++s) {
    if (s == exclude) continue;
    const std::vector<bool>& usable = sources[s].usable;
    std::int64_t run = 0;  // usable frames ending at f
    for (std::int64_t f = 0; f < static_cast<std::int64_t>(usable.size()); ++f) {
      run = usable[f] ? run + 1 : 0;
      if (run >= count) candidates.push_back({s, f - count + 1, count});
    }
  }
  return candidates;
}

Window PickWindow(const std::vector<Window>& candidates, Draws& draws) {
  return candidates[draws.Int(0, static_cast<std::int64_t>(candidates.size()) - 1)];
}

Window PickWindow(const std::vector<Source>& sources, std::int64_t count, Draws& draws) {
  return PickWindow(WindowCandidates(sources, count, -1), draws);
}

// ---------------------------------------------------------------- transforms

cv::Mat Scaled(const cv::Mat& image, double factor) {
  cv::Mat out;
  cv::resize(image, out, cv::Size(), factor, factor, factor < 1 ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

// Black bars to make a 16:9 frame 4:3 (bars top and bottom) or 2.37:1 (left and right), as
// TV and web players do.
cv::Mat Letterboxed(const cv::Mat& image) {
  const int height = std::max(image.rows + 2, static_cast<int>(std::lround(image.cols * 0.75)));
  const int top = (height - image.rows) / 2;
  cv::Mat out;
  cv::copyMakeBorder(image, out, top, height - image.rows - top, 0, 0, cv::BORDER_CONSTANT,
                     cv::Scalar::all(0));
  return out;
}

cv::Mat Pillarboxed(const cv::Mat& image) {
  const int width = static_cast<int>(std::lround(image.cols * 4.0 / 3.0));
  const int left = (width - image.cols) / 2;
  cv::Mat out;
  cv::copyMakeBorder(image, out, 0, 0, left, width - image.cols - left, cv::BORDER_CONSTANT,
                     cv::Scalar::all(0));
  return out;
}

cv::Mat GammaAdjusted(const cv::Mat& image, double gamma) {
  cv::Mat table(1, 256, CV_8U);
  for (int v = 0; v < 256; ++v) {
    table.at<std::uint8_t>(v) = cv::saturate_cast<std::uint8_t>(255.0 * std::pow(v / 255.0, gamma));
  }
  cv::Mat out;
  cv::LUT(image, table, out);
  return out;
}

// OpenCV's 8-bit hue runs 0..179 (2 degrees a step).
cv::Mat HueShifted(const cv::Mat& image, int degrees) {
  cv::Mat hsv;
  cv::cvtColor(image, hsv, cv::COLOR_BGR2HSV);
  const int shift = ((degrees / 2) % 180 + 180) % 180;
  for (int y = 0; y < hsv.rows; ++y) {
    auto* row = hsv.ptr<cv::Vec3b>(y);
    for (int x = 0; x < hsv.cols; ++x)
      row[x][0] = static_cast<std::uint8_t>((row[x][0] + shift) % 180);
  }
  cv::Mat out;
  cv::cvtColor(hsv, out, cv::COLOR_HSV2BGR);
  return out;
}

cv::Mat Grayscale(const cv::Mat& image) {
  cv::Mat out;
  cv::cvtColor(image, out, cv::COLOR_BGR2GRAY);
  return out;
}

// One of the lines of a fan subtitle track.
std::string CaptionLine(Draws& draws) {
  static constexpr std::array<const char*, 6> kLines = {
      "I told you, the lantern stays lit.", "We leave at dawn. Pack light.",
      "Is that... the old signal?",         "Don't look back. Just run!",
      "Nobody crosses the bridge tonight.", "You kept the letter all this time?"};
  return kLines[draws.Int(0, kLines.size() - 1)];
}

// A fan-subtitle line: white letters with a black outline, centred in the lower fifth.
cv::Mat WithCaption(const cv::Mat& image, const std::string& line) {
  constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
  int baseline = 0;
  const cv::Size unit = cv::getTextSize(line, kFont, 1.0, 2, &baseline);
  const double scale = std::min(0.8 * image.cols / unit.width, image.rows / 16.0 / unit.height);
  const int thickness = std::max(1, static_cast<int>(std::lround(2 * scale)));
  // The black border reaches about a pixel per 320 of width beyond the letters, each side.
  const int outline = thickness + 2 * std::max(1, image.cols / 320);
  const cv::Size extent = cv::getTextSize(line, kFont, scale, thickness, &baseline);
  const cv::Point origin((image.cols - extent.width) / 2, image.rows - image.rows / 12);
  cv::Mat out = image.clone();
  cv::putText(out, line, origin, kFont, scale, cv::Scalar::all(0), outline, cv::LINE_AA);
  cv::putText(out, line, origin, kFont, scale, cv::Scalar::all(255), thickness, cv::LINE_AA);
  return out;
}

cv::Mat Captioned(const cv::Mat& image, Draws& draws) {
  return WithCaption(image, CaptionLine(draws));
}

cv::Mat Mirrored(const cv::Mat& image) {
  cv::Mat out;
  cv::flip(image, out, 1);
  return out;
}

cv::Mat Cropped(const cv::Mat& image, double fraction) {
  const int dx = static_cast<int>(std::lround(image.cols * fraction));
  const int dy = static_cast<int>(std::lround(image.rows * fraction));
  return image(cv::Rect(dx, dy, image.cols - 2 * dx, image.rows - 2 * dy)).clone();
}

// A window of `keep` of each side in a corner region: its position on each axis lies in
// the outer fifth of the room left, so the crop is off-centre on both axes (the crop a
// retake note or a social post takes around one character, not the middle of the frame).
cv::Mat CroppedOffCentre(const cv::Mat& image, double keep, Draws& draws) {
  const int width = static_cast<int>(std::lround(image.cols * keep));
  const int height = static_cast<int>(std::lround(image.rows * keep));
  const auto place = [&](int room) {
    const int offset = static_cast<int>(draws.Int(0, room / 5));
    return draws.Int(0, 1) == 0 ? offset : room - offset;
  };
  const int x = static_cast<int>(place(image.cols - width));
  const int y = static_cast<int>(place(image.rows - height));
  return image(cv::Rect(x, y, width, height)).clone();
}

cv::Mat Rotated(const cv::Mat& image, double degrees) {
  const cv::Point2f centre(image.cols / 2.0f, image.rows / 2.0f);
  cv::Mat out;
  cv::warpAffine(image, out, cv::getRotationMatrix2D(centre, degrees, 1.0), image.size(),
                 cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  return out;
}

cv::Mat Rotated90(const cv::Mat& image) {
  cv::Mat out;
  cv::rotate(image, out, cv::ROTATE_90_COUNTERCLOCKWISE);
  return out;
}

cv::Mat ContrastAdjusted(const cv::Mat& image, double gain) {
  cv::Mat out;
  image.convertTo(out, -1, gain, 128.0 * (1.0 - gain));
  return out;
}

cv::Mat Blurred(const cv::Mat& image, double sigma) {
  cv::Mat out;
  cv::GaussianBlur(image, out, cv::Size(), sigma);
  return out;
}

// Gaussian sensor noise from the leak's own stream (cv::randn's generator is OpenCV's).
cv::Mat Noisy(const cv::Mat& image, double sigma, Draws& draws) {
  cv::Mat noise(image.size(), CV_16SC3);
  cv::RNG rng(draws.Next());
  rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(sigma));
  cv::Mat widened, out;
  image.convertTo(widened, CV_16SC3);
  cv::add(widened, noise, widened);
  widened.convertTo(out, CV_8UC3);
  return out;
}

cv::Mat Posterised(const cv::Mat& image, int levels) {
  cv::Mat table(1, 256, CV_8U);
  const int step = 256 / levels;
  for (int v = 0; v < 256; ++v) table.at<std::uint8_t>(v) = (v / step) * step + step / 2;
  cv::Mat out;
  cv::LUT(image, table, out);
  return out;
}

// An anamorphic mistake: the 16:9 frame squeezed to 4:3 (or stretched to 2:1).
cv::Mat AspectChanged(const cv::Mat& image, Draws& draws) {
  const double factor = draws.Int(0, 1) == 0 ? 0.75 : 1.125;
  cv::Mat out;
  cv::resize(image, out, cv::Size(static_cast<int>(std::lround(image.cols * factor)), image.rows),
             0, 0, cv::INTER_AREA);
  return out;
}

// A studio watermark: a translucent diagonal line of text across the frame and a solid
// badge in a corner.
cv::Mat Watermarked(const cv::Mat& image, Draws& draws) {
  static constexpr std::array<const char*, 4> kMarks = {
      "CONFIDENTIAL - NOT FOR DISTRIBUTION", "INTERNAL REVIEW ONLY", "PROPERTY OF NORTHLIGHT",
      "WIP - DO NOT SHARE"};
  const std::string text = kMarks[draws.Int(0, kMarks.size() - 1)];
  constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
  int baseline = 0;
  const cv::Size unit = cv::getTextSize(text, kFont, 1.0, 2, &baseline);
  const double scale = 0.9 * image.cols / unit.width;
  const int thickness = std::max(2, static_cast<int>(std::lround(2.5 * scale)));
  cv::Mat layer = cv::Mat::zeros(image.size(), CV_8UC3);
  const cv::Size extent = cv::getTextSize(text, kFont, scale, thickness, &baseline);
  cv::putText(layer, text, cv::Point((image.cols - extent.width) / 2, image.rows / 2), kFont, scale,
              cv::Scalar::all(255), thickness, cv::LINE_AA);
  const double angle = static_cast<double>(draws.Int(15, 30));
  cv::warpAffine(
      layer, layer,
      cv::getRotationMatrix2D(cv::Point2f(image.cols / 2.0f, image.rows / 2.0f), angle, 1.0),
      image.size());
  cv::Mat out;
  cv::addWeighted(image, 1.0, layer, 0.35, 0, out);
  const int badge = std::max(8, image.rows / 10);
  const int x = draws.Int(0, 1) == 0 ? badge / 3 : image.cols - badge * 3 - badge / 3;
  cv::rectangle(out, cv::Rect(x, badge / 3, badge * 3, badge), cv::Scalar(40, 40, 200), cv::FILLED);
  cv::putText(out, "NL", cv::Point(x + badge / 2, badge / 3 + badge * 3 / 4), kFont, badge / 40.0,
              cv::Scalar::all(255), std::max(1, badge / 12), cv::LINE_AA);
  return out;
}

// The frame as a review tool shows it: scaled into the viewer of a dark UI with a title
// bar, a shot list, notes and a timeline of thumbnail boxes, captured at 1920x1080 (or 1.5x
// the frame).
cv::Mat InScreenshot(const cv::Mat& image, Draws& draws) {
  const cv::Size canvas(std::max(1920, image.cols * 3 / 2), std::max(1080, image.rows * 3 / 2));
  cv::Mat shot(canvas, CV_8UC3, cv::Scalar(38, 36, 34));
  const int bar = canvas.height / 20, panel = canvas.width / 6;
  constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;
  const double text = canvas.height / 1800.0;
  cv::rectangle(shot, cv::Rect(0, 0, canvas.width, bar), cv::Scalar(60, 56, 52), cv::FILLED);
  char title[96];
  std::snprintf(title, sizeof(title), "Review - SC_%03d_comp_v%d.mov  [%d/%d]",
                static_cast<int>(draws.Int(1, 240)), static_cast<int>(draws.Int(2, 9)),
                static_cast<int>(draws.Int(1, 40)), 40);
  cv::putText(shot, title, cv::Point(bar / 2, bar * 2 / 3), kFont, text, cv::Scalar::all(220), 1,
              cv::LINE_AA);
  // Shot list on the left, notes on the right.
  for (int row = 0; row < 18; ++row) {
    const int y = bar * 2 + row * bar;
    if (y + bar > canvas.height) break;
    const cv::Scalar shade = row == 3 ? cv::Scalar(120, 90, 40) : cv::Scalar(52, 50, 48);
    cv::rectangle(shot, cv::Rect(bar / 3, y, panel - bar / 2, bar * 4 / 5), shade, cv::FILLED);
    char line[48];
    std::snprintf(line, sizeof(line), "SC_%03d  v%d  %s", static_cast<int>(draws.Int(1, 240)),
                  static_cast<int>(draws.Int(1, 9)), draws.Int(0, 1) == 0 ? "approved" : "notes");
    cv::putText(shot, line, cv::Point(bar / 2, y + bar / 2), kFont, text * 0.8,
                cv::Scalar::all(200), 1, cv::LINE_AA);
  }
  static constexpr std::array<const char*, 4> kNotes = {
      "fix the hand on frame 12", "eyes drift, re-ink", "timing: hold 2 more frames",
      "colour key: warmer"};
  for (int row = 0; row < 4; ++row) {
    cv::putText(shot, kNotes[draws.Int(0, kNotes.size() - 1)],
                cv::Point(canvas.width - panel + bar / 3, bar * 3 + row * bar * 3 / 2), kFont,
                text * 0.8, cv::Scalar::all(190), 1, cv::LINE_AA);
  }
  // Timeline with thumbnail boxes of other shots.
  const int timeline = canvas.height - canvas.height / 7;
  cv::rectangle(shot, cv::Rect(panel, timeline, canvas.width - 2 * panel, canvas.height / 8),
                cv::Scalar(28, 27, 26), cv::FILLED);
  for (int x = panel + bar / 3; x + bar * 2 < canvas.width - panel; x += bar * 2 + bar / 3) {
    const cv::Scalar colour(static_cast<double>(draws.Int(40, 200)),
                            static_cast<double>(draws.Int(40, 200)),
                            static_cast<double>(draws.Int(40, 200)));
    cv::rectangle(shot, cv::Rect(x, timeline + bar / 3, bar * 2, bar + bar / 4), colour,
                  cv::FILLED);
  }
  cv::line(shot,
           cv::Point(panel + static_cast<int>(draws.Int(0, canvas.width - 2 * panel)), timeline),
           cv::Point(panel, timeline + canvas.height / 8), cv::Scalar(40, 40, 230), 2);
  // The viewer: the frame scaled to fit between the panels, above the timeline.
  const cv::Size room(canvas.width - 2 * panel - bar, timeline - 2 * bar - bar / 2);
  const double fit = std::min(static_cast<double>(room.width) / image.cols,
                              static_cast<double>(room.height) / image.rows);
  cv::Mat viewer;
  cv::resize(image, viewer, cv::Size(), fit, fit, fit < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
  const cv::Point at(panel + bar / 2 + (room.width - viewer.cols) / 2,
                     bar * 2 + (room.height - viewer.rows) / 2);
  viewer.copyTo(shot(cv::Rect(at, viewer.size())));
  return shot;
}

cv::Mat Transformed(const std::string& transform, const cv::Mat& frame, Draws& draws) {
  if (transform == "none" || transform == "jpeg_q40") return frame;  // the encoding does it
  if (transform == "scale_50") return Scaled(frame, 0.5);
  if (transform == "scale_200") return Scaled(frame, 2.0);
  if (transform == "letterbox") return Letterboxed(frame);
  if (transform == "pillarbox") return Pillarboxed(frame);
  if (transform == "gamma") return GammaAdjusted(frame, 0.7);
  if (transform == "hue") {
    // A colour grade, not a repaint: PDQ sees luma, which a 20-degree shift moves by up to
    // 22 bits on these frames and a 40-degree one by up to 40.
    const int degrees = static_cast<int>(draws.Int(15, 25));
    return HueShifted(frame, draws.Int(0, 1) == 0 ? degrees : -degrees);
  }
  if (transform == "grayscale") return Grayscale(frame);
  if (transform == "caption") return Captioned(frame, draws);
  if (transform == "mirror") return Mirrored(frame);
  if (transform == "crop_10") return Cropped(frame, 0.1);
  // The evaluation set's further transforms.
  if (transform == "jpeg_q20") return frame;
  if (transform == "scale_25") return Scaled(frame, 0.25);
  if (transform == "contrast") return ContrastAdjusted(frame, draws.Int(0, 1) == 0 ? 1.4 : 0.6);
  if (transform == "blur") return Blurred(frame, frame.cols / 640.0 * 2.0);
  if (transform == "noise") return Noisy(frame, 12, draws);
  if (transform == "posterise") return Posterised(frame, 4);
  if (transform == "aspect") return AspectChanged(frame, draws);
  if (transform == "watermark") return Watermarked(frame, draws);
  if (transform == "rotate_90") return Rotated90(frame);
  if (transform == "rotate_2") return Rotated(frame, draws.Int(0, 1) == 0 ? 2.0 : -2.0);
  if (transform == "rotate_5") return Rotated(frame, draws.Int(0, 1) == 0 ? 5.0 : -5.0);
  if (transform == "crop_25") return Cropped(frame, 0.125);
  if (transform == "crop_25_offcentre") return CroppedOffCentre(frame, 0.75, draws);
  if (transform == "crop_50_offcentre") return CroppedOffCentre(frame, 0.5, draws);
  if (transform == "screenshot") return InScreenshot(frame, draws);
  throw Error("synthetic leak: unknown transform " + transform);
}

// ---------------------------------------------------------------- encoding and files

enum class Format { kPng, kJpeg, kWebp, kBmp };

struct Encoding {
  Format format = Format::kPng;
  int quality = 0;  // JPEG and WebP
};

std::string Extension(Format format) {
  switch (format) {
    case Format::kPng:
      return ".png";
    case Format::kJpeg:
      return ".jpg";
    case Format::kWebp:
      return cv::haveImageWriter(".webp") ? ".webp" : ".png";
    case Format::kBmp:
      return ".bmp";
  }
  return ".png";
}

Bytes Encoded(const cv::Mat& image, Encoding encoding) {
  const std::string extension = Extension(encoding.format);
  std::vector<int> params;
  if (extension == ".jpg") params = {cv::IMWRITE_JPEG_QUALITY, encoding.quality};
  if (extension == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, encoding.quality};
  if (extension == ".png") params = {cv::IMWRITE_PNG_COMPRESSION, 6};
  Bytes bytes;
  if (!cv::imencode(extension, image, bytes, params)) {
    throw Error("synthetic leak: cannot encode an image as " + extension);
  }
  return bytes;
}

Bytes ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  Bytes bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) throw Error("synthetic leak: cannot read " + path.string());
  return bytes;
}

// A PNG signature followed by random bytes: sniffs as an image, decodes to nothing.
Bytes CorruptPng(Draws& draws) {
  Bytes bytes = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  for (int i = 0; i < kGarbageBytes; ++i) bytes.push_back(static_cast<std::uint8_t>(draws.Next()));
  return bytes;
}

// Names in the styles of production folders: scene/cel numbers, retakes, exports, a review
// folder with spaces. Unique within one namespace (the folder, or the zip).
class Names {
 public:
  std::string Still(Draws& draws, const std::string& extension) {
    char stem[96];
    const int scene = static_cast<int>(draws.Int(1, 240));
    const int number = static_cast<int>(draws.Int(1, 9999));
    switch (draws.Int(0, 5)) {
      case 0:
        std::snprintf(stem, sizeof(stem), "SC_%03d/cel_%04d", scene, number);
        break;
      case 1:
        std::snprintf(stem, sizeof(stem), "retakes/v2/SC_%03d_take%d", scene, number % 9 + 1);
        break;
      case 2:
        std::snprintf(stem, sizeof(stem), "exports/frames/frame_%06d", number * 7);
        break;
      case 3:
        std::snprintf(stem, sizeof(stem), "Day 2 - review/shot%03d_comp", scene);
        break;
      case 4:
        std::snprintf(stem, sizeof(stem), "misc/IMG_%04d", number);
        break;
      default:
        std::snprintf(stem, sizeof(stem), "SC_%03d/bg/layout_%03d", scene, number % 1000);
        break;
    }
    return Unique(stem, extension);
  }

  std::string Unique(const std::string& stem, const std::string& extension) {
    std::string name = stem + extension;
    for (int n = 2; !taken_.insert(name).second; ++n) {
      name = stem + "_" + std::to_string(n) + extension;
    }
    return name;
  }

 private:
  std::set<std::string> taken_;
};

class LeakFolder {
 public:
  explicit LeakFolder(fs::path root) : root_(std::move(root)) {}

  // Returns the full path of `relative`, its folders created.
  fs::path Prepare(const std::string& relative) const {
    const fs::path path = root_ / fs::path(relative);
    std::error_code error;
    fs::create_directories(path.parent_path(), error);
    if (error) {
      throw Error("synthetic leak: cannot create " + path.parent_path().string() + ": " +
                  error.message());
    }
    return path;
  }

  void Write(const std::string& relative, std::span<const std::uint8_t> bytes) const {
    const fs::path path = Prepare(relative);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) throw Error("synthetic leak: cannot write " + path.string());
  }

  const fs::path& root() const { return root_; }

 private:
  fs::path root_;
};

LeakItem MatchItem(std::string path, std::string kind, std::string transform,
                   const CatalogEntry& entry, double ref_start, double ref_end,
                   double query_start = 0, double query_end = 0) {
  LeakItem item;
  item.path = std::move(path);
  item.kind = std::move(kind);
  item.transform = std::move(transform);
  item.expected = "match";
  item.title = entry.title;
  item.season = entry.season;
  item.episode = entry.episode;
  item.ref_start = ref_start;
  item.ref_end = ref_end;
  item.query_start = query_start;
  item.query_end = query_end;
  return item;
}

LeakItem OtherItem(std::string path, std::string kind, std::string transform,
                   std::string expected) {
  LeakItem item;
  item.path = std::move(path);
  item.kind = std::move(kind);
  item.transform = std::move(transform);
  item.expected = std::move(expected);
  return item;
}

// A still: a source frame transformed and encoded, with its ground truth.
struct Still {
  const char* transform;
  Encoding encoding;
};

LeakItem StillItem(const std::string& path, const std::string& transform,
                   const std::vector<Source>& sources, const SourceFrame& frame) {
  const Source& source = sources[frame.source];
  const double time = FrameTime(source, frame.frame);
  return MatchItem(path, "still", transform, *source.entry, time, time);
}

// ---------------------------------------------------------------- sections

struct Recipe {
  const char* transform;
  std::array<Encoding, 2> encodings;  // alternating over the copies
  const char* wrong_extension;        // given to the last copy to exercise content sniffing
};

constexpr std::array<Recipe, 12> kRecipes = {{
    {"none", {{{Format::kPng, 0}, {Format::kPng, 0}}}, ".jpg"},
    {"jpeg_q40", {{{Format::kJpeg, 40}, {Format::kJpeg, 40}}}, ".txt"},
    {"scale_50", {{{Format::kWebp, 90}, {Format::kPng, 0}}}, nullptr},
    {"scale_200", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"letterbox", {{{Format::kPng, 0}, {Format::kWebp, 90}}}, nullptr},
    {"pillarbox", {{{Format::kJpeg, 85}, {Format::kBmp, 0}}}, nullptr},
    {"gamma", {{{Format::kPng, 0}, {Format::kBmp, 0}}}, nullptr},
    {"hue", {{{Format::kWebp, 90}, {Format::kPng, 0}}}, nullptr},
    {"grayscale", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"caption", {{{Format::kJpeg, 90}, {Format::kPng, 0}}}, nullptr},
    {"mirror", {{{Format::kPng, 0}, {Format::kWebp, 90}}}, nullptr},
    {"crop_10", {{{Format::kBmp, 0}, {Format::kJpeg, 85}}}, nullptr},
}};

// The evaluation set's further transforms (LeakSpec::evaluation), mildest first.
constexpr std::array<Recipe, 17> kEvaluationRecipes = {{
    {"jpeg_q20", {{{Format::kJpeg, 20}, {Format::kJpeg, 20}}}, nullptr},
    {"scale_25", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"contrast", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"blur", {{{Format::kJpeg, 90}, {Format::kPng, 0}}}, nullptr},
    {"noise", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"posterise", {{{Format::kPng, 0}, {Format::kPng, 0}}}, nullptr},
    {"aspect", {{{Format::kJpeg, 90}, {Format::kPng, 0}}}, nullptr},
    {"watermark", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"rotate_90", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"rotate_2", {{{Format::kJpeg, 90}, {Format::kPng, 0}}}, nullptr},
    {"crop_25", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"crop_25_offcentre", {{{Format::kJpeg, 90}, {Format::kPng, 0}}}, nullptr},
    {"crop_50_offcentre", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"rotate_5", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"screenshot", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"lineart", {{{Format::kPng, 0}, {Format::kJpeg, 90}}}, nullptr},
    {"lineart_crop", {{{Format::kJpeg, 90}, {Format::kPng, 0}}}, nullptr},
}};

// The uncoloured line art of a picked frame, or an empty image when the drawing shows too
// little (characters out of frame) to be an informative still.
cv::Mat LineArtOf(const std::vector<Source>& sources, const SourceFrame& frame) {
  const Source& source = sources[frame.source];
  cv::Mat art = RenderLineArt(source.entry->spec, source.episode, frame.frame);
  if (ComputePdq(art).quality < kMinSourceQuality) return {};
  return art;
}

void WriteRecipes(std::span<const Recipe> recipes, const LeakSpec& spec,
                  const std::vector<Source>& sources, FramePicker& picker, Names& names,
                  const LeakFolder& folder, Draws& draws, std::vector<LeakItem>& items) {
  for (const Recipe& recipe : recipes) {
    const std::string transform = recipe.transform;
    const bool line_art = transform.rfind("lineart", 0) == 0;
    for (int copy = 0; copy < spec.stills_per_transform; ++copy) {
      SourceFrame frame = picker.Pick(draws);
      cv::Mat image;
      if (line_art) {
        for (int attempt = 0; (image = LineArtOf(sources, frame)).empty(); ++attempt) {
          if (attempt == kPickAttempts) {
            throw Error("synthetic leak: no informative line art in the catalogue");
          }
          frame = picker.Pick(draws);
        }
        if (transform == "lineart_crop") image = CroppedOffCentre(image, 0.75, draws);
      } else {
        image = Transformed(transform, frame.image, draws);
      }
      const Encoding encoding = recipe.encodings[copy % recipe.encodings.size()];
      const bool misnamed =
          recipe.wrong_extension != nullptr && copy == spec.stills_per_transform - 1;
      const std::string path =
          names.Still(draws, misnamed ? recipe.wrong_extension : Extension(encoding.format));
      folder.Write(path, Encoded(image, encoding));
      items.push_back(StillItem(path, transform, sources, frame));
    }
  }
}

void WriteStills(const LeakSpec& spec, const std::vector<Source>& sources, FramePicker& picker,
                 Names& names, const LeakFolder& folder, std::vector<LeakItem>& items) {
  Draws draws(spec.seed, Purpose::kStills);
  WriteRecipes(kRecipes, spec, sources, picker, names, folder, draws, items);
  if (spec.evaluation) {
    // Its own stream: the demo's stills stay the same with or without the evaluation set.
    Draws more(spec.seed, Purpose::kEvaluationStills);
    WriteRecipes(kEvaluationRecipes, spec, sources, picker, names, folder, more, items);
  }
}

// The middle frame of a title card whose PDQ quality is under the gate, from the first
// episode (in random order) that has one; an empty image if none has.
cv::Mat LowInformationTitleCard(const std::vector<Source>& sources, Draws& draws) {
  std::vector<int> order(sources.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  for (int i = static_cast<int>(order.size()) - 1; i > 0; --i) {
    std::swap(order[i], order[draws.Int(0, i)]);
  }
  for (const int index : order) {
    const Source& source = sources[index];
    for (const Shot& shot : source.episode.shots) {
      if (shot.kind != ShotKind::kTitleCard) continue;
      cv::Mat card = RenderFrame(source.entry->spec, source.episode,
                                 shot.first_frame + shot.frame_count() / 2);
      if (ComputePdq(card).quality < kLowInformationQuality) return card;
    }
  }
  return {};
}

void WriteNegatives(const LeakSpec& spec, const std::vector<Source>& sources, Names& names,
                    const LeakFolder& folder, std::vector<LeakItem>& items) {
  Draws draws(spec.seed, Purpose::kNegatives);
  const cv::Size size = spec.catalog.front().spec.size;
  for (int copy = 0; copy < spec.stills_per_transform; ++copy) {
    const Encoding encoding =
        copy % 2 == 0 ? Encoding{Format::kPng, 0} : Encoding{Format::kJpeg, 90};
    const std::string path = names.Still(draws, Extension(encoding.format));
    folder.Write(path, Encoded(RenderUnrelatedArt(draws.Next(), size), encoding));
    items.push_back(OtherItem(path, "negative", "unrelated_art", "no_match"));
  }

  const cv::Scalar colour(static_cast<double>(draws.Int(0, 255)),
                          static_cast<double>(draws.Int(0, 255)),
                          static_cast<double>(draws.Int(0, 255)));
  const std::string flat_path = names.Still(draws, ".png");
  folder.Write(flat_path, Encoded(cv::Mat(size, CV_8UC3, colour), {Format::kPng, 0}));
  items.push_back(OtherItem(flat_path, "negative", "flat", "low_information"));
  const std::string black_path = names.Still(draws, ".jpg");
  folder.Write(black_path,
               Encoded(cv::Mat(size, CV_8UC3, cv::Scalar::all(0)), {Format::kJpeg, 90}));
  items.push_back(OtherItem(black_path, "negative", "flat", "low_information"));

  if (spec.evaluation) {
    // The hard transforms applied to unrelated drawings in the same style: what a matcher
    // with crop, screenshot, rotation and line-art channels must still reject. The line art
    // is another studio's (spec.unrelated_line_art_style): in the house style, without
    // colours, it would draw poses the catalogue shows as the catalogue's own drawings
    // (README "Unrelated line art from another studio").
    Draws more(spec.seed, Purpose::kEvaluationNegatives);
    for (int copy = 0; copy < spec.stills_per_transform; ++copy) {
      const Encoding encoding =
          copy % 2 == 0 ? Encoding{Format::kPng, 0} : Encoding{Format::kJpeg, 90};
      const std::uint64_t seed = more.Next();
      const cv::Mat art = RenderUnrelatedArt(seed, size);
      const std::pair<const char*, cv::Mat> variants[] = {
          {"unrelated_crop", CroppedOffCentre(art, 0.75, more)},
          {"unrelated_rotate", Rotated(art, 5)},
          {"unrelated_screenshot", InScreenshot(art, more)},
          {"unrelated_lineart", RenderUnrelatedLineArt(seed, size, spec.unrelated_line_art_style)},
      };
      for (const auto& [transform, image] : variants) {
        const std::string path = names.Still(more, Extension(encoding.format));
        folder.Write(path, Encoded(image, encoding));
        items.push_back(OtherItem(path, "negative", transform, "no_match"));
      }
    }
  }

  // Every title card is designed to stay under the gate; should one not, it is left out
  // rather than mislabelled.
  if (const cv::Mat card = LowInformationTitleCard(sources, draws); !card.empty()) {
    const std::string path = names.Still(draws, ".png");
    folder.Write(path, Encoded(card, {Format::kPng, 0}));
    items.push_back(OtherItem(path, "negative", "title_card", "low_information"));
  }
}

std::int64_t FramesIn(double seconds, double fps) {
  return std::max<std::int64_t>(1, std::llround(seconds * fps));
}

VideoWriterOptions ClipOptions(cv::Size size, double fps, const std::string& codec) {
  VideoWriterOptions options;
  options.width = size.width;
  options.height = size.height;
  options.frame_rate = fps;
  options.codec = codec;
  return options;
}

// An H.264 re-encode where FFmpeg has libx264 (what re-uploads look like), else mpeg4.
std::unique_ptr<VideoWriter> OpenReencodeWriter(const fs::path& path, cv::Size size, double fps) {
  try {
    return std::make_unique<VideoWriter>(path, ClipOptions(size, fps, "libx264"));
  } catch (const Error&) {
    return std::make_unique<VideoWriter>(path, ClipOptions(size, fps, "mpeg4"));
  }
}

// Writes the leak's clips, each drawing its window, name and content from one stream.
class ClipMaker {
 public:
  ClipMaker(const LeakSpec& spec, const std::vector<Source>& sources, Names& names,
            const LeakFolder& folder, std::vector<LeakItem>& items, Draws& draws)
      : spec_(spec),
        sources_(sources),
        names_(names),
        folder_(folder),
        items_(items),
        draws_(draws) {}

  // 4 s of one episode at its own frame rate, clip frame k at k / fps, each frame through
  // `edit` (an identity for a plain re-encode), as H.264 where FFmpeg has libx264. Returns
  // the clip's path.
  template <typename Edit>
  std::string Reencoded(const char* transform, const char* folder, Edit edit) {
    const double fps = spec_.catalog.front().spec.fps;
    const Window window = PickWindow(sources_, FramesIn(kClipSeconds, fps), draws_);
    const Source& source = sources_[window.source];
    char stem[64];
    std::snprintf(stem, sizeof(stem), "%s/SC_%03d_preview", folder, Scene());
    const std::string path = names_.Unique(stem, ".mp4");
    const cv::Mat first = edit(RenderFrame(source.entry->spec, source.episode, window.first));
    const std::unique_ptr<VideoWriter> writer =
        OpenReencodeWriter(folder_.Prepare(path), first.size(), source.entry->spec.fps);
    for (std::int64_t k = 0; k < window.count; ++k) {
      writer->Write(
          k == 0 ? first : edit(RenderFrame(source.entry->spec, source.episode, window.first + k)),
          FrameTime(source, k));
    }
    writer->Close();
    items_.push_back(MatchItem(path, "clip", transform, *source.entry,
                               FrameTime(source, window.first),
                               FrameTime(source, window.first + window.count - 1), 0,
                               FrameTime(source, window.count - 1)));
    return path;
  }

  // PAL speed-up: the episode's frames one for one at 25 fps, so clip frame k, shown at
  // k / 25 s, is episode frame first + k, shown at (first + k) / fps in the episode. The
  // episode time of clip time q is first / fps + q * 25 / fps: played 25 / 23.976 = 4.27%
  // faster. 4 s of clip cover 100 frames, 4.17 s of the episode.
  void Pal() {
    const std::int64_t count = FramesIn(kClipSeconds, kPalFps);
    const Window window = PickWindow(sources_, count, draws_);
    const Source& pal = sources_[window.source];
    char stem[64];
    std::snprintf(stem, sizeof(stem), "clips/pal/SC_%03d_25p", Scene());
    const std::string path = names_.Unique(stem, ".mkv");
    VideoWriter writer(folder_.Prepare(path), ClipOptions(pal.entry->spec.size, kPalFps, "mpeg4"));
    for (std::int64_t k = 0; k < count; ++k) {
      writer.Write(RenderFrame(pal.entry->spec, pal.episode, window.first + k), k / kPalFps);
    }
    writer.Close();
    items_.push_back(MatchItem(path, "clip", "retimed_25fps", *pal.entry,
                               FrameTime(pal, window.first),
                               FrameTime(pal, window.first + count - 1), 0, (count - 1) / kPalFps));
  }

  // A compilation: 3 s of one episode cut to 3 s of another, at the first one's frame rate;
  // the second part's frames through `edit` (which keeps their size).
  template <typename Edit>
  void Compilation(const char* transform, Edit edit) {
    const double fps = spec_.catalog.front().spec.fps;
    const std::int64_t part = FramesIn(kCompilationPartSeconds, fps);
    const Window first = PickWindow(sources_, part, draws_);
    // Another episode where there is one; a one-episode catalogue cuts within itself.
    const std::vector<Window> others = WindowCandidates(sources_, part, first.source);
    const Window second =
        others.empty() ? PickWindow(sources_, part, draws_) : PickWindow(others, draws_);
    char stem[64];
    std::snprintf(stem, sizeof(stem), "edits/best_of_%02d", Scene() % 40);
    const std::string path = names_.Unique(stem, ".mov");
    VideoWriter writer(folder_.Prepare(path),
                       ClipOptions(sources_[first.source].entry->spec.size, fps, "mpeg4"));
    std::int64_t k = 0;
    for (const bool edited : {false, true}) {
      const Window& window = edited ? second : first;
      const Source& s = sources_[window.source];
      const double query_start = k / fps;
      for (std::int64_t i = 0; i < window.count; ++i, ++k) {
        const cv::Mat frame = RenderFrame(s.entry->spec, s.episode, window.first + i);
        writer.Write(edited ? edit(frame) : frame, k / fps);
      }
      items_.push_back(MatchItem(path, "clip", transform, *s.entry, FrameTime(s, window.first),
                                 FrameTime(s, window.first + window.count - 1), query_start,
                                 (k - 1) / fps));
    }
    writer.Close();
  }

  // Unrelated art with a slow camera drift (one pixel every third frame): moving, but
  // never a catalogue frame.
  void Unrelated() {
    const cv::Size size = spec_.catalog.front().spec.size;
    const double fps = spec_.catalog.front().spec.fps;
    const std::int64_t count = FramesIn(kUnrelatedClipSeconds, fps);
    const int drift = static_cast<int>(count / 3);
    const cv::Mat art = RenderUnrelatedArt(draws_.Next(), size + cv::Size(drift, drift / 2));
    char stem[64];
    std::snprintf(stem, sizeof(stem), "clips/SC_%03d_animatic", Scene());
    const std::string path = names_.Unique(stem, ".avi");
    VideoWriter writer(folder_.Prepare(path), ClipOptions(size, fps, "mpeg4"));
    for (std::int64_t k = 0; k < count; ++k) {
      const cv::Rect view(static_cast<int>(k / 3), static_cast<int>(k / 6), size.width,
                          size.height);
      writer.Write(art(view).clone(), k / fps);
    }
    writer.Close();
    items_.push_back(OtherItem(path, "negative", "unrelated_art", "no_match"));
  }

  Draws& draws() { return draws_; }

 private:
  int Scene() { return static_cast<int>(draws_.Int(1, 240)); }

  const LeakSpec& spec_;
  const std::vector<Source>& sources_;
  Names& names_;
  const LeakFolder& folder_;
  std::vector<LeakItem>& items_;
  Draws& draws_;
};

// The picture less its last row or column where they are odd (4:2:0 video needs even sides).
cv::Mat EvenSized(const cv::Mat& frame) {
  return frame(cv::Rect(0, 0, frame.cols & ~1, frame.rows & ~1)).clone();
}

// 10% off each side, then scaled by 3/4 (even sides, as 4:2:0 video needs).
cv::Mat CroppedClipFrame(const cv::Mat& frame) {
  const cv::Mat cropped = Cropped(frame, 0.1);
  const cv::Size size(cropped.cols * 3 / 8 * 2, cropped.rows * 3 / 8 * 2);
  cv::Mat out;
  cv::resize(cropped, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

// Returns the path of the re-encoded clip, which the corrupt section truncates.
std::string WriteClips(const LeakSpec& spec, const std::vector<Source>& sources, Names& names,
                       const LeakFolder& folder, std::vector<LeakItem>& items) {
  const auto unedited = [](const cv::Mat& frame) { return frame; };
  Draws draws(spec.seed, Purpose::kClips);
  ClipMaker clips(spec, sources, names, folder, items, draws);
  const std::string reencoded = clips.Reencoded("reencode", "clips", unedited);
  clips.Pal();
  clips.Compilation("compilation", unedited);
  clips.Unrelated();
  if (spec.evaluation_clips > 0) {
    Draws more(spec.seed, Purpose::kEvaluationClips);
    ClipMaker extra(spec, sources, names, folder, items, more);
    for (int copy = 0; copy < spec.evaluation_clips; ++copy) {
      extra.Reencoded("reencode", "eval/clips", unedited);
      extra.Pal();
      extra.Compilation("compilation", unedited);
      extra.Reencoded("clip_crop", "eval/clips/crop", CroppedClipFrame);
      const std::string line = CaptionLine(more);
      extra.Reencoded("clip_caption", "eval/clips/subbed",
                      [&line](const cv::Mat& frame) { return WithCaption(frame, line); });
      extra.Unrelated();
      // Copies PDQ misses, the extra channels' case: a 25% crop off-centre and the clip
      // inside a review tool's window, placed once per clip (each frame replays the same
      // draws). Last, so that the kinds above keep their draws.
      const Draws crop = more;
      extra.Reencoded("clip_crop_25_offcentre", "eval/clips/crop", [crop](const cv::Mat& frame) {
        Draws same = crop;
        return EvenSized(CroppedOffCentre(frame, 0.75, same));
      });
      more.Next();
      const Draws screen = more;
      extra.Reencoded("clip_screenshot", "eval/clips/review", [screen](const cv::Mat& frame) {
        Draws same = screen;
        return EvenSized(InScreenshot(frame, same));
      });
      more.Next();
    }
    // Compilations whose second part PDQ misses (a 25% crop off-centre, scaled back to the
    // clip's size): the channels' case inside a clip PDQ matches in part. Own draws, so that
    // the kinds above keep theirs.
    Draws cuts(spec.seed, Purpose::kEvaluationCompilations);
    ClipMaker cut(spec, sources, names, folder, items, cuts);
    for (int copy = 0; copy < spec.evaluation_clips; ++copy) {
      const Draws crop = cuts;
      cut.Compilation("compilation_crop_25_offcentre", [crop](const cv::Mat& frame) {
        Draws same = crop;
        cv::Mat out;
        cv::resize(CroppedOffCentre(frame, 0.75, same), out, frame.size(), 0, 0, cv::INTER_AREA);
        return out;
      });
      cuts.Next();
    }
  }
  return reencoded;
}

void WriteCorrupt(const LeakSpec& spec, const std::string& clip, Names& names,
                  const LeakFolder& folder, std::vector<LeakItem>& items) {
  Draws draws(spec.seed, Purpose::kCorrupt);
  const std::string png = names.Still(draws, ".png");
  folder.Write(png, CorruptPng(draws));
  items.push_back(OtherItem(png, "corrupt", "corrupt", "error"));

  // The first 30% of an MP4 whose index (moov) the muxer writes at the end: a download cut
  // short, with no frame a reader can locate.
  if (!clip.empty()) {
    const Bytes bytes = ReadBytes(folder.root() / fs::path(clip));
    const auto kept =
        static_cast<std::size_t>(static_cast<double>(bytes.size()) * kTruncatedFraction);
    char stem[64];
    std::snprintf(stem, sizeof(stem), "clips/SC_%03d_full", static_cast<int>(draws.Int(1, 240)));
    const std::string path = names.Unique(stem, ".mp4");
    folder.Write(path, std::span<const std::uint8_t>(bytes.data(), kept));
    items.push_back(OtherItem(path, "corrupt", "corrupt", "error"));
  }
}

// ---------------------------------------------------------------- the zip

struct ArchiveWriteFree {
  void operator()(archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
  void operator()(archive_entry* e) const { archive_entry_free(e); }
};

void WriteZip(const fs::path& path, const std::vector<std::pair<std::string, Bytes>>& members) {
  std::unique_ptr<archive, ArchiveWriteFree> zip(archive_write_new());
  if (!zip) throw Error("synthetic leak: cannot allocate a zip writer");
  const auto check = [&](int status, const char* what) {
    if (status != ARCHIVE_OK) {
      const char* message = archive_error_string(zip.get());
      throw Error("synthetic leak: " + path.string() + ": " + what + ": " +
                  (message != nullptr ? message : "unknown error"));
    }
  };
  check(archive_write_set_format_zip(zip.get()), "zip format");
  check(archive_write_open_filename(zip.get(), path.c_str()), "cannot create");
  const auto add = [&](const std::string& name, const Bytes* bytes) {
    std::unique_ptr<archive_entry, ArchiveEntryFree> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), bytes != nullptr ? AE_IFREG : AE_IFDIR);
    archive_entry_set_perm(entry.get(), bytes != nullptr ? 0644 : 0755);
    archive_entry_set_size(entry.get(),
                           bytes != nullptr ? static_cast<la_int64_t>(bytes->size()) : 0);
    archive_entry_set_mtime(entry.get(), kArchiveTime, 0);
    check(archive_write_header(zip.get(), entry.get()), "cannot add a member");
    if (bytes != nullptr && !bytes->empty() &&
        archive_write_data(zip.get(), bytes->data(), bytes->size()) !=
            static_cast<la_ssize_t>(bytes->size())) {
      check(ARCHIVE_FATAL, "cannot write a member");
    }
  };
  // Folder entries before their first member, as zip tools write them: readers must skip them.
  std::set<std::string> folders;
  for (const auto& [name, bytes] : members) {
    for (std::size_t slash = name.find('/'); slash != std::string::npos;
         slash = name.find('/', slash + 1)) {
      const std::string folder = name.substr(0, slash + 1);
      if (folders.insert(folder).second) add(folder, nullptr);
    }
    add(name, &bytes);
  }
  check(archive_write_close(zip.get()), "cannot finish");
}

void WriteArchive(const LeakSpec& spec, const std::vector<Source>& sources, FramePicker& picker,
                  const LeakFolder& folder, std::vector<LeakItem>& items) {
  Draws draws(spec.seed, Purpose::kArchive);
  static constexpr std::array<Still, 4> kMembers = {{{"none", {Format::kPng, 0}},
                                                     {"jpeg_q40", {Format::kJpeg, 40}},
                                                     {"mirror", {Format::kPng, 0}},
                                                     {"scale_50", {Format::kWebp, 90}}}};
  Names names;
  std::vector<std::pair<std::string, Bytes>> members;
  char stem[64];
  for (std::size_t i = 0; i < kMembers.size(); ++i) {
    const SourceFrame frame = picker.Pick(draws);
    std::snprintf(stem, sizeof(stem), "drop/day%zu/SC_%d/cel_%04d", i / 2 + 1,
                  static_cast<int>(draws.Int(1, 60)), static_cast<int>(draws.Int(1, 9999)));
    const std::string name = names.Unique(stem, Extension(kMembers[i].encoding.format));
    members.emplace_back(name, Encoded(Transformed(kMembers[i].transform, frame.image, draws),
                                       kMembers[i].encoding));
    items.push_back(
        StillItem(std::string(kArchiveName) + "!/" + name, kMembers[i].transform, sources, frame));
  }
  std::snprintf(stem, sizeof(stem), "drop/day2/SC_%d/cel_%04d", static_cast<int>(draws.Int(1, 60)),
                static_cast<int>(draws.Int(1, 9999)));
  const std::string broken = names.Unique(stem, ".png");
  members.emplace_back(broken, CorruptPng(draws));
  items.push_back(
      OtherItem(std::string(kArchiveName) + "!/" + broken, "corrupt", "corrupt", "error"));
  WriteZip(folder.Prepare(kArchiveName), members);
}

void WriteExpected(const fs::path& path, const std::vector<LeakItem>& items) {
  std::ofstream out(path, std::ios::trunc);
  out << kLeakCsvHeader << '\n';
  char times[128];
  for (const LeakItem& item : items) {
    std::snprintf(times, sizeof(times), "%.3f,%.3f,%.3f,%.3f", item.ref_start, item.ref_end,
                  item.query_start, item.query_end);
    out << CsvField(item.path) << ',' << CsvField(item.kind) << ',' << CsvField(item.transform)
        << ',' << CsvField(item.expected) << ',' << CsvField(item.title) << ',' << item.season
        << ',' << item.episode << ',' << times << '\n';
  }
  out.close();
  if (!out) throw Error("synthetic leak: cannot write " + path.string());
}

std::string ReadText(const fs::path& path) {
  const Bytes bytes = ReadBytes(path);
  return std::string(bytes.begin(), bytes.end());
}

}  // namespace

std::vector<LeakItem> WriteLeak(const LeakSpec& spec) {
  if (spec.catalog.empty()) throw Error("synthetic leak: the catalogue is empty");
  if (spec.stills_per_transform < 1) {
    throw Error("synthetic leak: stills_per_transform must be at least 1, got " +
                std::to_string(spec.stills_per_transform));
  }
  const std::vector<Source> sources = PlanSources(spec.catalog);
  if (spec.with_clips) {
    // Checked before any file is written, so a failure leaves no half-made leak.
    const double fps = spec.catalog.front().spec.fps;
    for (const std::int64_t count : {FramesIn(kClipSeconds, fps), FramesIn(kClipSeconds, kPalFps),
                                     FramesIn(kCompilationPartSeconds, fps)}) {
      if (WindowCandidates(sources, count, -1).empty()) {
        throw Error("synthetic leak: no episode holds " + std::to_string(count) +
                    " consecutive content frames for a clip; make the episodes longer");
      }
    }
  }
  std::error_code error;
  fs::create_directories(spec.out_dir, error);
  if (error) {
    throw Error("synthetic leak: cannot create " + spec.out_dir.string() + ": " + error.message());
  }
  const LeakFolder folder(spec.out_dir);
  FramePicker picker(sources);
  Names names;
  std::vector<LeakItem> items;
  WriteStills(spec, sources, picker, names, folder, items);
  WriteNegatives(spec, sources, names, folder, items);
  const std::string clip = spec.with_clips ? WriteClips(spec, sources, names, folder, items) : "";
  WriteCorrupt(spec, clip, names, folder, items);
  if (spec.with_archive) WriteArchive(spec, sources, picker, folder, items);
  WriteExpected(spec.out_dir / kExpectedName, items);
  return items;
}

void VerifyCatalogDir(const fs::path& catalog_dir, const std::vector<CatalogEntry>& catalog) {
  if (catalog.empty()) throw Error("synthetic leak: the catalogue is empty");
  const auto mismatch = [&](const std::string& what) {
    throw Error("synthetic leak: " + catalog_dir.string() +
                " does not hold the catalogue these flags describe (" + what +
                "); pass the flags it was written with");
  };
  const fs::path catalog_csv = catalog_dir / "catalog.csv";
  if (!fs::is_regular_file(catalog_csv)) mismatch("no catalog.csv");
  const auto rows = ParseCsv(ReadText(catalog_csv));
  if (rows.size() != catalog.size() + 1) mismatch("catalog.csv lists another number of episodes");
  for (std::size_t i = 0; i < catalog.size(); ++i) {
    const CatalogEntry& e = catalog[i];
    const std::vector<std::string> wanted = {e.path, e.title, std::to_string(e.season),
                                             std::to_string(e.episode), e.episode_title};
    if (rows[i + 1] != wanted) mismatch("catalog.csv line " + std::to_string(i + 2) + " differs");
  }

  // Shot lists depend on the length, frame rate and opening: a check catalog.csv misses.
  std::vector<std::vector<std::string>> wanted_shots = {
      {"path", "shot", "kind", "start", "end", "first_frame", "end_frame", "source_shot"}};
  for (const CatalogEntry& e : catalog) {
    std::ostringstream list;
    WriteShotList(PlanEpisode(e.spec), list);
    auto shot_rows = ParseCsv(list.str());
    for (std::size_t r = 1; r < shot_rows.size(); ++r) {
      shot_rows[r].insert(shot_rows[r].begin(), e.path);
      wanted_shots.push_back(std::move(shot_rows[r]));
    }
  }
  const fs::path shots_csv = catalog_dir / "shots.csv";
  if (!fs::is_regular_file(shots_csv)) mismatch("no shots.csv");
  if (ParseCsv(ReadText(shots_csv)) != wanted_shots) mismatch("shots.csv differs");

  const cv::Size size = catalog.front().spec.size;
  VideoReader reader(catalog_dir / catalog.front().path);
  if (reader.width() != size.width || reader.height() != size.height) {
    mismatch(catalog.front().path + " is " + std::to_string(reader.width()) + "x" +
             std::to_string(reader.height()));
  }
}

}  // namespace celtrace::synth
