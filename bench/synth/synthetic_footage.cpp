#include "synthetic_footage.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "celtrace/error.h"
#include "celtrace/video_writer.h"

namespace celtrace::synth {
namespace {

constexpr double kPi = std::numbers::pi;

// Salts keep the random streams of different purposes apart, so that, say, the opening of
// seed 7 never shares drawings with episode 7, and unrelated art never with any episode.
constexpr std::uint64_t kPlanSalt = 0x706c616e;
constexpr std::uint64_t kContentSalt = 0x73686f74;
constexpr std::uint64_t kOpeningPlanSalt = 0x6f70706c;
constexpr std::uint64_t kOpeningContentSalt = 0x6f70636f;
constexpr std::uint64_t kLookSalt = 0x6c6f6f6b;
constexpr std::uint64_t kTitleSalt = 0x7469746c;
constexpr std::uint64_t kUnrelatedSalt = 0x756e7265;
constexpr std::uint64_t kCatalogSalt = 0x63617461;
constexpr std::uint64_t kShowOpeningSalt = 0x73686f77;
constexpr std::uint64_t kBackgroundSalt = 0x626b6772;
constexpr std::uint64_t kBlinkSalt = 0x626c6e6b;
constexpr std::uint64_t kOtherStudioSalt = 0x6f746872;

constexpr double kMinShotSeconds = 1.0;
constexpr int kMinSide = 64;
// Line art: graphite strokes on slightly warm drawing paper.
const cv::Scalar kPaper(236, 242, 245);
const cv::Scalar kGraphite(48, 44, 44);
// Backgrounds are painted at 1/4 resolution and scaled up: soft like painted cels, and
// cheap enough to repaint for every frame.
constexpr int kBackgroundScale = 4;
// Sub-pixel precision of character drawing (OpenCV's `shift`): coordinates times 16.
constexpr int kShift = 4;
constexpr double kSubpixel = 1 << kShift;
constexpr int kCastSize = 4;

std::uint64_t Finalise(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// Order-sensitive: Mix(a, b) != Mix(b, a).
std::uint64_t Mix(std::uint64_t a, std::uint64_t b) { return Finalise(a ^ Finalise(b + kGolden)); }

// SplitMix64. Written here rather than std::mt19937 with std distributions because the
// standard leaves the distributions' algorithms to the library: fixtures must not change
// with the toolchain.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() { return Finalise(state_ += kGolden); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  int Int(int lo, int hi) {
    return lo + static_cast<int>(Next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }

 private:
  std::uint64_t state_;
};

// ---------------------------------------------------------------- colours and looks

// HSV with hue in degrees (any value, wrapped), saturation and value 0..1, to BGR.
cv::Scalar Hsv(double hue, double s, double v) {
  hue = std::fmod(std::fmod(hue, 360.0) + 360.0, 360.0) / 60.0;
  const int sector = static_cast<int>(hue) % 6;
  const double f = hue - std::floor(hue);
  const double p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
  double r = v, g = t, b = p;
  switch (sector) {
    case 0:
      r = v, g = t, b = p;
      break;
    case 1:
      r = q, g = v, b = p;
      break;
    case 2:
      r = p, g = v, b = t;
      break;
    case 3:
      r = p, g = q, b = v;
      break;
    case 4:
      r = t, g = p, b = v;
      break;
    default:
      r = v, g = p, b = q;
      break;
  }
  return cv::Scalar(255 * b, 255 * g, 255 * r);
}

cv::Scalar Lerp(const cv::Scalar& a, const cv::Scalar& b, double t) { return a + (b - a) * t; }

// One character model sheet. Lengths are fractions of the standing height.
struct Design {
  cv::Scalar skin, hair, top, bottom, shoes, iris;
  double head = 0.16;   // head radius
  double torso = 0.12;  // half shoulder width
  double limb = 0.055;  // limb thickness
  int hair_style = 0;   // 0 spiky, 1 bob, 2 ponytail; another studio's: 3 flat top, 4 long
  bool round_body = false;
  // Drawn in another studio's style (unrelated art only): a wider head, dot eyes under brows,
  // a smile, hair styles 3-4. The catalogue's shows share one house style.
  bool other_studio = false;
  cv::Scalar mouth{60, 50, 150};  // inside of an open mouth
};

// What stays the same across the shots of one episode (or of one opening): the colour key
// and the cast.
struct Look {
  double hue = 0;
  cv::Scalar ink;
  std::array<Design, kCastSize> cast;
};

Look MakeLook(std::uint64_t seed) {
  Rng rng(Mix(seed, kLookSalt));
  Look look;
  look.hue = rng.Uniform(0, 360);
  // Cel ink is rarely pure black; a dark tint of the key colour reads as hand-inked.
  look.ink = Hsv(look.hue + 180, 0.5, 0.12);
  for (Design& d : look.cast) {
    d.skin = rng.Chance(0.15)
                 ? Hsv(rng.Uniform(0, 360), 0.35, 0.9)
                 : Hsv(rng.Uniform(12, 35), rng.Uniform(0.15, 0.45), rng.Uniform(0.7, 1));
    d.hair = Hsv(rng.Uniform(0, 360), rng.Uniform(0.3, 0.95), rng.Uniform(0.15, 0.95));
    d.top = Hsv(rng.Uniform(0, 360), rng.Uniform(0.4, 0.95), rng.Uniform(0.35, 0.95));
    d.bottom = Hsv(rng.Uniform(0, 360), rng.Uniform(0.2, 0.8), rng.Uniform(0.2, 0.7));
    d.shoes = Hsv(rng.Uniform(0, 360), rng.Uniform(0.2, 0.7), rng.Uniform(0.1, 0.5));
    d.iris = Hsv(rng.Uniform(0, 360), rng.Uniform(0.5, 0.9), rng.Uniform(0.3, 0.7));
    d.head = rng.Uniform(0.13, 0.19);
    d.torso = rng.Uniform(0.09, 0.15);
    d.limb = rng.Uniform(0.045, 0.07);
    d.hair_style = rng.Int(0, 2);
    d.round_body = rng.Chance(0.4);
  }
  return look;
}

std::string EpisodeTitle(std::uint64_t seed) {
  static constexpr std::array<const char*, 20> kAdjectives = {
      "Paper",   "Quiet",   "Broken", "Silver",  "Lost",     "Hollow",    "Falling",
      "Last",    "Crimson", "Winter", "Secret",  "Sleeping", "Wandering", "Little",
      "Burning", "Glass",   "Second", "Distant", "Borrowed", "Midnight"};
  static constexpr std::array<const char*, 20> kNouns = {
      "Lantern",  "Harbour", "Promise", "Kite",    "Garden", "Signal", "Bridge",
      "Festival", "Letter",  "Compass", "Orchard", "Tide",   "Engine", "Rooftop",
      "Storm",    "Melody",  "Door",    "Comet",   "Market", "Island"};
  Rng rng(Mix(seed, kTitleSalt));
  const std::string adjective = kAdjectives[rng.Int(0, kAdjectives.size() - 1)];
  const std::string noun = kNouns[rng.Int(0, kNouns.size() - 1)];
  const std::string other = kNouns[rng.Int(0, kNouns.size() - 1)];
  switch (rng.Int(0, 2)) {
    case 0:
      return "The " + adjective + " " + noun;
    case 1:
      return noun + " of the " + adjective + " " + other;
    default:
      return adjective + " " + noun + "s";
  }
}

// The show's name on the opening's logo card: an invented word.
std::string LogoName(std::uint64_t opening_seed) {
  static constexpr std::array<const char*, 16> kSyllables = {"ka",  "ri", "mo",  "ve", "lu", "sen",
                                                             "ta",  "no", "shi", "ra", "po", "mi",
                                                             "dan", "ko", "e",   "zu"};
  Rng rng(Mix(opening_seed, kTitleSalt));
  std::string name;
  const int count = rng.Int(2, 4);
  for (int i = 0; i < count; ++i) name += kSyllables[rng.Int(0, kSyllables.size() - 1)];
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name + "!";
}

// ---------------------------------------------------------------- drawing helpers

cv::Point ToFixed(cv::Point2d p) {
  return {static_cast<int>(std::lround(p.x * kSubpixel)),
          static_cast<int>(std::lround(p.y * kSubpixel))};
}

cv::Point2d Rotate(cv::Point2d v, double angle) {
  const double c = std::cos(angle), s = std::sin(angle);
  return {c * v.x - s * v.y, s * v.x + c * v.y};
}

// Unit vector `angle` radians from straight down, positive towards screen right.
cv::Point2d Down(double angle) { return {std::sin(angle), std::cos(angle)}; }

std::vector<cv::Point> EllipsePoints(cv::Point2d centre, double rx, double ry, double angle,
                                     int count = 28) {
  std::vector<cv::Point> points;
  points.reserve(count);
  for (int i = 0; i < count; ++i) {
    const double t = 2 * kPi * i / count;
    points.push_back(ToFixed(centre + Rotate({rx * std::cos(t), ry * std::sin(t)}, angle)));
  }
  return points;
}

// An inked ellipse: an ink ellipse with the fill drawn inside it, twice as fast as an
// anti-aliased thick outline.
void FillOutlinedEllipse(cv::Mat& image, cv::Point2d centre, double rx, double ry, double angle,
                         const cv::Scalar& fill, const cv::Scalar& ink, int thickness,
                         int count = 28) {
  const double half = thickness / 2.0;
  for (const auto& [grow, colour] : {std::pair{half, ink}, std::pair{-half, fill}}) {
    const std::vector<cv::Point> points =
        EllipsePoints(centre, std::max(0.5, rx + grow), std::max(0.5, ry + grow), angle, count);
    const cv::Point* data = points.data();
    const int size = static_cast<int>(points.size());
    cv::fillPoly(image, &data, &size, 1, colour, cv::LINE_AA, kShift);
  }
}

void FillOutlined(cv::Mat& image, const std::vector<cv::Point>& points, const cv::Scalar& fill,
                  const cv::Scalar& ink, int thickness) {
  const cv::Point* data = points.data();
  const int count = static_cast<int>(points.size());
  cv::fillPoly(image, &data, &count, 1, fill, cv::LINE_AA, kShift);
  cv::polylines(image, &data, &count, 1, true, ink, thickness, cv::LINE_AA, kShift);
}

// Filled and anti-aliased, without ink: background shapes, pupils, highlights.
void FillEllipse(cv::Mat& canvas, cv::Point2d centre, double rx, double ry,
                 const cv::Scalar& colour, double angle = 0, int count = 40) {
  const std::vector<cv::Point> points = EllipsePoints(centre, rx, ry, angle, count);
  const cv::Point* data = points.data();
  const int size = static_cast<int>(points.size());
  cv::fillPoly(canvas, &data, &size, 1, colour, cv::LINE_AA, kShift);
}

void FillRect(cv::Mat& canvas, double x0, double y0, double x1, double y1,
              const cv::Scalar& colour) {
  const std::vector<cv::Point> points = {ToFixed({x0, y0}), ToFixed({x1, y0}), ToFixed({x1, y1}),
                                         ToFixed({x0, y1})};
  cv::fillConvexPoly(canvas, points, colour, cv::LINE_AA, kShift);
}

// Rows [y0, y1) blend from `top` to `bottom`.
void VerticalGradient(cv::Mat& canvas, int y0, int y1, const cv::Scalar& top,
                      const cv::Scalar& bottom) {
  y0 = std::clamp(y0, 0, canvas.rows);
  y1 = std::clamp(y1, 0, canvas.rows);
  for (int y = y0; y < y1; ++y) {
    canvas.row(y).setTo(Lerp(top, bottom, (y - y0 + 0.5) / std::max(1, y1 - y0)));
  }
}

// ---------------------------------------------------------------- scenes

enum class Framing { kFull, kMedium, kCloseUp };
enum class Action { kWalk, kJump, kWave, kDance, kApproach, kTalk };
enum class BackgroundStyle { kOutdoor, kIndoor, kDramatic, kFlat };

struct Actor {
  int design = 0;
  double x = 0;       // feet, pixels
  double ground = 0;  // feet, pixels
  double height = 0;  // standing height, pixels
  Action action = Action::kWalk;
  double phase = 0;       // radians at the first drawing
  double phase_step = 1;  // radians per drawing
  double travel = 0;      // pixels per drawing (walks)
  double facing = 0;      // -1 (looks left) .. 1
  std::uint64_t seed = 0;
};

struct Scene {
  std::uint64_t background_seed = 0;
  BackgroundStyle style = BackgroundStyle::kOutdoor;
  cv::Size canvas;     // painted background, at 1/kBackgroundScale
  cv::Size view;       // one frame, at 1/kBackgroundScale
  cv::Point pan_step;  // pixels per frame, full resolution
  std::vector<Actor> actors;
};

// Everything a shot needs from its surroundings: the list it belongs to (fades and loops
// look back), the look, the text of its title card.
struct ShotContext {
  const std::vector<Shot>* shots = nullptr;
  Look look;
  std::string card_text;
  cv::Size size;
  bool line_art = false;  // ink lines on paper: no background, no colour
};

Scene MakeScene(const Shot& shot, cv::Size size) {
  Rng rng(shot.content_seed);
  Scene scene;
  scene.background_seed = Mix(shot.content_seed, kBackgroundSalt);
  const double style = rng.Uniform();
  scene.style = style < 0.4    ? BackgroundStyle::kOutdoor
                : style < 0.7  ? BackgroundStyle::kIndoor
                : style < 0.85 ? BackgroundStyle::kDramatic
                               : BackgroundStyle::kFlat;
  cv::Size extent(0, 0);
  if (shot.kind == ShotKind::kPan) {
    // Whole pixels per frame make every pan frame an exact crop of one scaled painting.
    const int speed = rng.Int(2, 6);
    const int span = speed * static_cast<int>(std::max<std::int64_t>(0, shot.frame_count() - 1));
    const int sign = rng.Chance(0.5) ? 1 : -1;
    if (rng.Chance(0.75)) {
      scene.pan_step = {sign * speed, 0};
      extent.width = span;
    } else {
      scene.pan_step = {0, sign * speed};
      extent.height = span;
    }
    // A pan needs scenery to travel over; flat and radial backdrops would hide the motion.
    scene.style = rng.Chance(0.7) ? BackgroundStyle::kOutdoor : BackgroundStyle::kIndoor;
  }
  scene.canvas = cv::Size((size.width + extent.width) / kBackgroundScale + 3,
                          (size.height + extent.height) / kBackgroundScale + 3);
  scene.view = size / kBackgroundScale;

  const double roll = rng.Uniform();
  const Framing framing = roll < 0.45  ? Framing::kFull
                          : roll < 0.8 ? Framing::kMedium
                                       : Framing::kCloseUp;
  int count = 1;
  if (framing != Framing::kCloseUp) count = rng.Chance(0.5) ? 1 : rng.Chance(0.7) ? 2 : 3;
  const int step = shot.kind == ShotKind::kAnimatedOn3s ? 3 : 2;
  const double drawings =
      std::max<double>(1, std::ceil(shot.frame_count() / static_cast<double>(step)));
  const double w = size.width, h = size.height;
  for (int i = 0; i < count; ++i) {
    Actor a;
    a.seed = rng.Next();
    a.design = rng.Int(0, kCastSize - 1);
    const double slot = (i + 0.5) / count;
    a.x = w * std::clamp(slot + rng.Uniform(-0.1, 0.1) / count, 0.12, 0.88);
    switch (framing) {
      case Framing::kFull:
        a.height = h * rng.Uniform(0.55, 0.85);
        a.ground = h * rng.Uniform(0.86, 0.97);
        break;
      case Framing::kMedium:
        a.height = h * rng.Uniform(1.2, 1.6);
        a.ground = h * rng.Uniform(0.05, 0.15) + a.height;
        break;
      case Framing::kCloseUp:
        a.height = h * rng.Uniform(2.2, 3.0);
        a.ground = h * rng.Uniform(0.02, 0.12) + a.height;
        break;
    }
    const double kind = rng.Uniform();
    a.action = kind < 0.25   ? Action::kWalk
               : kind < 0.45 ? Action::kWave
               : kind < 0.62 ? Action::kDance
               : kind < 0.77 ? Action::kJump
               : kind < 0.9  ? Action::kApproach
                             : Action::kTalk;
    a.phase = rng.Uniform(0, 2 * kPi);
    // A gesture cycle of 0.8-1.6 s at about 24 fps, whatever the step: drawings on 3s move
    // further apart than drawings on 2s, as in real limited animation.
    a.phase_step = step * rng.Uniform(0.16, 0.33);
    a.facing = rng.Uniform(-1, 1);
    if (a.action == Action::kWalk) {
      // Walk towards the far side, possibly out of frame, as characters do between cuts.
      const double direction = a.x < w / 2 ? 1 : -1;
      a.travel = direction * w * rng.Uniform(0.2, 0.6) / drawings;
      a.facing = direction * rng.Uniform(0.5, 1);
    }
    scene.actors.push_back(a);
  }
  return scene;
}

// Paints the whole background (the full pan extent) at 1/kBackgroundScale. Positions are
// drawn relative to the canvas, so a wide pan painting holds proportionally more scenery.
cv::Mat PaintBackground(const Scene& scene, const Look& look) {
  Rng rng(scene.background_seed);
  const cv::Size c = scene.canvas;
  const double w = c.width, h = c.height;
  // Shapes are sized by the frame, not by the pan extent.
  const double fw = scene.view.width, fh = scene.view.height;
  cv::Mat canvas(c, CV_8UC3);
  const double hue = look.hue + rng.Uniform(-70, 70);
  const auto count = [&](double per_frame) {
    const double frames = (w * h) / (fw * fh);
    return std::max(1, static_cast<int>(std::lround(per_frame * frames * rng.Uniform(0.6, 1.4))));
  };
  switch (scene.style) {
    case BackgroundStyle::kOutdoor: {
      const int horizon = static_cast<int>(h * rng.Uniform(0.4, 0.75));
      const double sky = hue + rng.Uniform(150, 210);
      VerticalGradient(canvas, 0, horizon, Hsv(sky, rng.Uniform(0.4, 0.8), rng.Uniform(0.6, 0.95)),
                       Hsv(sky + rng.Uniform(-40, 40), rng.Uniform(0.1, 0.4), 1.0));
      const double earth = hue + rng.Uniform(-40, 40);
      VerticalGradient(canvas, horizon, c.height,
                       Hsv(earth, rng.Uniform(0.3, 0.7), rng.Uniform(0.45, 0.8)),
                       Hsv(earth + 20, rng.Uniform(0.4, 0.8), rng.Uniform(0.2, 0.5)));
      if (rng.Chance(0.4)) {
        FillEllipse(canvas, {rng.Uniform(0, w), rng.Uniform(0.1, 0.3) * h}, fh * 0.09, fh * 0.09,
                    Hsv(rng.Uniform(30, 60), 0.3, 1.0));
      }
      for (int i = count(3); i > 0; --i) {  // hills, far to near
        const double rx = fw * rng.Uniform(0.2, 0.5);
        FillEllipse(
            canvas, {rng.Uniform(0, w), horizon + fh * rng.Uniform(0.0, 0.15)}, rx,
            fh * rng.Uniform(0.1, 0.3),
            Hsv(earth + rng.Uniform(-30, 30), rng.Uniform(0.3, 0.8), rng.Uniform(0.3, 0.75)));
      }
      for (int i = count(3); i > 0; --i) {  // clouds
        const cv::Point2d at(rng.Uniform(0, w), rng.Uniform(0.05, 0.35) * h);
        const double r = fh * rng.Uniform(0.05, 0.11);
        const cv::Scalar white = Hsv(sky, 0.08, rng.Uniform(0.9, 1.0));
        for (int k = -1; k <= 1; ++k) {
          FillEllipse(canvas, at + cv::Point2d(k * r * 1.2, -r * 0.3 * (k == 0)), r * 1.3, r,
                      white);
        }
      }
      for (int i = count(4); i > 0; --i) {  // trees
        const double x = rng.Uniform(0, w), y = horizon + fh * rng.Uniform(0.05, 0.35);
        const double size = fh * rng.Uniform(0.08, 0.2);
        FillRect(canvas, x - size * 0.1, y - size, x + size * 0.1, y, Hsv(25, 0.6, 0.3));
        FillEllipse(canvas, {x, y - size * 1.2}, size * 0.5, size * 0.6,
                    Hsv(earth + rng.Uniform(-20, 40), 0.6, rng.Uniform(0.25, 0.55)));
      }
      break;
    }
    case BackgroundStyle::kIndoor: {
      const int floor = static_cast<int>(h * rng.Uniform(0.6, 0.82));
      const double wall = hue + rng.Uniform(-30, 30);
      VerticalGradient(canvas, 0, floor, Hsv(wall, rng.Uniform(0.1, 0.5), rng.Uniform(0.55, 0.9)),
                       Hsv(wall, rng.Uniform(0.1, 0.5), rng.Uniform(0.4, 0.8)));
      const double wood = rng.Uniform(15, 40);
      VerticalGradient(canvas, floor, c.height, Hsv(wood, 0.5, rng.Uniform(0.35, 0.6)),
                       Hsv(wood, 0.6, rng.Uniform(0.2, 0.4)));
      for (int i = count(1.5); i > 0; --i) {  // windows
        const double x = rng.Uniform(0, w), y = h * rng.Uniform(0.1, 0.3);
        const double ww = fw * rng.Uniform(0.12, 0.25), wh = fh * rng.Uniform(0.2, 0.35);
        FillRect(canvas, x - 1, y - 1, x + ww + 1, y + wh + 1, Hsv(wall, 0.3, 0.95));
        FillRect(canvas, x, y, x + ww, y + wh, Hsv(hue + 190, 0.45, rng.Uniform(0.7, 1.0)));
        FillRect(canvas, x + ww / 2 - 0.5, y, x + ww / 2 + 0.5, y + wh, Hsv(wall, 0.3, 0.95));
      }
      for (int i = count(2.5); i > 0; --i) {  // furniture
        const double x = rng.Uniform(0, w), fwid = fw * rng.Uniform(0.1, 0.3);
        const double top = floor - fh * rng.Uniform(0.1, 0.4);
        FillRect(canvas, x, top, x + fwid, floor + fh * 0.04,
                 Hsv(rng.Uniform(0, 360), rng.Uniform(0.2, 0.6), rng.Uniform(0.25, 0.7)));
      }
      break;
    }
    case BackgroundStyle::kDramatic: {
      // Radial burst, the backdrop of emotional beats: rings from the rim to the centre.
      const cv::Scalar outer = Hsv(hue, rng.Uniform(0.5, 0.9), rng.Uniform(0.15, 0.4));
      const cv::Scalar inner =
          Hsv(hue + rng.Uniform(20, 60), rng.Uniform(0.2, 0.6), rng.Uniform(0.8, 1));
      canvas.setTo(outer);
      const cv::Point2d centre(rng.Uniform(0.2, 0.8) * w, rng.Uniform(0.2, 0.8) * h);
      constexpr int kRings = 12;
      for (int i = 0; i < kRings; ++i) {
        const double r = std::hypot(w, h) * (1 - i / static_cast<double>(kRings));
        FillEllipse(canvas, centre, r, r * rng.Uniform(0.7, 1.0),
                    Lerp(outer, inner, i / (kRings - 1.0)));
      }
      const cv::Scalar streak = Lerp(outer, inner, 0.6);
      for (int i = rng.Int(6, 14); i > 0; --i) {
        const double a = rng.Uniform(0, 2 * kPi), spread = rng.Uniform(0.03, 0.08);
        const double far = std::hypot(w, h);
        const std::vector<cv::Point> wedge = {ToFixed(centre + Down(a) * far * 0.25),
                                              ToFixed(centre + Down(a - spread) * far),
                                              ToFixed(centre + Down(a + spread) * far)};
        cv::fillConvexPoly(canvas, wedge, streak, cv::LINE_AA, kShift);
      }
      break;
    }
    case BackgroundStyle::kFlat: {
      // Mostly one colour, as behind gags and chibi asides; sometimes a floor shadow.
      const cv::Scalar flat = Hsv(hue, rng.Uniform(0.2, 0.7), rng.Uniform(0.5, 0.95));
      canvas.setTo(flat);
      if (rng.Chance(0.5)) {
        FillRect(canvas, -1, h * rng.Uniform(0.7, 0.85), w + 1, h + 1, flat * 0.85);
      }
      break;
    }
  }
  cv::GaussianBlur(canvas, canvas, cv::Size(3, 3), 0);
  return canvas;
}

// Scales the painting up to the frame, looking at it from `offset` (full-resolution pixels
// into the painting). Only the visible part, plus a margin that keeps the interpolation
// identical to scaling the whole painting, is scaled: cv::resize is 3x faster than an
// equivalent cv::warpAffine.
cv::Mat ViewBackground(const cv::Mat& canvas, cv::Size size, cv::Point offset) {
  constexpr int kMargin = 2;
  const cv::Point first(std::max(0, offset.x / kBackgroundScale - kMargin),
                        std::max(0, offset.y / kBackgroundScale - kMargin));
  const cv::Point last(
      std::min(canvas.cols, (offset.x + size.width) / kBackgroundScale + kMargin),
      std::min(canvas.rows, (offset.y + size.height) / kBackgroundScale + kMargin));
  // Reused per thread: a fresh buffer of this size costs more in page faults than the
  // scaling itself.
  thread_local cv::Mat scaled;
  cv::resize(canvas(cv::Rect(first, last)), scaled, cv::Size(), kBackgroundScale, kBackgroundScale,
             cv::INTER_LINEAR);
  const cv::Rect visible(offset - first * kBackgroundScale, size);
  assert((visible & cv::Rect(cv::Point(), scaled.size())) == visible);
  return scaled(visible).clone();
}

// ---------------------------------------------------------------- characters

struct Pose {
  cv::Point2d feet;
  double height = 0;
  double lean = 0;                         // radians, positive leans right
  std::array<double, 2> arm{-0.25, 0.25};  // screen-left, screen-right; angle from down
  std::array<double, 2> elbow{0, 0};       // added below the elbow
  std::array<double, 2> leg{-0.1, 0.1};
  std::array<double, 2> knee{0, 0};
  double tilt = 0;  // head, radians
  double hop = 0;   // lift, fraction of height
  double squash = 1;
  cv::Point2d gaze;
  bool blink = false;
  double mouth = 0;  // 0 closed .. 1 wide open
  double facing = 0;
};

Pose PoseAt(const Actor& a, std::int64_t drawing) {
  const double phi = a.phase + a.phase_step * static_cast<double>(drawing);
  const double s = std::sin(phi), c = std::cos(phi);
  Pose p;
  p.feet = {a.x, a.ground};
  p.height = a.height;
  p.facing = a.facing;
  p.gaze = {a.facing * 0.6 + 0.4 * std::cos(phi * 0.7), 0.4 * std::sin(phi * 1.3)};
  Rng blink(Mix(a.seed ^ kBlinkSalt, static_cast<std::uint64_t>(drawing)));
  p.blink = blink.Chance(0.12);
  switch (a.action) {
    case Action::kWalk:
    case Action::kApproach:
      p.feet.x += a.travel * static_cast<double>(drawing);
      p.leg = {-0.1 + 0.55 * s, 0.1 - 0.55 * s};
      p.knee = {0.5 * std::max(0.0, -s), -0.5 * std::max(0.0, s)};
      p.arm = {-0.2 - 0.6 * s, 0.2 - 0.6 * s};
      p.elbow = {-0.3, 0.3};
      p.hop = 0.035 * std::abs(c);
      p.lean = 0.08 * a.facing;
      p.mouth = a.action == Action::kWalk ? 0 : 0.5 + 0.5 * c;
      if (a.action == Action::kApproach) {
        // Runs at the camera: grows by half over a cycle and a half, then starts over.
        const double growth = 1 + 0.5 * std::fmod(std::abs(phi - a.phase), 3 * kPi) / (3 * kPi);
        p.height *= growth;
        p.feet.y += (growth - 1) * a.height * 0.35;
      }
      break;
    case Action::kJump: {
      const double up = std::max(0.0, s);
      p.hop = 0.22 * up;
      p.squash = 1 - 0.15 * std::max(0.0, -s);
      p.arm = {-(0.3 + 2.4 * up), 0.3 + 2.4 * up};
      p.elbow = {0.4 * up, -0.4 * up};
      p.leg = {-0.25 - 0.3 * up, 0.25 + 0.3 * up};
      p.knee = {0.9 * up, -0.9 * up};
      p.mouth = up;
      p.tilt = 0.15 * c;
      break;
    }
    case Action::kWave:
      p.arm = {-0.35 + 0.15 * c, 2.0 + 0.7 * s};
      p.elbow = {0.6, 0.6 * c};
      p.lean = 0.15 * s;
      p.tilt = 0.22 * std::sin(phi + 1);
      p.mouth = 0.5 + 0.5 * s;
      p.feet.x += 0.08 * a.height * s;
      break;
    case Action::kDance:
      p.arm = {-1.6 - 1.0 * s, 1.6 - 1.0 * c};
      p.elbow = {0.8 * c, -0.8 * s};
      p.lean = 0.25 * s;
      p.tilt = -0.3 * s;
      p.hop = 0.1 * std::abs(c);
      p.leg = {-0.15 - 0.5 * std::max(0.0, c), 0.15 + 0.5 * std::max(0.0, -c)};
      p.knee = {0.6 * std::max(0.0, c), -0.6 * std::max(0.0, -c)};
      p.feet.x += 0.12 * a.height * s;
      p.mouth = 0.7;
      break;
    case Action::kTalk:
      p.mouth = 0.5 + 0.5 * std::sin(phi * 2.3);
      p.tilt = 0.25 * s;
      p.lean = 0.12 * c;
      p.arm = {-0.3, 0.6 + 0.9 * std::max(0.0, s)};
      p.elbow = {0, 1.2 * std::max(0.0, s)};
      p.feet.x += 0.05 * a.height * c;
      break;
  }
  return p;
}

// A two-segment limb: ink drawn wider underneath gives the outline, round caps give joints.
cv::Point2d DrawLimb(cv::Mat& image, cv::Point2d root, double angle, double bend, double length,
                     double width, const cv::Scalar& colour, const cv::Scalar& ink, int ink_width) {
  const cv::Point2d joint = root + Down(angle) * (length / 2);
  const cv::Point2d end = joint + Down(angle + bend) * (length / 2);
  const int inner = std::max(1, static_cast<int>(std::lround(width)));
  for (const auto& [w, col] : {std::pair{inner + 2 * ink_width, ink}, std::pair{inner, colour}}) {
    cv::line(image, ToFixed(root), ToFixed(joint), col, w, cv::LINE_AA, kShift);
    cv::line(image, ToFixed(joint), ToFixed(end), col, w, cv::LINE_AA, kShift);
  }
  return end;
}

// The head of a character from another studio (Design::other_studio): nothing of it is the
// house style's, so line art of it cannot be a catalogue drawing in another colour. Drawn
// after the body, so long hair hangs over the shoulders and upper arms (in line art its fill
// is paper: it hides them); a blink takes the brows and leaves the dot eyes. Both are kept
// as they are: the evaluation's measured negatives are these drawings (README "Unrelated
// line art from another studio").
void DrawOtherStudioHead(cv::Mat& image, const Design& d, const Pose& p, cv::Point2d head, double r,
                         const cv::Scalar& ink, int ink_width) {
  auto at = [&](double x, double y) { return head + Rotate({x * r, y * r}, p.tilt); };
  if (d.hair_style == 4) {  // long hair: behind the head, over the shoulders
    FillOutlinedEllipse(image, at(0, 0.35), r * 1.3, r * 1.35, p.tilt, d.hair, ink, ink_width, 32);
  }
  FillOutlinedEllipse(image, head, r * 1.15, r * 0.9, p.tilt, d.skin, ink, ink_width, 36);
  if (d.hair_style == 4) {  // parted in the middle
    const std::vector<cv::Point> cap = {ToFixed(at(-1.2, 0.1)),  ToFixed(at(-1.05, -0.6)),
                                        ToFixed(at(-0.5, -1.0)), ToFixed(at(0, -0.75)),
                                        ToFixed(at(0.5, -1.0)),  ToFixed(at(1.05, -0.6)),
                                        ToFixed(at(1.2, 0.1)),   ToFixed(at(0.6, -0.35)),
                                        ToFixed(at(0, -0.5)),    ToFixed(at(-0.6, -0.35))};
    FillOutlined(image, cap, d.hair, ink, ink_width);
  } else {  // flat top: a block on the crown, its lower edge a shallow V over the brow
    const std::vector<cv::Point> block = {ToFixed(at(-1.1, -0.3)), ToFixed(at(-1.0, -1.25)),
                                          ToFixed(at(1.0, -1.25)), ToFixed(at(1.1, -0.3)),
                                          ToFixed(at(0.0, -0.45))};
    FillOutlined(image, block, d.hair, ink, ink_width);
  }
  for (int i = 0; i < 2; ++i) {
    const double side = i == 0 ? -1 : 1;
    const double x = side * 0.45 + p.facing * 0.15;
    FillEllipse(image, at(x + p.gaze.x * 0.03, 0.12), 0.07 * r, 0.1 * r, ink, p.tilt, 12);
    if (!p.blink) {
      cv::line(image, ToFixed(at(x - 0.18, -0.12 - 0.04 * side)),
               ToFixed(at(x + 0.18, -0.12 + 0.04 * side)), ink, ink_width, cv::LINE_AA, kShift);
    }
  }
  // A smile, opening with the pose's mouth.
  std::vector<cv::Point> smile;
  for (int k = 0; k <= 8; ++k) {
    const double t = kPi * (0.15 + 0.7 * k / 8.0);
    smile.push_back(ToFixed(
        at(p.facing * 0.1 + 0.3 * std::cos(t), 0.38 + (0.1 + 0.15 * p.mouth) * std::sin(t))));
  }
  cv::polylines(image, smile, p.mouth > 0.3, ink, ink_width, cv::LINE_AA, kShift);
}

void DrawCharacter(cv::Mat& image, const Design& d, const Pose& p, const cv::Scalar& ink) {
  const double h = p.height;
  const int ink_width = std::clamp(static_cast<int>(std::lround(h * 0.008)), 2, 8);
  const double r = d.head * h;
  const double body = (h - 2 * r) * p.squash;
  const double leg_length = 0.52 * body, torso = 0.43 * body, arm_length = 0.42 * body;
  const double limb = d.limb * h, shoulder = d.torso * h;
  const cv::Point2d feet(p.feet.x, p.feet.y - p.hop * h);
  const cv::Point2d hip = feet - cv::Point2d(0, leg_length);
  const cv::Point2d up(std::sin(p.lean), -std::cos(p.lean));
  const cv::Point2d across(-up.y, up.x);
  const cv::Point2d neck = hip + up * torso;
  const cv::Point2d head = neck + Rotate(up, p.tilt * 0.5) * (r * 0.9);

  for (int i = 0; i < 2; ++i) {
    const double side = i == 0 ? -1 : 1;
    const cv::Point2d foot = DrawLimb(image, hip + across * (side * shoulder * 0.5), p.leg[i],
                                      p.knee[i], leg_length, limb * 1.1, d.bottom, ink, ink_width);
    FillOutlinedEllipse(image, foot + cv::Point2d(side * limb * 0.3, 0), limb * 0.9, limb * 0.5, 0,
                        d.shoes, ink, ink_width, 16);
  }
  if (d.hair_style == 2) {  // ponytail, behind everything above the legs
    FillOutlinedEllipse(image, head + Rotate({-p.facing * r * 0.9, r * 0.6}, p.tilt), r * 0.45,
                        r * 1.1, p.tilt - p.facing * 0.4, d.hair, ink, ink_width, 20);
  }
  if (d.round_body) {
    FillOutlinedEllipse(image, (hip + neck) * 0.5, shoulder * 1.1, torso * 0.58, p.lean, d.top, ink,
                        ink_width);
  } else {
    const std::vector<cv::Point> trunk = {
        ToFixed(hip - across * (shoulder * 0.85) - up * (torso * 0.08)),
        ToFixed(hip + across * (shoulder * 0.85) - up * (torso * 0.08)),
        ToFixed(neck + across * shoulder), ToFixed(neck - across * shoulder)};
    FillOutlined(image, trunk, d.top, ink, ink_width);
  }
  for (int i = 0; i < 2; ++i) {
    const double side = i == 0 ? -1 : 1;
    const cv::Point2d hand =
        DrawLimb(image, neck + across * (side * shoulder * 0.8) - up * (limb * 0.5), p.arm[i],
                 p.elbow[i], arm_length, limb, d.top, ink, ink_width);
    FillOutlinedEllipse(image, hand, limb * 0.7, limb * 0.7, 0, d.skin, ink, ink_width, 14);
  }

  if (d.other_studio) {
    DrawOtherStudioHead(image, d, p, head, r, ink, ink_width);
    return;
  }
  FillOutlinedEllipse(image, head, r, r * 1.08, p.tilt, d.skin, ink, ink_width, 36);
  // Hair: an arc over the crown, closed by a fringe across the forehead.
  std::vector<cv::Point> hair;
  constexpr int kArc = 14;
  for (int k = 0; k <= kArc; ++k) {
    const double t = kPi + 0.15 + (kPi - 0.3) * k / kArc;
    const double reach = d.hair_style == 0 && k % 2 == 1 ? 1.4 : 1.1;
    hair.push_back(
        ToFixed(head + Rotate({reach * r * std::cos(t), reach * r * 1.05 * std::sin(t)}, p.tilt)));
  }
  constexpr int kFringe = 5;
  for (int k = 0; k <= kFringe; ++k) {
    const double x = r * (1.0 - 2.0 * k / kFringe) + p.facing * r * 0.15;
    const double y = (k % 2 == 0 ? -0.2 : 0.05) * r;
    hair.push_back(ToFixed(head + Rotate({x, y}, p.tilt)));
  }
  FillOutlined(image, hair, d.hair, ink, ink_width);

  for (int i = 0; i < 2; ++i) {
    const double side = i == 0 ? -1 : 1;
    const cv::Point2d eye = head + Rotate({(side * 0.4 + p.facing * 0.2) * r, 0.15 * r}, p.tilt);
    if (p.blink) {
      const std::vector<cv::Point> lid = {ToFixed(eye + Rotate({-0.2 * r, 0}, p.tilt)),
                                          ToFixed(eye + Rotate({0, 0.08 * r}, p.tilt)),
                                          ToFixed(eye + Rotate({0.2 * r, 0}, p.tilt))};
      cv::polylines(image, lid, false, ink, ink_width, cv::LINE_AA, kShift);
      continue;
    }
    FillOutlinedEllipse(image, eye, 0.2 * r, 0.28 * r, p.tilt, cv::Scalar::all(250), ink, ink_width,
                        20);
    const cv::Point2d iris = eye + cv::Point2d(p.gaze.x * 0.06 * r, p.gaze.y * 0.08 * r);
    FillOutlinedEllipse(image, iris, 0.13 * r, 0.19 * r, p.tilt, d.iris, ink, 1, 16);
    FillEllipse(image, iris, 0.06 * r, 0.09 * r, ink, p.tilt, 12);
    FillEllipse(image, iris + cv::Point2d(-0.04 * r, -0.07 * r), 0.035 * r, 0.035 * r,
                cv::Scalar::all(255), 0, 8);
  }
  const cv::Point2d mouth = head + Rotate({p.facing * 0.2 * r, 0.58 * r}, p.tilt);
  if (p.mouth > 0.3) {
    FillOutlinedEllipse(image, mouth, 0.14 * r, 0.12 * r * p.mouth, p.tilt, d.mouth, ink, ink_width,
                        16);
  } else {
    cv::line(image, ToFixed(mouth + Rotate({-0.1 * r, 0}, p.tilt)),
             ToFixed(mouth + Rotate({0.1 * r, 0}, p.tilt)), ink, ink_width, cv::LINE_AA, kShift);
  }
}

// ---------------------------------------------------------------- shots

// Large letters, but muted against the paper: a title card stays a low-information frame
// (PDQ quality under 50) that a matcher has to gate out.
cv::Mat RenderTitleCard(const std::string& text, std::uint64_t seed, const Look& look,
                        cv::Size size) {
  Rng rng(Mix(seed, kTitleSalt));
  const double hue = look.hue + rng.Uniform(-40, 40);
  const cv::Scalar paper = Hsv(hue, rng.Uniform(0.2, 0.6), rng.Uniform(0.3, 0.85));
  // PDQ's quality sums luma steps, so the letters sit a fixed luma step (8-10%) off the
  // paper, towards white on dark paper and towards black on light paper.
  const double luma = 0.114 * paper[0] + 0.587 * paper[1] + 0.299 * paper[2];
  const double step = rng.Uniform(20, 26);
  const cv::Scalar letters = luma < 128 ? Lerp(paper, cv::Scalar::all(255), step / (255 - luma))
                                        : Lerp(paper, cv::Scalar::all(0), step / luma);
  cv::Mat card(size, CV_8UC3, paper);
  // Long titles go on two lines, broken at the space nearest the middle.
  std::vector<std::string> lines = {text};
  const size_t middle = text.size() / 2;
  const size_t before = text.rfind(' ', middle), after = text.find(' ', middle);
  if (text.size() > 12 && (before != std::string::npos || after != std::string::npos)) {
    const size_t cut = after == std::string::npos ||
                               (before != std::string::npos && middle - before < after - middle)
                           ? before
                           : after;
    lines = {text.substr(0, cut), text.substr(cut + 1)};
  }
  constexpr int kFont = cv::FONT_HERSHEY_DUPLEX;
  int baseline = 0;
  double scale = 1e9;
  for (const std::string& line : lines) {
    const cv::Size unit = cv::getTextSize(line, kFont, 1.0, 1, &baseline);
    scale = std::min({scale, 0.85 * size.width / unit.width, 0.13 * size.height / unit.height});
  }
  const int thickness = std::max(1, static_cast<int>(scale * 1.1));
  const double line_height = 0.22 * size.height;
  for (size_t i = 0; i < lines.size(); ++i) {
    const cv::Size extent = cv::getTextSize(lines[i], kFont, scale, thickness, &baseline);
    const double y =
        size.height / 2.0 + (i - (lines.size() - 1) / 2.0) * line_height + extent.height / 2.0;
    cv::putText(card, lines[i], cv::Point((size.width - extent.width) / 2, static_cast<int>(y)),
                kFont, scale, letters, thickness, cv::LINE_AA);
  }
  return card;
}

cv::Mat RenderShotFrame(const ShotContext& context, int index, std::int64_t local) {
  const Shot& shot = (*context.shots)[index];
  switch (shot.kind) {
    case ShotKind::kLoopRepeat:
      assert(shot.source_shot >= 0 && shot.source_shot < index);
      return RenderShotFrame(context, shot.source_shot, local);
    case ShotKind::kFadeToBlack: {
      if (index == 0) return cv::Mat(context.size, CV_8UC3, cv::Scalar::all(0));
      const Shot& previous = (*context.shots)[index - 1];
      cv::Mat frame = RenderShotFrame(context, index - 1, previous.frame_count() - 1);
      // Reaches zero on the shot's last frame, so the fade really ends in black.
      const double gain =
          1.0 - static_cast<double>(local + 1) / static_cast<double>(shot.frame_count());
      frame.convertTo(frame, -1, gain, 0);
      return frame;
    }
    case ShotKind::kTitleCard:
      return RenderTitleCard(context.card_text, shot.content_seed, context.look, context.size);
    case ShotKind::kOpening:
      throw Error("synthetic footage: an opening cannot nest in a shot list");
    case ShotKind::kAnimatedOn2s:
    case ShotKind::kAnimatedOn3s:
    case ShotKind::kHeld:
    case ShotKind::kPan:
      break;
  }
  const Scene scene = MakeScene(shot, context.size);
  const int step = shot.kind == ShotKind::kAnimatedOn2s   ? 2
                   : shot.kind == ShotKind::kAnimatedOn3s ? 3
                                                          : 0;
  const std::int64_t drawing = step > 0 ? local / step : 0;
  const int moved = shot.kind == ShotKind::kPan ? static_cast<int>(local) : 0;
  // Pans in the negative direction start from the far end of the painting.
  const cv::Point span =
      scene.pan_step * static_cast<int>(std::max<std::int64_t>(0, shot.frame_count() - 1));
  const cv::Point offset =
      scene.pan_step * moved - cv::Point(std::min(0, span.x), std::min(0, span.y));
  if (context.line_art) {
    // The cel before ink-and-paint: the same drawing in graphite on paper, every fill left
    // blank, and no background (painted separately in production).
    cv::Mat frame(context.size, CV_8UC3, kPaper);
    for (const Actor& actor : scene.actors) {
      Design blank = context.look.cast[actor.design];
      blank.skin = blank.hair = blank.top = blank.bottom = blank.shoes = blank.iris = blank.mouth =
          kPaper;
      DrawCharacter(frame, blank, PoseAt(actor, drawing), kGraphite);
    }
    return frame;
  }
  cv::Mat frame = ViewBackground(PaintBackground(scene, context.look), context.size, offset);
  for (const Actor& actor : scene.actors) {
    DrawCharacter(frame, context.look.cast[actor.design], PoseAt(actor, drawing), context.look.ink);
  }
  return frame;
}

// ---------------------------------------------------------------- planning

std::int64_t SecondsToFrames(double seconds, double fps) {
  return std::max<std::int64_t>(1, std::llround(seconds * fps));
}

bool IsContent(ShotKind kind) {
  return kind == ShotKind::kAnimatedOn2s || kind == ShotKind::kAnimatedOn3s ||
         kind == ShotKind::kHeld || kind == ShotKind::kPan || kind == ShotKind::kLoopRepeat;
}

std::pair<double, double> SecondsRange(ShotKind kind) {
  switch (kind) {
    case ShotKind::kHeld:
      return {1.5, 4};
    case ShotKind::kPan:
      return {2, 5};
    case ShotKind::kFadeToBlack:
      return {0.5, 1};
    case ShotKind::kTitleCard:
      return {1.5, 2.5};
    default:
      return {1, 5};
  }
}

void Validate(const EpisodeSpec& spec) {
  if (!(spec.duration_seconds > 0) || !(spec.fps > 0) ||
      !std::isfinite(spec.duration_seconds * spec.fps)) {
    throw Error("synthetic footage: bad duration " + std::to_string(spec.duration_seconds) +
                " s or fps " + std::to_string(spec.fps));
  }
  if (spec.size.width < kMinSide || spec.size.height < kMinSide) {
    throw Error("synthetic footage: frame " + std::to_string(spec.size.width) + "x" +
                std::to_string(spec.size.height) + " is smaller than 64x64");
  }
  if (spec.with_opening && !(spec.opening_seconds > 0)) {
    throw Error("synthetic footage: bad opening length " + std::to_string(spec.opening_seconds) +
                " s");
  }
}

// Appends shots to `shots` until `total` frames are covered. The last shot absorbs a tail
// shorter than a second rather than leaving a sliver of a shot.
class ShotListBuilder {
 public:
  ShotListBuilder(std::vector<Shot>* shots, std::int64_t total, double fps,
                  std::uint64_t content_seed, std::uint64_t content_salt)
      : shots_(shots),
        total_(total),
        fps_(fps),
        content_seed_(content_seed),
        content_salt_(content_salt) {}

