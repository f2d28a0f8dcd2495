// A synthetic leak: the kind of folder an investigator points celtrace-match at (stills under
// many transformations, clips, negatives, corrupt files and a zip), made from a synthetic
// catalogue and a seed, with a ground-truth file (expected.csv) for tests and evaluation.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "synthetic_footage.h"

namespace celtrace::synth {

struct LeakSpec {
  std::filesystem::path out_dir;      // created if missing; existing files of the same name
                                      // are overwritten, nothing else is touched
  std::vector<CatalogEntry> catalog;  // from PlanCatalog, the same spec as the indexed one
  std::uint64_t seed = 1;             // everything in the leak derives from it
  int stills_per_transform = 2;       // stills per transform kind, and unrelated-art stills
  bool with_clips = true;             // clips and the truncated clip
  bool with_archive = true;           // also leak_drop.zip with stills and a corrupt member
  // The evaluation set: stills_per_transform stills for each further transform (jpeg_q20,
  // scale_25, contrast, blur, noise, posterise, aspect, watermark, rotate_90, rotate_2,
  // crop_25, crop_25_offcentre, crop_50_offcentre, rotate_5, screenshot, lineart,
  // lineart_crop) and as many negatives of each hard kind (unrelated_crop, unrelated_rotate,
  // unrelated_screenshot, unrelated_lineart). Default off (the demo's leak).
  bool evaluation = false;
  // Whose style the evaluation's unrelated_lineart is drawn in: another studio's (the
  // default since 2026-12-07), or the catalogue's house style as before, whose drawings of a
  // pose the catalogue shows are the catalogue's own (README "Unrelated line art from another
  // studio"). Nothing else in the leak changes with it.
  DrawingStyle unrelated_line_art_style = DrawingStyle::kOtherStudio;
  // Clips of the evaluation set: this many of each kind (reencode, retimed_25fps,
  // compilation, clip_crop, clip_caption, unrelated art, and the hard clip_crop_25_offcentre
  // and clip_screenshot, which PDQ misses, and compilation_crop_25_offcentre, whose second
  // part PDQ misses) besides the demo's. Needs with_clips. Default 0.
  int evaluation_clips = 0;
};

// One row of expected.csv. Times are seconds; for a still or a clip segment they are the
// times of its first and last frame, as the index's entries are.
struct LeakItem {
  std::string path;       // relative to out_dir with '/'; archive members "leak_drop.zip!/a/b.png"
  std::string kind;       // "still", "clip", "negative", "corrupt"
  std::string transform;  // "none", "jpeg_q40", "scale_50", "scale_200", "letterbox",
                          // "pillarbox", "gamma", "hue", "grayscale", "caption", "mirror",
                          // "crop_10", "reencode", "retimed_25fps", "compilation",
                          // "unrelated_art", "flat", "title_card", "corrupt"; and those of
                          // LeakSpec::evaluation
  std::string expected;   // "match", "no_match", "low_information", "error"
  // For expected == "match": where it comes from. A clip compiled from two episodes has two
  // rows with the same path. Empty title and zero numbers otherwise.
  std::string title;
  int season = 0;
  int episode = 0;
  double ref_start = 0;  // a still: the time of the frame it was taken from, twice
  double ref_end = 0;
  double query_start = 0;  // clips: the segment's range in the clip; 0 for stills
  double query_end = 0;
};

// The header of expected.csv.
inline constexpr const char* kLeakCsvHeader =
    "path,kind,transform,expected,title,season,episode,ref_start,ref_end,query_start,query_end";

// Writes the leak's files and out_dir/expected.csv (kLeakCsvHeader, then one row per item in
// the order returned, times with 3 decimals) and returns the items:
//  - stills_per_transform stills per transform (none ... crop_10) as PNG, JPEG, WebP or BMP
//    under nested folders; the last "none" is a PNG named .jpg, the last "jpeg_q40" a JPEG
//    named .txt;
//  - negatives: stills_per_transform unrelated drawings (no_match), a one-colour and a black
//    image and a title card (low_information);
//  - with_clips: a 4 s re-encode (H.264 if FFmpeg has libx264, else mpeg4), 4 s retimed to
//    25 fps, a 3 s + 3 s compilation of two episodes (two rows), 2 s of unrelated art;
//  - corrupt (error): a PNG signature followed by garbage and, with clips, the first 30% of
//    the re-encoded MP4;
//  - with_archive: leak_drop.zip with 4 stills and a corrupt member in nested folders.
// The same spec writes the same files byte for byte, and each part draws from its own random
// stream, so turning clips or the archive off leaves the other files unchanged. Source
// frames come from content shots only (no opening, title card, fade or reused loop, so every
// frame has one timecode) with PDQ quality >= 60. Throws celtrace::Error, before writing
// anything, on an empty catalogue or episodes too short to hold the clips; on a write
// failure.
std::vector<LeakItem> WriteLeak(const LeakSpec& spec);

// Checks that `catalog_dir` holds the catalogue `catalog` describes: its catalog.csv and
// shots.csv as WriteCatalog writes them and the first episode's frame size. Guards against
// making a leak from flags that differ from those the catalogue was written with. Throws
// celtrace::Error naming the first difference.
void VerifyCatalogDir(const std::filesystem::path& catalog_dir,
                      const std::vector<CatalogEntry>& catalog);

}  // namespace celtrace::synth
