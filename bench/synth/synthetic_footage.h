// Synthetic 2D TV-animation footage made in code from a seed: a shot plan (the ground truth
// for tests and evaluation) and a renderer that draws any frame of it on demand (painted
// backgrounds, outlined characters animated on 2s and 3s, holds, pans, fades to black, title
// cards, reused loops, a shared opening). Planning and rendering are pure and thread-safe;
// the Write* functions write files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <opencv2/core/mat.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "celtrace/video_writer.h"

namespace celtrace::synth {

struct EpisodeSpec {
  std::uint64_t seed = 0;         // everything in the episode but its opening derives from it
  double duration_seconds = 60;   // length; the episode has FrameCount() frames
  double fps = 24000.0 / 1001.0;  // frame rate of the aired episode: frame i is shown at i / fps
  cv::Size size{640, 360};        // frame size, pixels (at least 64x64)
  // Starts the episode with an opening sequence whose frames are identical in every
  // episode with the same opening_seed, fps and size (what a matcher must not attribute to
  // one episode). Default off.
  bool with_opening = false;
  std::uint64_t opening_seed = 1;  // content of the opening
  double opening_seconds = 5;      // length of the opening, cut short if the episode is
};

enum class ShotKind {
  kOpening,       // the shared opening (its own cuts are in Episode::opening_shots)
  kAnimatedOn2s,  // a new drawing every 2nd frame, each shown twice
  kAnimatedOn3s,  // a new drawing every 3rd frame, each shown three times
  kHeld,          // one drawing for the whole shot: every frame pixel-identical
  kPan,           // the background slides a few pixels per frame under held characters
  kFadeToBlack,   // the previous shot's last frame fading out; the last frame is black
  kTitleCard,     // flat colour and large text (the episode title; the opening's logo)
  kLoopRepeat,    // the frames of an earlier shot again, frame for frame (reused animation)
};

// Returns "opening", "on2s", "on3s", "held", "pan", "fade", "title", "loop".
std::string_view ShotKindName(ShotKind kind);

struct Shot {
  ShotKind kind = ShotKind::kHeld;
  double start = 0;      // seconds, first_frame / fps
  double end = 0;        // seconds, end_frame / fps (exclusive)
  int source_shot = -1;  // kLoopRepeat: index of the repeated shot in the same list; else -1
  std::int64_t first_frame = 0;
  std::int64_t end_frame = 0;      // exclusive
  std::uint64_t content_seed = 0;  // the shot's drawing: background, characters, action

  std::int64_t frame_count() const { return end_frame - first_frame; }
  friend bool operator==(const Shot&, const Shot&) = default;
};

struct Episode {
  std::vector<Shot> shots;  // in order, hard cuts, covering frames [0, frame_count) exactly
  // The cuts inside the kOpening shot, frames counted from the opening's first frame. Empty
  // without an opening.
  std::vector<Shot> opening_shots;
  std::int64_t frame_count = 0;
  std::string title;  // the episode title, shown on its title card

