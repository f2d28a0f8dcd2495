#include "index_builder.h"

#include <tbb/global_control.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_pipeline.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>
#include <utility>

#include "celtrace/checksum.h"
#include "celtrace/error.h"
#include "celtrace/geometric_verification.h"
#include "celtrace/hash_index.h"
#include "celtrace/line_art.h"
#include "celtrace/local_features.h"
#include "celtrace/pdq.h"
#include "celtrace/progress.h"
#include "celtrace/video_reader.h"
#include "hold_detector.h"

namespace celtrace {
namespace {

bool Cancelled(const std::atomic<bool>* cancel) { return cancel && cancel->load(); }

int ThreadCount(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

// An episode carried into the new generation from the previous one, entries, hashes and
// keyframes (first_entry/last_entry as positions in `entries`) and all.
struct KeptEpisode {
  EpisodeRecord record;
  std::vector<Entry> entries;
  std::vector<FeatureKeyframe> orb;
  std::vector<FeatureKeyframe> line_art;
  std::filesystem::path catalog_dir;  // its relative source's folder; empty if absolute
};

// The single writer: appends episodes to the new generation's catalogue and FAISS index,
// numbering entries 0..n-1 in the order they arrive, and their keyframes to the channels.
class GenerationBuilder {
 public:
  // `based_on`: as GenerationWriter's.
  GenerationBuilder(const std::filesystem::path& index_dir, const IndexParameters& parameters,
                    const std::string& based_on)
      : writer_(index_dir, based_on), catalog_(Catalog::Create(writer_.catalog_path())) {
    if (parameters.local_features) orb_.emplace();
    if (parameters.line_art) line_art_.emplace();
  }

  // `catalog_dir`: the folder the episode's relative source is resolved against (empty for
  // an absolute one, or unknown).
  void Append(EpisodeRecord record, std::vector<Entry> entries,
              const std::vector<FeatureKeyframe>& orb, const std::vector<FeatureKeyframe>& line_art,
              const std::filesystem::path& catalog_dir) {
    if (!catalog_dir.empty()) {
      episode_dirs_[EpisodeKey(record.title, record.season, record.episode)] = catalog_dir;
    }
    const std::int64_t episode_id = catalog_.AddEpisode(record);
    const std::int64_t first_id = next_id_;
    std::vector<std::uint8_t> codes;
    codes.reserve(entries.size() * 32);
    for (Entry& entry : entries) {
      entry.id = next_id_++;
      entry.episode_id = episode_id;
      codes.insert(codes.end(), entry.hash.bytes.begin(), entry.hash.bytes.end());
    }
    catalog_.AddEntries(entries);
    pdq_.Add(codes);
    AddKeyframes(orb, first_id, &orb_);
    AddKeyframes(line_art, first_id, &line_art_);
    ++episodes_;
  }

  std::string Publish(const IndexParameters& parameters, const std::filesystem::path& catalog_dir) {
    catalog_.Finish();
    std::map<std::string, const FeatureIndex*> channels;
    if (orb_) channels[kOrbChannel] = &*orb_;
    if (line_art_) channels[kLineArtChannel] = &*line_art_;
    return writer_.Publish(pdq_, parameters, catalog_dir, channels, episode_dirs_);
  }

  int episodes() const { return episodes_; }
  std::int64_t entries() const { return next_id_; }
  std::int64_t keyframes() const { return orb_ ? orb_->keyframe_count() : 0; }

 private:
  static void AddKeyframes(const std::vector<FeatureKeyframe>& keyframes, std::int64_t first_id,
                           std::optional<FeatureIndex>* channel) {
    if (!*channel) return;
    for (FeatureKeyframe keyframe : keyframes) {
      keyframe.first_entry += first_id;
      keyframe.last_entry += first_id;
      (*channel)->Add(keyframe);
    }
  }

  GenerationWriter writer_;
  Catalog catalog_;
  HashIndex pdq_;
  std::optional<FeatureIndex> orb_;
  std::optional<FeatureIndex> line_art_;
  std::map<std::string, std::filesystem::path> episode_dirs_;
  std::int64_t next_id_ = 0;
  int episodes_ = 0;
};

// The absolute folder of the catalogue CSV that lists `episode` with a relative path,
// recovered as path = folder / source; empty for an absolute path.
std::filesystem::path SourceFolder(const EpisodeSource& episode) {
  const std::filesystem::path source(episode.source);
  if (source.empty() || source.is_absolute()) return {};
  std::filesystem::path folder = episode.path;
  for (auto it = source.begin(); it != source.end(); ++it) folder = folder.parent_path();
  std::error_code error;
  folder = std::filesystem::absolute(folder.empty() ? "." : folder, error);
  return error ? std::filesystem::path() : folder.lexically_normal();
}

// The catalogue CSV's absolute folder (SourceFolder of its first episode with a relative
// path); empty if every path is absolute.
std::filesystem::path CatalogDir(std::span<const EpisodeSource> episodes) {
  for (const EpisodeSource& episode : episodes) {
    if (std::filesystem::path folder = SourceFolder(episode); !folder.empty()) return folder;
  }
  return {};
}

// Why a file is refused that is already indexed as `episode` ("Title S1E2 (path)").
std::string SameFileReason(const std::string& episode) {
  return "same file as the indexed episode " + episode +
         "; remove that episode first to index the file again";
}

// How the catalogue's episodes are opened: the studio's own footage, not a leak's files, so
// FFmpeg's demuxer and decoder allowlists (README "Hostile inputs") are off; masters in
// JPEG 2000, DV, v210 or raw H.264 would be refused by them.
VideoReaderOptions CatalogueFootage() {
  VideoReaderOptions options;
  options.allowlists = false;
  return options;
}

std::string ExtraJson(const EpisodeSource& source) {
  nlohmann::json extra = nlohmann::json::object();
  for (const auto& [name, value] : source.extra) extra[name] = value;
  return extra.dump();
}

// Writes a generation from kept episodes plus newly decoded ones, and publishes it. The kept
// episodes were read from the generation `based_on` (empty for a build from scratch): if
// another writer has published since, nothing is written (GenerationWriter).
IndexReport WriteGeneration(std::vector<KeptEpisode> kept, std::span<const EpisodeSource> to_decode,
                            const IndexParameters& parameters,
                            const std::filesystem::path& catalog_dir, const IndexOptions& options,
                            IndexReport report, const std::string& based_on) {
  const auto started = std::chrono::steady_clock::now();
  const int threads = ThreadCount(options.threads);
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  GenerationBuilder builder(options.index_dir, parameters, based_on);
  // The episodes' files by SHA-256: one file is one episode (an `add` listing an indexed file
  // under another title or number, a typo fixed, would list every frame twice).
  std::map<std::string, std::string> episode_of_file;
  auto describe = [](const EpisodeRecord& r) {
    return r.title + " S" + std::to_string(r.season) + "E" + std::to_string(r.episode) + " (" +
           r.source + ")";
  };
  for (const KeptEpisode& episode : kept)
    episode_of_file.emplace(episode.record.sha256, describe(episode.record));
  // The kept episodes' files, read by the decoding stage (which refuses them before decoding)
  // while the writing stage adds the new ones to episode_of_file.
  const std::map<std::string, std::string> kept_files = episode_of_file;
  for (KeptEpisode& episode : kept)
    builder.Append(std::move(episode.record), std::move(episode.entries), episode.orb,
                   episode.line_art, episode.catalog_dir);
  report.episodes_kept = static_cast<int>(kept.size());

  // Durations up front, for the ETA; a file that cannot be opened fails later with its reason.
  std::vector<double> durations(to_decode.size(), 0);
  tbb::parallel_for(size_t{0}, to_decode.size(), [&](size_t i) {
    try {
      durations[i] = VideoReader(to_decode[i].path, CatalogueFootage()).duration_seconds();
    } catch (const Error&) {
    }
  });
  double total_duration = 0;
  for (double d : durations) total_duration += d;

  // Episodes run in parallel on TBB's workers; FFmpeg gets the cores the episodes leave.
  const int episodes = static_cast<int>(to_decode.size());
  const int decoding = std::max(1, std::min(threads, episodes));
  const int decoder_threads = std::max(1, threads / decoding);
  // The writer keeps catalogue order, so an episode that finishes early waits, holding its
  // token, for those listed before it; with a token per worker, one long episode early in
  // the catalogue left the other workers idle (README "Indexing"). Four tokens per worker
  // keep them decoding, at the memory of the finished episodes waiting to be written.
  const int in_flight = std::max(1, std::min(4 * decoding, episodes));
  struct Result {
    std::optional<HashedEpisode> hashed;
    std::string error;
  };
  {
    Progress progress({"index", "episodes", "frames", options.progress},
                      static_cast<std::int64_t>(to_decode.size()), total_duration, std::cerr);
    // Each episode's result is kept here, and only its index passes through the pipeline:
    // when an exception cancels the pipeline (a full disk under the catalogue), oneTBB 2021.8
    // does not destroy the items its buffers hold, and these are freed with the vector.
    std::vector<Result> results(to_decode.size());
    size_t next = 0;
    tbb::parallel_pipeline(
        in_flight,
        tbb::make_filter<void, size_t>(tbb::filter_mode::serial_in_order,
                                       [&](tbb::flow_control& control) -> size_t {
                                         if (next >= to_decode.size() ||
                                             Cancelled(options.cancel)) {
                                           control.stop();
                                           return 0;
                                         }
                                         return next++;
                                       }) &
            tbb::make_filter<size_t, size_t>(
                tbb::filter_mode::parallel,
                [&](size_t i) {
                  Result& result = results[i];
                  double reported = 0;
                  try {
                    result.hashed = HashEpisode(
                        to_decode[i], parameters, decoder_threads, options.cancel,
                        [&](double seconds, std::int64_t frames) {
                          progress.Advance(0, std::min(seconds, durations[i]) - reported, frames);
                          reported = std::min(seconds, durations[i]);
                        },
                        kept_files);
                  } catch (const std::exception& e) {  // ours, OpenCV's, the allocator's
                    result.error = e.what();
                  }
                  progress.Advance(1, durations[i] - reported, 0);
                  return i;
                }) &
            // In catalogue order, so that episode and entry ids do not depend on which
            // episode finishes decoding first: two builds of one catalogue are the same.
            tbb::make_filter<size_t, void>(tbb::filter_mode::serial_in_order, [&](size_t i) {
              Result result = std::exchange(results[i], {});
              if (Cancelled(options.cancel)) return;
              const EpisodeSource& source = to_decode[i];
              if (!result.hashed) {
                report.failures.push_back({source.source, result.error});
                return;
              }
              HashedEpisode& hashed = *result.hashed;
              const auto [same, inserted] =
                  episode_of_file.emplace(hashed.record.sha256, describe(hashed.record));
              if (!inserted) {
                report.failures.push_back({source.source, SameFileReason(same->second)});
                return;
              }
              report.frames_decoded += hashed.record.frames;
              report.footage_seconds += hashed.record.duration;
              report.low_quality_frames += hashed.low_quality_frames;
              report.feature_seconds += hashed.feature_seconds;
              ++report.episodes_decoded;
              builder.Append(std::move(hashed.record), std::move(hashed.entries), hashed.orb,
                             hashed.line_art, SourceFolder(source));
            }));
  }
  if (Cancelled(options.cancel))
    throw Error("interrupted: nothing published, the previous generation stays live");
  // Nothing to publish when no episode could be indexed, or none of those asked for (an `add`
  // whose new episodes all failed would publish the live generation again).
  if (builder.episodes() == 0 || (!to_decode.empty() && report.episodes_decoded == 0)) {
    std::string message = "no episode could be indexed; nothing published";
    for (const EpisodeFailure& failure : report.failures) {
      message += "\n  " + failure.source + ": " + failure.reason;
    }
    throw Error(message);
  }
  report.generation = builder.Publish(parameters, catalog_dir);
  report.episodes = builder.episodes();
  report.entries = builder.entries();
  report.keyframes = builder.keyframes();
  report.elapsed_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return report;
}

// The episodes of a generation in the order they were written, so that carrying them into
// a new generation keeps their entry ids, with their keyframes. An episode's entries have
// consecutive ids (one writer appends them together), so a keyframe's position in its
// episode is its entry id less the episode's first.
std::vector<KeptEpisode> ReadEpisodes(const Index& index) {
  std::vector<KeptEpisode> kept;
  auto records = index.catalog().Episodes();
  std::sort(records.begin(), records.end(),
            [](const EpisodeRecord& a, const EpisodeRecord& b) { return a.id < b.id; });
  std::map<std::int64_t, size_t> episode_of_first_entry;
  for (EpisodeRecord& record : records) {
    auto entries = index.catalog().EntriesOf(record.id);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.id < b.id; });
    if (!entries.empty()) episode_of_first_entry[entries.front().id] = kept.size();
    const std::filesystem::path folder =
        std::filesystem::path(record.source).is_absolute()
            ? std::filesystem::path()
            : index.info().CatalogDirOf(record.title, record.season, record.episode);
    kept.push_back({std::move(record), std::move(entries), {}, {}, folder});
  }
  auto carry = [&](const FeatureIndex* channel, std::vector<FeatureKeyframe> KeptEpisode::*out) {
    if (!channel) return;
    for (std::int64_t k = 0; k < channel->keyframe_count(); ++k) {
      auto it = episode_of_first_entry.upper_bound(channel->FirstEntry(k));
      if (it == episode_of_first_entry.begin()) throw IndexError("keyframe before any entry");
      --it;
      FeatureKeyframe keyframe = channel->Keyframe(k);
      keyframe.first_entry -= it->first;
      keyframe.last_entry -= it->first;
      if (keyframe.last_entry >= static_cast<std::int64_t>(kept[it->second].entries.size())) {
        throw IndexError("keyframe spans two episodes; run celtrace-index verify");
      }
      (kept[it->second].*out).push_back(std::move(keyframe));
    }
  };
  carry(index.channel(kOrbChannel), &KeptEpisode::orb);
  carry(index.channel(kLineArtChannel), &KeptEpisode::line_art);
  return kept;
}

}  // namespace