  std::int64_t remaining() const { return total_ - covered(); }
  std::int64_t covered() const { return shots_->empty() ? 0 : shots_->back().end_frame; }

  // Adds a shot of `frames` (cut to what remains). With absorb_tail, also takes a remainder
  // shorter than kMinShotSeconds.
  void Add(ShotKind kind, std::int64_t frames, int source = -1, bool absorb_tail = true) {
    const std::int64_t tail = remaining() - frames;
    const std::int64_t min_frames = SecondsToFrames(kMinShotSeconds, fps_);
    if (absorb_tail && tail > 0 && tail < min_frames) {
      if (kind != ShotKind::kLoopRepeat) {
        frames += tail;
      } else if (frames - (min_frames - tail) >= min_frames) {
        // A loop cannot outgrow its source: it ends early, leaving a full shot after it.
        frames -= min_frames - tail;
      } else {
        kind = ShotKind::kAnimatedOn2s;
        source = -1;
        frames += tail;
      }
    }
    Shot shot;
    shot.kind = kind;
    shot.source_shot = source;
    shot.first_frame = covered();
    shot.end_frame = shot.first_frame + std::min(frames, remaining());
    shot.start = static_cast<double>(shot.first_frame) / fps_;
    shot.end = static_cast<double>(shot.end_frame) / fps_;
    shot.content_seed = Mix(content_seed_, Mix(content_salt_, shots_->size()));
    shots_->push_back(shot);
  }