  friend bool operator==(const Episode&, const Episode&) = default;
};

// Returns the number of frames of the episode: duration_seconds * fps, rounded, at least 1.
std::int64_t FrameCount(const EpisodeSpec& spec);

// Returns the shot list of the episode: the opening (if asked for), the title card, then
// shots of 1-5 s. With 25 s or more after the opening, it holds every other kind at least
// once: a shot animated on 2s and one on 3s, a hold (1.5-4 s), a pan, a fade to black
// (0.5-1 s) and a loop. Throws celtrace::Error on a spec with non-positive duration or fps, or a
// frame smaller than 64x64.
Episode PlanEpisode(const EpisodeSpec& spec);

// Returns the index in episode.shots of the shot that holds frame_index, or -1 if the frame
// lies outside [0, frame_count).
int ShotIndexAt(const Episode& episode, std::int64_t frame_index);

// Returns frame `frame_index` of the episode planned from `spec`: BGR CV_8UC3 of spec.size,
// the same pixels on every call. About 0.8 ms at 640x360 (one 2.1 GHz EPYC core). Throws
// celtrace::Error if the index lies outside [0, frame_count).
cv::Mat RenderFrame(const EpisodeSpec& spec, const Episode& episode, std::int64_t frame_index);

// Returns frame `frame_index` as uncoloured line art: the characters' drawing in graphite
// ink on drawing paper, every fill blank and no background, as a cel looks before ink and
// paint. Title cards and fades render as in RenderFrame. BGR CV_8UC3 of spec.size. Throws
// celtrace::Error if the index lies outside [0, frame_count).
cv::Mat RenderLineArt(const EpisodeSpec& spec, const Episode& episode, std::int64_t frame_index);

// Encodes every frame of the episode, frame i at i / spec.fps seconds, with
// celtrace::VideoWriter. `base` supplies the codec and quality; size and frame rate come
// from the spec. Throws celtrace::Error if the file cannot be written.
void WriteEpisode(const EpisodeSpec& spec, const Episode& episode, const std::filesystem::path& out,
                  const VideoWriterOptions& base = {});

// Returns a drawing in the episodes' style (background and characters) made from a seed
// space that no episode draws from: negatives for matching. BGR CV_8UC3 of `size`.
cv::Mat RenderUnrelatedArt(std::uint64_t seed, cv::Size size);

// Whose characters an unrelated drawing shows: the catalogue's house style (its few head,
// hair and eye shapes, in a seed space no episode draws from) or another studio's (shapes no
// episode has). Without colours, a house-style drawing of a pose the catalogue shows is the
// catalogue's own drawing of it.
enum class DrawingStyle { kHouse, kOtherStudio };

// Returns the uncoloured line art (RenderLineArt) of an unrelated drawing: with kHouse, that
// of RenderUnrelatedArt(seed, size); with kOtherStudio, the same picture with the characters
// drawn in another studio's style.
cv::Mat RenderUnrelatedLineArt(std::uint64_t seed, cv::Size size, DrawingStyle style);

// Writes the shot list as CSV with the header
// `shot,kind,start,end,first_frame,end_frame,source_shot` (seconds with 3 decimals).
void WriteShotList(const Episode& episode, std::ostream& out);

// A catalogue of episodes of two fictional shows, "Skyfolk" and "Marrow Lane", alternating.
struct CatalogSpec {
  std::filesystem::path out_dir;  // created if missing
  int episodes = 4;               // total over both shows
  double seconds = 60;            // length of every episode
  std::uint64_t seed = 1;         // episode i gets seed EpisodeSeed(seed, i)
  cv::Size size{640, 360};        // frame size, pixels
  bool with_opening = false;      // each show opens its episodes with its own shared opening
};

struct CatalogEntry {
  std::string path;  // file name relative to the catalogue folder, e.g. skyfolk_s01e02.mkv
  std::string title;
  int season = 1;
  int episode = 1;
  std::string episode_title;
  EpisodeSpec spec;  // what renders it
};

// Returns the seed of the index-th episode of a catalogue made from `catalog_seed`.
std::uint64_t EpisodeSeed(std::uint64_t catalog_seed, int index);

// Returns the catalogue's episodes in order (show 0 episode 1, show 1 episode 1, show 0
// episode 2, ...). Throws celtrace::Error if `episodes` is not positive.
std::vector<CatalogEntry> PlanCatalog(const CatalogSpec& spec);

// Writes every episode of the catalogue as mpeg4 in Matroska, `catalog.csv` with the header
// `path,title,season,episode,episode_title`, and `shots.csv` (every episode's shot list with
// a leading `path` column) into spec.out_dir. Reports one line per episode to *progress if
// it is not null. Throws celtrace::Error on a write failure.
void WriteCatalog(const CatalogSpec& spec, std::ostream* progress = nullptr);

}  // namespace celtrace::synth