HashedEpisode HashEpisode(const EpisodeSource& source, const IndexParameters& parameters,
                          int decoder_threads, const std::atomic<bool>* cancel,
                          const std::function<void(double, std::int64_t)>& on_frames,
                          const std::map<std::string, std::string>& indexed_files) {
  HashedEpisode hashed;
  EpisodeRecord& record = hashed.record;
  record.title = source.title;
  record.season = source.season;
  record.episode = source.episode;
  record.source = source.source;
  record.extra_json = ExtraJson(source);
  record.sha256 = Sha256File(source.path);
  if (const auto same = indexed_files.find(record.sha256); same != indexed_files.end()) {
    throw Error(SameFileReason(same->second));
  }

  const bool features = parameters.local_features || parameters.line_art;
  VideoReaderOptions decode = CatalogueFootage();
  decode.threads = decoder_threads;
  decode.luma_only = true;  // PDQ needs luma only; skips the colour conversion
  // Features need the frame's geometry: decode aspect-kept luma, square it for PDQ here.
  if (features) {
    decode.max_side = parameters.feature_side;
    // The orb channel's colour check: a chroma thumbnail per entry, from a small BGR copy.
    if (parameters.local_features) decode.colour_width = kChromaWidth;
  } else {
    decode.square_side = parameters.hash_side;
  }
  VideoReader reader(source.path, decode);
  HoldDetector holds(parameters);
  FeatureOptions feature_options;
  feature_options.max_features = parameters.keyframe_features;
  feature_options.max_side = parameters.feature_side;
  FeatureOptions ink_options = feature_options;
  ink_options.max_features = parameters.line_art_keyframe_features;
  // Spread for orb only: the lineart channel was not measured with it.
  feature_options.grid_columns = parameters.keyframe_grid;
  std::optional<Pdq> keyframe_hash;
  double keyframe_time = 0;
  Frame frame;
  cv::Mat square;
  std::int64_t pending = 0;
  while (reader.Read(&frame)) {
    const cv::Mat& image = frame.image;
    const bool scale = features && std::max(image.cols, image.rows) > parameters.hash_side;
    if (scale) {
      cv::resize(image, square, cv::Size(parameters.hash_side, parameters.hash_side), 0, 0,
                 cv::INTER_AREA);
    }
    const std::int64_t started = holds.entries_started();
    const Pdq hash = ComputePdq(scale ? square : image);
    holds.Add(hash, frame.seconds);
    const int moved = keyframe_hash ? HammingDistance(*keyframe_hash, hash) : 256;
    if (features && holds.entries_started() > started) {
      // A new entry: its thumbnails (`image` is luma within feature_side already, so
      // features and thumbnails share the keyframe's pixel grid), and maybe a keyframe.
      const auto extract_started = std::chrono::steady_clock::now();
      const std::int64_t position = holds.entries_started() - 1;
      const cv::Mat ink = parameters.line_art ? InkMap(image) : cv::Mat();
      const bool keyframe = moved > kKeyframeCutDistance ||
                            (moved > parameters.keyframe_distance &&
                             frame.seconds - keyframe_time >= parameters.keyframe_seconds);
      if (keyframe) {
        keyframe_hash = hash;
        keyframe_time = frame.seconds;
        if (parameters.local_features) {
          hashed.orb.push_back(
              {position, position, ExtractFeatures(image, feature_options), {}, {}, {}});
        }
        if (parameters.line_art) {
          hashed.line_art.push_back(
              {position, position, ExtractFeatures(ink, ink_options), {}, {}, {}});
        }
      }
      // The entry joins the latest keyframe (a new one, or the one before it).
      if (parameters.local_features) {
        hashed.orb.back().last_entry = position;
        hashed.orb.back().thumbnails.push_back(VerificationThumbnail(image));
        hashed.orb.back().chroma.push_back(
            ChromaThumbnail(frame.colour, ThumbnailSize(image.size(), kChromaWidth)));
      }
      if (parameters.line_art) {
        hashed.line_art.back().last_entry = position;
        hashed.line_art.back().thumbnails.push_back(VerificationThumbnail(ink));
        hashed.line_art.back().strokes.push_back(StrokeMap(ink));
      }
      hashed.feature_seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - extract_started).count();
    }
    ++record.frames;
    record.duration = frame.seconds;
    if (++pending == 64) {
      if (Cancelled(cancel)) throw Error("interrupted");
      if (on_frames) on_frames(frame.seconds, pending);
      pending = 0;
    }
  }
  if (record.frames == 0) throw Error("no video frames decoded from " + source.path.string());
  if (on_frames) on_frames(record.duration, pending);
  hashed.entries = holds.Finish();
  hashed.low_quality_frames = holds.low_quality_frames();
  return hashed;
}

