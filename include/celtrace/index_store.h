// The index directory (DESIGN.md contract): INDEX/CURRENT names the live generation, and
// INDEX/gen-NNNNNN/ holds manifest.json, pdq.faiss and catalog.sqlite, immutable once
// published. GenerationWriter builds a generation in a temporary folder and publishes it
// atomically (fsync, rename, swap CURRENT), so a crash or a full disk at any point leaves
// the previous generation live. Index::Open verifies every checksum before FAISS or SQLite
// read a byte. Objects are not thread-safe; an opened Index may be searched concurrently.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "celtrace/catalog.h"
#include "celtrace/feature_index.h"
#include "celtrace/file_lock.h"
#include "celtrace/hash_index.h"

namespace celtrace {

inline constexpr int kIndexFormat = 1;
// Bits of PDQ from the last keyframe beyond which an entry is a keyframe at once: unrelated
// pictures lie 128 +- 8 bits apart, drawings of one shot mostly much closer.
inline constexpr int kKeyframeCutDistance = 110;

// The widest grid IndexParameters::keyframe_grid may ask for (cells, the option's range).
inline constexpr int kMaxKeyframeGrid = 64;

// How frames became entries; recorded in the manifest, checked by `add`.
struct IndexParameters {
  int hold_distance = 10;  // bits: frames within this of an entry's first frame join it
  int min_quality = 20;    // frames below this PDQ quality are not indexed
  // Pixels: larger frames are scaled to hash_side x hash_side before hashing (cost; within
  // ~2 bits of full-resolution PDQ at 384, README "Frame scaling").
  int hash_side = 384;

  // Extra channels (README "Channels"). Recorded in the manifest's "channels"; an index
  // without them (older generations) loads with the channels unavailable, and `add` keeps
  // an index's own choice.
  // Local features: ORB descriptors of keyframes (crops, screenshots, small rotations).
  // Default on: about 11 KB per keyframe plus 2.3 KB per entry (README, "Channel costs").
  bool local_features = true;
  // Line art: ORB descriptors of the keyframes' ink maps (uncoloured drawings). Default on.
  bool line_art = true;
  // Keyframes: an entry becomes one when its PDQ lies more than keyframe_distance bits from
  // the previous keyframe's and at least keyframe_seconds after it, or more than
  // kKeyframeCutDistance bits from it at any time (a cut). Every entry gets a thumbnail per
  // channel, attached to the keyframe before it. Defaults 24 bits and 0.25 s: 44% of the
  // entries are keyframes on the synthetic catalogue (README, "Channel costs"); higher
  // values save bytes and indexing time, and lose crops of frames far from a keyframe.
  int keyframe_distance = 24;
  double keyframe_seconds = 0.25;
  // ORB keypoints per keyframe of the orb channel (each 32 + 4 bytes). Default 300: before
  // the keypoints were spread (keyframe_grid), 600 attributed more off-centre crops (94%
  // against 79% on five evaluation leaks) but, even with the colour and nesting checks, let
  // a same-style drawing through (1 false attribution against none over nine leaks; README
  // "Accuracy"). Spread, 300 reach 96% of those crops.
  int keyframe_features = 300;
  // The orb channel's keypoints are spread over a grid this many cells wide
  // (FeatureOptions::grid_columns); 0: the strongest anywhere, as indexes written before
  // the option (their manifests lack it). Default 8: crops away from the frame's most
  // detailed object keep keypoints (README "Keyframes").
  int keyframe_grid = 8;  // 0..kMaxKeyframeGrid
  // The same for the lineart channel. Default 300: ink maps of unrelated line art verify
  // with more inliers at 600, and line art has no colour to check.
  int line_art_keyframe_features = 300;
  // Pixels: longer side of the aspect-kept luma that features are taken from. Default 640.
  int feature_side = 640;

  friend bool operator==(const IndexParameters&, const IndexParameters&) = default;
};

struct FileChecksum {
  std::uint64_t bytes = 0;
  std::string xxh3_128;  // 32 hex digits
};

// The manifest of one generation.
struct GenerationInfo {
  std::string name;            // "gen-000007"
  std::filesystem::path path;  // INDEX/gen-000007
  int format = 0;
  std::string tool_version;
  std::string faiss_version;
  std::string index_type;  // "IndexBinaryFlat"
  std::string hash_name;   // "pdq"
  int hash_bits = 0;
  IndexParameters parameters;
  std::int64_t entries = 0;
  std::int64_t episodes = 0;
  std::string created;                        // UTC, ISO 8601
  std::map<std::string, FileChecksum> files;  // file name -> size and checksum
  // Absolute folder of the catalogue CSV the generation was built or last added from, which
  // relative episode sources are resolved against (the HTML report's reference frames).
  // Empty when not recorded (older indexes, or only absolute paths).
  std::filesystem::path catalog_dir;
  // Each episode's own catalogue folder (EpisodeKey, catalog.h -> absolute folder), where it
  // differs from catalog_dir: episodes added from a CSV in another folder. Use CatalogDirOf.
  std::map<std::string, std::filesystem::path> episode_catalog_dirs;
  // Extra channels present (kOrbChannel, kLineArtChannel), with their keyframe and
  // descriptor counts. Empty for indexes built without them.
  struct Channel {
    std::int64_t keyframes = 0;
    std::int64_t descriptors = 0;
    // lineart's stroke maps (the stroke check); 0 in manifests written before them.
    std::int64_t stroke_maps = 0;
    // lineart's stroke hashes (the stroke lookup); 0 in manifests written before them.
    std::int64_t stroke_hashes = 0;
  };
  std::map<std::string, Channel> channels;