 private:
  std::vector<Shot>* shots_;
  std::int64_t total_;
  double fps_;
  std::uint64_t content_seed_;
  std::uint64_t content_salt_;
};

// The opening cuts fast (0.7-1.5 s shots) and ends on the show's logo card.
std::vector<Shot> PlanOpening(const EpisodeSpec& spec) {
  std::vector<Shot> shots;
  const std::int64_t total = SecondsToFrames(spec.opening_seconds, spec.fps);
  Rng rng(Mix(spec.opening_seed, kOpeningPlanSalt));
  const std::int64_t logo =
      spec.opening_seconds >= 2.5 ? SecondsToFrames(rng.Uniform(1.0, 1.5), spec.fps) : 0;
  static constexpr std::array<ShotKind, 4> kKinds = {ShotKind::kAnimatedOn2s, ShotKind::kPan,
                                                     ShotKind::kAnimatedOn3s, ShotKind::kHeld};
  size_t next = rng.Int(0, kKinds.size() - 1);
  // Two builders on one list: the cuts fill up to the logo, the logo the rest.
  ShotListBuilder cuts(&shots, total - logo, spec.fps, spec.opening_seed, kOpeningContentSalt);
  while (cuts.remaining() > 0) {
    cuts.Add(kKinds[next++ % kKinds.size()], SecondsToFrames(rng.Uniform(0.7, 1.5), spec.fps));
  }
  if (logo > 0) {
    ShotListBuilder(&shots, total, spec.fps, spec.opening_seed, kOpeningContentSalt)
        .Add(ShotKind::kTitleCard, logo);
  }
  return shots;
}

ShotKind DrawKind(Rng& rng) {
  const double roll = rng.Uniform();
  if (roll < 0.32) return ShotKind::kAnimatedOn2s;
  if (roll < 0.52) return ShotKind::kAnimatedOn3s;
  if (roll < 0.72) return ShotKind::kHeld;
  if (roll < 0.84) return ShotKind::kPan;
  if (roll < 0.92) return ShotKind::kFadeToBlack;
  return ShotKind::kLoopRepeat;
}

// An animated shot to reuse, not the one just shown; -1 if there is none.
int PickLoopSource(const std::vector<Shot>& shots, Rng& rng) {
  std::vector<int> candidates;
  for (int i = 0; i + 1 < static_cast<int>(shots.size()); ++i) {
    if (shots[i].kind == ShotKind::kAnimatedOn2s || shots[i].kind == ShotKind::kAnimatedOn3s) {
      candidates.push_back(i);
    }
  }
  if (candidates.empty()) return -1;
  return candidates[rng.Int(0, static_cast<int>(candidates.size()) - 1)];
}

ShotContext EpisodeContext(const EpisodeSpec& spec, const Episode& episode) {
  return {&episode.shots, MakeLook(spec.seed), episode.title, spec.size};
}

ShotContext OpeningContext(const EpisodeSpec& spec, const Episode& episode) {
  return {&episode.opening_shots, MakeLook(Mix(spec.opening_seed, kOpeningContentSalt)),
          LogoName(spec.opening_seed), spec.size};
}

int FindShot(const std::vector<Shot>& shots, std::int64_t frame) {
  const auto it =
      std::upper_bound(shots.begin(), shots.end(), frame,
                       [](std::int64_t f, const Shot& shot) { return f < shot.first_frame; });
  if (it == shots.begin()) return -1;
  const int index = static_cast<int>(it - shots.begin()) - 1;
  return frame < shots[index].end_frame ? index : -1;
}

std::string CsvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char ch : text) {
    if (ch == '"') quoted += '"';
    quoted += ch;
  }
  return quoted + '"';
}