IndexReport BuildIndex(std::span<const EpisodeSource> episodes, const IndexOptions& options) {
  return WriteGeneration({}, episodes, options.parameters, CatalogDir(episodes), options,
                         IndexReport{}, {});
}

IndexReport AddToIndex(std::span<const EpisodeSource> episodes, const IndexOptions& options) {
  const Index index = Index::Open(options.index_dir);
  std::vector<KeptEpisode> kept = ReadEpisodes(index);
  std::map<std::string, const EpisodeRecord*> indexed;
  for (const KeptEpisode& episode : kept) {
    indexed[EpisodeKey(episode.record.title, episode.record.season, episode.record.episode)] =
        &episode.record;
  }
  IndexReport report;
  std::vector<EpisodeSource> to_decode;
  for (const EpisodeSource& source : episodes) {
    const auto found = indexed.find(EpisodeKey(source.title, source.season, source.episode));
    if (found == indexed.end()) {
      to_decode.push_back(source);
      continue;
    }
    std::string sha256;
    try {
      sha256 = Sha256File(source.path);
    } catch (const Error& e) {
      report.failures.push_back({source.source, e.what()});
      continue;
    }
    if (sha256 != found->second->sha256) {
      report.failures.push_back({source.source, "already indexed from a different file (" +
                                                    found->second->source +
                                                    "); remove the episode first to replace it"});
    }
  }
  if (to_decode.empty()) {
    // Nothing new: the live generation already holds every episode asked for.
    report.generation = index.info().name;
    report.episodes = static_cast<int>(kept.size());
    report.episodes_kept = report.episodes;
    report.entries = index.pdq().size();
    return report;
  }
  // Episodes carried over keep sources relative to their own CSV; the newest CSV's folder
  // is recorded, the previous one when the new CSV lists absolute paths only.
  std::filesystem::path catalog_dir = CatalogDir(episodes);
  if (catalog_dir.empty()) catalog_dir = index.info().catalog_dir;
  return WriteGeneration(std::move(kept), to_decode, index.info().parameters, catalog_dir, options,
                         std::move(report), index.info().name);
}

IndexReport RemoveFromIndex(const EpisodeSelector& selector, const IndexOptions& options) {
  if (selector.episode && !selector.season) throw Error("--episode needs --season");
  const Index index = Index::Open(options.index_dir);
  std::vector<KeptEpisode> kept;
  IndexReport report;
  for (KeptEpisode& episode : ReadEpisodes(index)) {
    const EpisodeRecord& r = episode.record;
    const bool selected = r.title == selector.title &&
                          (!selector.season || r.season == *selector.season) &&
                          (!selector.episode || r.episode == *selector.episode);
    if (selected) {
      ++report.episodes_removed;
    } else {
      kept.push_back(std::move(episode));
    }
  }
  if (report.episodes_removed == 0) throw Error("no indexed episode matches the selection");
  if (kept.empty()) throw Error("remove would leave the index empty; build a new one instead");
  return WriteGeneration(std::move(kept), {}, index.info().parameters, index.info().catalog_dir,
                         options, std::move(report), index.info().name);
}

}  // namespace celtrace