  // The folder the episode's relative source is resolved against: its own, else catalog_dir.
  std::filesystem::path CatalogDirOf(const std::string& title, int season, int episode) const;
};

// Names of the extra channels: their files are NAME.faiss and NAME.keys, their records'
// "channel" is the name.
inline constexpr const char* kOrbChannel = "orb";
inline constexpr const char* kLineArtChannel = "lineart";

// Returns the live generation's manifest, without checking the files. Throws
// celtrace::IndexError if there is no index, no CURRENT, or an unreadable or incompatible
// manifest.
GenerationInfo ReadGenerationInfo(const std::filesystem::path& index_dir);

// Checks every file of the generation against the manifest's sizes and checksums. Throws
// celtrace::IndexError naming the first file that differs.
void VerifyChecksums(const GenerationInfo& info);

// An opened, verified generation.
class Index {
 public:
  // Opens INDEX's live generation: reads the manifest, verifies checksums, then loads the
  // FAISS index and opens the catalogue. Throws celtrace::IndexError.
  static Index Open(const std::filesystem::path& index_dir);

  const GenerationInfo& info() const { return info_; }
  const Catalog& catalog() const { return catalog_; }
  const HashIndex& pdq() const { return pdq_; }
  // The extra channel of that name, or null when the generation has none (built without
  // it, or by an older celtrace).
  const FeatureIndex* channel(const std::string& name) const {
    const auto it = channels_.find(name);
    return it == channels_.end() ? nullptr : &it->second;
  }

 private:
  Index(GenerationInfo info, Catalog catalog, HashIndex pdq,
        std::map<std::string, FeatureIndex> channels);
  GenerationInfo info_;
  Catalog catalog_;
  HashIndex pdq_;
  std::map<std::string, FeatureIndex> channels_;
};

// Deep consistency checks of an opened index beyond checksums: FAISS size equals the
// catalogue's entry count, entry ids are 0..n-1, every entry's stored hash equals its FAISS
// code, every entry belongs to a known episode, the manifest lists the catalogue's
// episodes. Returns the problems found (empty when consistent).
std::vector<std::string> CheckConsistency(const Index& index);

class GenerationWriter {
 public:
  // Takes INDEX's writer lock (creating INDEX if needed), removes temporary folders left by
  // crashed writers and creates a fresh one. Throws celtrace::Error if another writer holds
  // the lock, if `based_on` is not empty and CURRENT no longer names it (the generation the
  // new one was made from, read before the lock: another writer published meanwhile, and
  // publishing would undo its work), or if the folder cannot be made.
  explicit GenerationWriter(const std::filesystem::path& index_dir,
                            const std::string& based_on = {});
  // Removes the temporary folder unless published, and releases the lock.
  ~GenerationWriter();
  GenerationWriter(const GenerationWriter&) = delete;
  GenerationWriter& operator=(const GenerationWriter&) = delete;

  // Where the catalogue of the new generation is to be created (Catalog::Create).
  std::filesystem::path catalog_path() const;

  // Writes pdq.faiss and manifest.json beside the finished catalogue, fsyncs, renames the
  // folder to the next gen-NNNNNN and swaps CURRENT to it, then deletes every generation
  // but the new one and the one live before it. Returns the new generation's name. Throws
  // celtrace::Error on any I/O failure, leaving the previous generation live. A non-empty
  // `catalog_dir` is recorded in the manifest (GenerationInfo::catalog_dir). Each of `channels`
  // (name -> index) is written as NAME.faiss and NAME.keys, checksummed in the manifest like
  // pdq.faiss.
  // `episode_dirs` (EpisodeKey -> absolute folder): episodes whose catalogue folder is
  // not `catalog_dir`, recorded with them (GenerationInfo::episode_catalog_dirs).
  std::string Publish(const HashIndex& pdq, const IndexParameters& parameters,
                      const std::filesystem::path& catalog_dir = {},
                      const std::map<std::string, const FeatureIndex*>& channels = {},
                      const std::map<std::string, std::filesystem::path>& episode_dirs = {});

 private:
  std::filesystem::path index_dir_;
  std::filesystem::path temp_dir_;
  std::optional<FileLock> lock_;  // INDEX/LOCK, held for the writer's life
  bool published_ = false;
};

// The version of celtrace written into manifests, e.g. "celtrace 0.1.0".
std::string ToolVersion();

}  // namespace celtrace