void WriteShotRows(const Episode& episode, const std::string& prefix, std::ostream& out) {
  char buffer[160];
  for (size_t i = 0; i < episode.shots.size(); ++i) {
    const Shot& s = episode.shots[i];
    std::snprintf(buffer, sizeof(buffer), "%zu,%s,%.3f,%.3f,%lld,%lld,%d\n", i,
                  std::string(ShotKindName(s.kind)).c_str(), s.start, s.end,
                  static_cast<long long>(s.first_frame), static_cast<long long>(s.end_frame),
                  s.source_shot);
    out << prefix << buffer;
  }
}

}  // namespace

std::string_view ShotKindName(ShotKind kind) {
  switch (kind) {
    case ShotKind::kOpening:
      return "opening";
    case ShotKind::kAnimatedOn2s:
      return "on2s";
    case ShotKind::kAnimatedOn3s:
      return "on3s";
    case ShotKind::kHeld:
      return "held";
    case ShotKind::kPan:
      return "pan";
    case ShotKind::kFadeToBlack:
      return "fade";
    case ShotKind::kTitleCard:
      return "title";
    case ShotKind::kLoopRepeat:
      return "loop";
  }
  return "unknown";
}

std::int64_t FrameCount(const EpisodeSpec& spec) {
  Validate(spec);
  return SecondsToFrames(spec.duration_seconds, spec.fps);
}

Episode PlanEpisode(const EpisodeSpec& spec) {
  Episode episode;
  episode.frame_count = FrameCount(spec);
  episode.title = EpisodeTitle(spec.seed);
  ShotListBuilder builder(&episode.shots, episode.frame_count, spec.fps, spec.seed, kContentSalt);
  Rng rng(Mix(spec.seed, kPlanSalt));
  const auto frames = [&](ShotKind kind) {
    const auto [lo, hi] = SecondsRange(kind);
    return SecondsToFrames(rng.Uniform(lo, hi), spec.fps);
  };
  if (spec.with_opening) {
    episode.opening_shots = PlanOpening(spec);
    // Its length is fixed: every episode sharing it must show the same frames.
    builder.Add(ShotKind::kOpening, episode.opening_shots.back().end_frame, -1, false);
  }
  if (builder.remaining() > 0) builder.Add(ShotKind::kTitleCard, frames(ShotKind::kTitleCard));

  // Every kind early on, so that short fixtures still hold one of each.
  std::vector<ShotKind> agenda = {ShotKind::kAnimatedOn2s, ShotKind::kAnimatedOn3s, ShotKind::kHeld,
                                  ShotKind::kPan};
  for (int i = static_cast<int>(agenda.size()) - 1; i > 0; --i) {
    std::swap(agenda[i], agenda[rng.Int(0, i)]);
  }
  agenda.push_back(ShotKind::kFadeToBlack);
  agenda.push_back(ShotKind::kLoopRepeat);
  size_t next = 0;
  while (builder.remaining() > 0) {
    ShotKind kind = next < agenda.size() ? agenda[next++] : DrawKind(rng);
    if (kind == ShotKind::kFadeToBlack && !IsContent(episode.shots.back().kind)) {
      kind = ShotKind::kHeld;
    }
    int source = -1;
    if (kind == ShotKind::kLoopRepeat) {
      source = PickLoopSource(episode.shots, rng);
      if (source < 0) kind = ShotKind::kAnimatedOn2s;
    }
    const std::int64_t length = source >= 0 ? episode.shots[source].frame_count() : frames(kind);
    builder.Add(kind, length, source);
  }
  return episode;
}

int ShotIndexAt(const Episode& episode, std::int64_t frame_index) {
  return FindShot(episode.shots, frame_index);
}

namespace {

cv::Mat RenderStyled(const EpisodeSpec& spec, const Episode& episode, std::int64_t frame_index,
                     bool line_art) {
  const int index = FindShot(episode.shots, frame_index);
  if (index < 0) {
    throw Error("synthetic footage: frame " + std::to_string(frame_index) +
                " is outside the episode's " + std::to_string(episode.frame_count) + " frames");
  }
  const Shot& shot = episode.shots[index];
  const std::int64_t local = frame_index - shot.first_frame;
  if (shot.kind == ShotKind::kOpening) {
    const int cut = FindShot(episode.opening_shots, local);
    if (cut < 0) throw Error("synthetic footage: the opening's cuts do not cover its frames");
    ShotContext context = OpeningContext(spec, episode);
    context.line_art = line_art;
    return RenderShotFrame(context, cut, local - episode.opening_shots[cut].first_frame);
  }
  ShotContext context = EpisodeContext(spec, episode);
  context.line_art = line_art;
  return RenderShotFrame(context, index, local);
}

}  // namespace

cv::Mat RenderFrame(const EpisodeSpec& spec, const Episode& episode, std::int64_t frame_index) {
  return RenderStyled(spec, episode, frame_index, false);
}

cv::Mat RenderLineArt(const EpisodeSpec& spec, const Episode& episode, std::int64_t frame_index) {
  return RenderStyled(spec, episode, frame_index, true);
}

void WriteEpisode(const EpisodeSpec& spec, const Episode& episode, const std::filesystem::path& out,
                  const VideoWriterOptions& base) {
  VideoWriterOptions options = base;
  options.width = spec.size.width;
  options.height = spec.size.height;
  options.frame_rate = spec.fps;
  VideoWriter writer(out, options);
  for (std::int64_t i = 0; i < episode.frame_count; ++i) {
    writer.Write(RenderFrame(spec, episode, i), static_cast<double>(i) / spec.fps);
  }
  writer.Close();
}

namespace {

cv::Mat RenderUnrelated(std::uint64_t seed, cv::Size size, bool line_art, DrawingStyle style) {
  if (size.width < kMinSide || size.height < kMinSide) {
    throw Error("synthetic footage: frame " + std::to_string(size.width) + "x" +
                std::to_string(size.height) + " is smaller than 64x64");
  }
  const std::uint64_t base = Mix(seed, kUnrelatedSalt);
  Rng rng(base);
  std::vector<Shot> shots(1);
  shots[0].kind = rng.Chance(0.5) ? ShotKind::kAnimatedOn2s : ShotKind::kHeld;
  shots[0].end_frame = rng.Int(24, 96);
  shots[0].content_seed = Mix(base, kContentSalt);
  Look look = MakeLook(base);
  if (style == DrawingStyle::kOtherStudio) {
    // From a stream of its own, so that the rest of the picture is what it was.
    Rng other(Mix(base, kOtherStudioSalt));
    for (Design& d : look.cast) {
      d.other_studio = true;
      d.hair_style = other.Int(3, 4);
    }
  }
  const ShotContext context{&shots, look, "", size, line_art};
  return RenderShotFrame(context, 0, rng.Int(0, static_cast<int>(shots[0].end_frame) - 1));
}

}  // namespace

cv::Mat RenderUnrelatedArt(std::uint64_t seed, cv::Size size) {
  return RenderUnrelated(seed, size, false, DrawingStyle::kHouse);
}

cv::Mat RenderUnrelatedLineArt(std::uint64_t seed, cv::Size size, DrawingStyle style) {
  return RenderUnrelated(seed, size, true, style);
}

void WriteShotList(const Episode& episode, std::ostream& out) {
  out << "shot,kind,start,end,first_frame,end_frame,source_shot\n";
  WriteShotRows(episode, "", out);
}

std::uint64_t EpisodeSeed(std::uint64_t catalog_seed, int index) {
  return Mix(Mix(catalog_seed, kCatalogSalt), static_cast<std::uint64_t>(index));
}

std::vector<CatalogEntry> PlanCatalog(const CatalogSpec& spec) {
  if (spec.episodes <= 0) {
    throw Error("synthetic catalogue: episode count " + std::to_string(spec.episodes));
  }
  static constexpr std::array<std::pair<const char*, const char*>, 2> kShows = {
      std::pair{"Skyfolk", "skyfolk"}, std::pair{"Marrow Lane", "marrow_lane"}};
  std::vector<CatalogEntry> entries;
  for (int i = 0; i < spec.episodes; ++i) {
    const int show = i % static_cast<int>(kShows.size());
    CatalogEntry entry;
    entry.title = kShows[show].first;
    entry.season = 1;
    entry.episode = i / static_cast<int>(kShows.size()) + 1;
    char name[64];
    std::snprintf(name, sizeof(name), "%s_s%02de%02d.mkv", kShows[show].second, entry.season,
                  entry.episode);
    entry.path = name;
    entry.spec.seed = EpisodeSeed(spec.seed, i);
    entry.spec.duration_seconds = spec.seconds;
    entry.spec.size = spec.size;
    entry.spec.with_opening = spec.with_opening;
    // One opening per show, shared by its episodes.
    entry.spec.opening_seed =
        Mix(Mix(spec.seed, kShowOpeningSalt), static_cast<std::uint64_t>(show));
    entry.episode_title = EpisodeTitle(entry.spec.seed);
    entries.push_back(std::move(entry));
  }
  return entries;
}

void WriteCatalog(const CatalogSpec& spec, std::ostream* progress) {
  const std::vector<CatalogEntry> entries = PlanCatalog(spec);
  std::error_code error;
  std::filesystem::create_directories(spec.out_dir, error);
  if (error) {
    throw Error("synthetic catalogue: cannot create " + spec.out_dir.string() + ": " +
                error.message());
  }
  std::ofstream catalog(spec.out_dir / "catalog.csv");
  std::ofstream shots(spec.out_dir / "shots.csv");
  if (!catalog || !shots) {
    throw Error("synthetic catalogue: cannot write into " + spec.out_dir.string());
  }
  catalog << "path,title,season,episode,episode_title\n";
  shots << "path,shot,kind,start,end,first_frame,end_frame,source_shot\n";
  for (const CatalogEntry& entry : entries) {
    const Episode episode = PlanEpisode(entry.spec);
    WriteEpisode(entry.spec, episode, spec.out_dir / entry.path);
    catalog << CsvField(entry.path) << ',' << CsvField(entry.title) << ',' << entry.season << ','
            << entry.episode << ',' << CsvField(entry.episode_title) << '\n';
    WriteShotRows(episode, CsvField(entry.path) + ",", shots);
    if (progress != nullptr) {
      *progress << entry.path << ": " << entry.title << " S" << entry.season << "E" << entry.episode
                << " \"" << entry.episode_title << "\", " << episode.frame_count << " frames, "
                << episode.shots.size() << " shots\n";
    }
  }
  catalog.close();
  shots.close();
  if (!catalog || !shots) {
    throw Error("synthetic catalogue: cannot write into " + spec.out_dir.string());
  }
}

}  // namespace celtrace::synth
