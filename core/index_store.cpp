#include "celtrace/index_store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <utility>

#include "celtrace/checksum.h"
#include "celtrace/error.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCurrent = "CURRENT";
constexpr const char* kLock = "LOCK";
constexpr const char* kManifest = "manifest.json";
constexpr const char* kPdqFile = "pdq.faiss";
constexpr const char* kCatalogFile = "catalog.sqlite";
constexpr const char* kTempPrefix = ".tmp-gen-";
constexpr const char* kGenerationPrefix = "gen-";
constexpr const char* kChannelCodesSuffix = ".faiss";
constexpr const char* kChannelTableSuffix = ".keys";

std::vector<std::uint8_t> ReadBytes(const fs::path& path) {
  // A folder opens like a file and throws std::ios_base::failure on the first read (found by
  // the index_loader fuzz target: a manifest listing "." as a file).
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw IndexError("not a regular file: " + path.string());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IndexError("cannot open " + path.string());
  try {
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                    std::istreambuf_iterator<char>());
    if (in.bad()) throw IndexError("cannot read " + path.string());
    return bytes;
  } catch (const std::ios_base::failure&) {
    throw IndexError("cannot read " + path.string());
  }
}

// Reads a file and checks it against the manifest from the same buffer, so nothing can
// change between the check and the parse.
std::vector<std::uint8_t> ReadVerified(const GenerationInfo& info, const std::string& file) {
  const fs::path path = info.path / file;
  auto bytes = ReadBytes(path);
  const FileChecksum& expected = info.files.at(file);
  if (bytes.size() != expected.bytes || Xxh128(bytes) != expected.xxh3_128) {
    throw IndexError("index file " + path.string() + " fails its checksum (corrupted)");
  }
  return bytes;
}

void SyncPath(const fs::path& path, bool directory) {
  const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) throw Error("cannot open for fsync: " + path.string());
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw Error("fsync failed: " + path.string());
}

// Writes the whole buffer and fsyncs it; throws on a short write (a full disk).
void WriteFileSynced(const fs::path& path, std::span<const std::uint8_t> bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error("cannot create " + path.string());
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n <= 0) {
      ::close(fd);
      throw Error("cannot write " + path.string() + " (disk full?)");
    }
    written += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  if (::close(fd) != 0 || !synced) throw Error("cannot flush " + path.string() + " (disk full?)");
}

void WriteFileSynced(const fs::path& path, std::string_view text) {
  WriteFileSynced(path, std::span<const std::uint8_t>(
                            reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

std::string UtcNow() {
  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

// Generation numbers present in the index folder.
std::vector<int> GenerationNumbers(const fs::path& index_dir) {
  std::vector<int> numbers;
  for (const auto& item : fs::directory_iterator(index_dir)) {
    const std::string name = item.path().filename().string();
    if (name.rfind(kGenerationPrefix, 0) == 0 && item.is_directory()) {
      try {
        numbers.push_back(std::stoi(name.substr(4)));
      } catch (const std::exception&) {
        // Not ours; leave it alone.
      }
    }
  }
  std::sort(numbers.begin(), numbers.end());
  return numbers;
}

// The generation CURRENT names, or "" when there is none (no build has finished).
std::string CurrentName(const fs::path& index_dir) {
  std::ifstream in(index_dir / kCurrent);
  std::string name;
  if (!in || !std::getline(in, name)) return {};
  return name;
}

std::string GenerationName(int number) {
  char name[32];
  std::snprintf(name, sizeof(name), "gen-%06d", number);
  return name;
}

json ParametersJson(const IndexParameters& p) {
  return {{"hold_distance", p.hold_distance},
          {"min_quality", p.min_quality},
          {"hash_side", p.hash_side}};
}

// A manifest integer as T. nlohmann's get<T>() converts a fraction or an out-of-range
// number with a static_cast, undefined behaviour for a crafted manifest (found by the
// index_loader fuzzer: 8.00016e+23 as "bits"); anything but an integer in T's range is
// refused.
template <typename T>
T ManifestInteger(const json& value) {
  if (value.is_number_unsigned()) {
    const auto v = value.get<std::uint64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  } else if (value.is_number_integer()) {
    const auto v = value.get<std::int64_t>();
    if (std::in_range<T>(v)) return static_cast<T>(v);
  }
  throw IndexError("manifest value " + value.dump() + " is not an integer in range");
}

}  // namespace

std::string ToolVersion() { return "celtrace 0.1.0"; }

fs::path GenerationInfo::CatalogDirOf(const std::string& title, int season, int episode) const {
  const auto found = episode_catalog_dirs.find(EpisodeKey(title, season, episode));
  return found != episode_catalog_dirs.end() ? found->second : catalog_dir;
}

GenerationInfo ReadGenerationInfo(const fs::path& index_dir) {
  if (!fs::is_directory(index_dir)) throw IndexError("no index at " + index_dir.string());
  const std::string name = CurrentName(index_dir);
  if (name.rfind(kGenerationPrefix, 0) != 0 || name.find('/') != std::string::npos) {
    throw IndexError("no valid CURRENT in " + index_dir.string() +
                     " (not an index, or no build has finished)");
  }
  GenerationInfo info;
  info.name = name;
  info.path = index_dir / name;
  const auto bytes = ReadBytes(info.path / kManifest);
  try {
    const json manifest = json::parse(bytes.begin(), bytes.end());
    info.format = ManifestInteger<int>(manifest.at("format"));
    if (info.format != kIndexFormat) {
      throw IndexError("index format " + std::to_string(info.format) + " in " + info.path.string() +
                       " is not supported by this celtrace (format " +
                       std::to_string(kIndexFormat) + "); rebuild the index");
    }
    info.tool_version = manifest.at("tool").get<std::string>();
    info.faiss_version = manifest.at("faiss_version").get<std::string>();
    info.index_type = manifest.at("index_type").get<std::string>();
    const json& hash = manifest.at("hash");
    info.hash_name = hash.at("name").get<std::string>();
    info.hash_bits = ManifestInteger<int>(hash.at("bits"));
    if (info.hash_name != "pdq" || info.hash_bits != 256) {
      throw IndexError("index hash " + info.hash_name + "/" + std::to_string(info.hash_bits) +
                       " is not supported (expected pdq/256)");
    }
    info.parameters.hold_distance = ManifestInteger<int>(hash.at("hold_distance"));
    info.parameters.min_quality = ManifestInteger<int>(hash.at("min_quality"));
    info.parameters.hash_side = ManifestInteger<int>(hash.at("hash_side"));
    info.entries = ManifestInteger<std::int64_t>(manifest.at("entries"));
    info.episodes = static_cast<std::int64_t>(manifest.at("episodes").size());
    info.created = manifest.at("created").get<std::string>();
    info.catalog_dir = manifest.value("catalog_dir", std::string());
    // Optional per episode: written since episodes added from another folder kept theirs.
    for (const json& episode : manifest.at("episodes")) {
      if (!episode.is_object() || !episode.contains("catalog_dir")) continue;
      info.episode_catalog_dirs[EpisodeKey(episode.at("title").get<std::string>(),
                                           ManifestInteger<int>(episode.at("season")),
                                           ManifestInteger<int>(episode.at("episode")))] =
          episode.at("catalog_dir").get<std::string>();
    }
    // Optional: generations without extra channels (older celtrace, or switched off).
    info.parameters.local_features = info.parameters.line_art = false;
    if (manifest.contains("channels")) {
      for (const auto& [channel, description] : manifest.at("channels").items()) {
        if (channel != kOrbChannel && channel != kLineArtChannel) continue;  // a newer tool's
        // Counts added after the channels: absent in manifests written before them. (The
        // binding is passed, not captured: clang 14 cannot capture structured bindings.)
        const auto count_or_none = [](const json& counts, const char* key) {
          return counts.contains(key) ? ManifestInteger<std::int64_t>(counts.at(key))
                                      : std::int64_t{0};
        };
        info.channels[channel] = {ManifestInteger<std::int64_t>(description.at("keyframes")),
                                  ManifestInteger<std::int64_t>(description.at("descriptors")),
                                  count_or_none(description, "stroke_maps"),
                                  count_or_none(description, "stroke_hashes")};
      }
      info.parameters.local_features = info.channels.contains(kOrbChannel);
      info.parameters.line_art = info.channels.contains(kLineArtChannel);
      const json& features = manifest.at("features");
      info.parameters.keyframe_distance = ManifestInteger<int>(features.at("keyframe_distance"));
      info.parameters.keyframe_seconds = features.at("keyframe_seconds").get<double>();
      info.parameters.keyframe_features = ManifestInteger<int>(features.at("keyframe_features"));
      // Generations written before the channels had counts of their own used one for both.
      info.parameters.line_art_keyframe_features =
          features.contains("line_art_keyframe_features")
              ? ManifestInteger<int>(features.at("line_art_keyframe_features"))
              : info.parameters.keyframe_features;
      info.parameters.feature_side = ManifestInteger<int>(features.at("feature_side"));
      // Generations written before the option kept the strongest keypoints anywhere.
      info.parameters.keyframe_grid = features.contains("keyframe_grid")
                                          ? ManifestInteger<int>(features.at("keyframe_grid"))
                                          : 0;
      if (info.parameters.keyframe_grid < 0 || info.parameters.keyframe_grid > kMaxKeyframeGrid) {
        throw IndexError("manifest keyframe_grid " + std::to_string(info.parameters.keyframe_grid) +
                         " is out of range (0-" + std::to_string(kMaxKeyframeGrid) + ")");
      }
    }
    for (const auto& [file, checksum] : manifest.at("files").items()) {
      // Names of files inside the generation folder, never a path out of it.
      if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos) {
        throw IndexError("manifest " + (info.path / kManifest).string() + " lists a bad file name");
      }
      info.files[file] = {ManifestInteger<std::uint64_t>(checksum.at("bytes")),
                          checksum.at("xxh3_128").get<std::string>()};
    }
  } catch (const json::exception& e) {
    throw IndexError("unreadable manifest " + (info.path / kManifest).string() + ": " + e.what());
  }
  std::vector<std::string> required = {kPdqFile, kCatalogFile};
  for (const auto& [channel, counts] : info.channels) {
    required.push_back(channel + kChannelCodesSuffix);
    required.push_back(channel + kChannelTableSuffix);
  }
  for (const std::string& file : required) {
    if (!info.files.contains(file)) {
      throw IndexError("manifest of " + info.path.string() + " does not list " + file);
    }
  }
  return info;
}

void VerifyChecksums(const GenerationInfo& info) {
  for (const auto& [file, expected] : info.files) {
    const fs::path path = info.path / file;
    std::error_code error;
    const auto size = fs::file_size(path, error);
    if (error) throw IndexError("missing index file " + path.string());
    if (size != expected.bytes) {
      throw IndexError("index file " + path.string() + " has " + std::to_string(size) +
                       " bytes, manifest says " + std::to_string(expected.bytes) +
                       " (truncated or corrupted)");
    }
    if (Xxh128(ReadBytes(path)) != expected.xxh3_128) {
      throw IndexError("index file " + path.string() + " fails its checksum (corrupted)");
    }
  }
}

Index::Index(GenerationInfo info, Catalog catalog, HashIndex pdq,
             std::map<std::string, FeatureIndex> channels)
    : info_(std::move(info)),
      catalog_(std::move(catalog)),
      pdq_(std::move(pdq)),
      channels_(std::move(channels)) {}

Index Index::Open(const fs::path& index_dir) {
  GenerationInfo info = ReadGenerationInfo(index_dir);
  // Checksum the bytes FAISS will parse, from the same buffer, so nothing changes between.
  const fs::path pdq_path = info.path / kPdqFile;
  const auto pdq_bytes = ReadVerified(info, kPdqFile);
  GenerationInfo others = info;
  others.files.erase(kPdqFile);
  for (const auto& [channel, counts] : info.channels) {
    others.files.erase(channel + kChannelCodesSuffix);
    others.files.erase(channel + kChannelTableSuffix);
  }
  VerifyChecksums(others);
  HashIndex pdq = HashIndex::Deserialize(pdq_bytes);
  if (pdq.bits() != info.hash_bits || pdq.size() != info.entries) {
    throw IndexError("index file " + pdq_path.string() + " does not match its manifest");
  }
  std::map<std::string, FeatureIndex> channels;
  for (const auto& [channel, counts] : info.channels) {
    const std::string codes_file = channel + kChannelCodesSuffix;
    const std::string table_file = channel + kChannelTableSuffix;
    const auto codes = ReadVerified(info, codes_file);
    const auto table = ReadVerified(info, table_file);
    FeatureIndex features;
    try {
      features = FeatureIndex::Deserialize(codes, table);
    } catch (const IndexError& e) {
      throw IndexError("index files " + (info.path / codes_file).string() + " / " + table_file +
                       ": " + e.what());
    }
    if (features.keyframe_count() != counts.keyframes ||
        features.descriptor_count() != counts.descriptors ||
        features.stroke_map_count() != counts.stroke_maps ||
        features.stroke_hash_count() != counts.stroke_hashes) {
      throw IndexError("index file " + (info.path / table_file).string() +
                       " does not match its manifest");
    }
    channels.emplace(channel, std::move(features));
  }
  Catalog catalog = Catalog::Open(info.path / kCatalogFile);
  return Index(std::move(info), std::move(catalog), std::move(pdq), std::move(channels));
}

std::vector<std::string> CheckConsistency(const Index& index) {
  std::vector<std::string> problems;
  const Catalog& catalog = index.catalog();
  const auto entries = catalog.AllEntries();
  if (static_cast<std::int64_t>(entries.size()) != index.pdq().size()) {
    problems.push_back("catalogue has " + std::to_string(entries.size()) +
                       " entries, FAISS index " + std::to_string(index.pdq().size()));
  }
  std::map<std::int64_t, bool> episode_ids;
  for (const auto& episode : catalog.Episodes()) episode_ids[episode.id] = true;
  if (static_cast<std::int64_t>(episode_ids.size()) != index.info().episodes) {
    problems.push_back("catalogue has " + std::to_string(episode_ids.size()) +
                       " episodes, manifest " + std::to_string(index.info().episodes));
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& entry = entries[i];
    if (entry.id != static_cast<std::int64_t>(i)) {
      problems.push_back("entry ids are not sequential at " + std::to_string(i));
      break;
    }
    if (!episode_ids.contains(entry.episode_id)) {
      problems.push_back("entry " + std::to_string(entry.id) + " has unknown episode " +
                         std::to_string(entry.episode_id));
    }
    if (entry.end < entry.start) {
      problems.push_back("entry " + std::to_string(entry.id) + " ends before it starts");
    }
    if (entry.id < index.pdq().size()) {
      const auto code = index.pdq().Code(entry.id);
      if (!std::equal(code.begin(), code.end(), entry.hash.bytes.begin())) {
        problems.push_back("entry " + std::to_string(entry.id) +
                           ": catalogue hash differs from the FAISS code");
      }
    }
    if (problems.size() > 20) break;
  }
  for (const auto& [name, counts] : index.info().channels) {
    const FeatureIndex* channel = index.channel(name);
    if (!channel) continue;
    std::int64_t previous_last = -1;
    for (std::int64_t k = 0; k < channel->keyframe_count(); ++k) {
      if (channel->FirstEntry(k) < 0 || channel->LastEntry(k) >= index.pdq().size()) {
        problems.push_back(name + " keyframe " + std::to_string(k) + " names unknown entries");
        break;
      }
      const std::int64_t episode = entries[channel->FirstEntry(k)].episode_id;
      if (entries[channel->LastEntry(k)].episode_id != episode) {
        problems.push_back(name + " keyframe " + std::to_string(k) + " spans two episodes");
        break;
      }
      if (channel->FirstEntry(k) <= previous_last) {
        problems.push_back(name + " keyframes overlap at " + std::to_string(k));
        break;
      }
      previous_last = channel->LastEntry(k);
      // Stroke maps are checksummed with their file; this catches a writer's bad encoding.
      for (std::int64_t i = 0; i < channel->StrokeMapCount(k); ++i) {
        if (channel->StrokeMap(k, i).empty()) {
          problems.push_back(name + " keyframe " + std::to_string(k) + ": stroke map " +
                             std::to_string(i) + " does not decode");
          break;
        }
      }
    }
  }
  return problems;
}

GenerationWriter::GenerationWriter(const fs::path& index_dir, const std::string& based_on)
    : index_dir_(index_dir) {
  std::error_code error;
  fs::create_directories(index_dir_, error);
  if (error)
    throw Error("cannot create index folder " + index_dir_.string() + ": " + error.message());
  lock_ = FileLock::TryAcquire(index_dir_ / kLock);
  if (!lock_) throw Error("another celtrace-index is writing " + index_dir_.string());
  if (!based_on.empty()) {
    const std::string current = CurrentName(index_dir_);
    if (current != based_on) {
      throw Error("the index " + index_dir_.string() + " changed while it was being read (" +
                  based_on + " was live, now " + (current.empty() ? "none" : current) +
                  "): another celtrace-index published a generation meanwhile; run again");
    }
  }
  // Holding the lock, any temporary folder belongs to a writer that died.
  for (const auto& item : fs::directory_iterator(index_dir_)) {
    if (item.path().filename().string().rfind(kTempPrefix, 0) == 0) {
      fs::remove_all(item.path(), error);
    }
  }
  std::random_device seed;
  temp_dir_ = index_dir_ /
              (kTempPrefix + std::to_string(::getpid()) + "-" + std::to_string(seed() & 0xffffff));
  fs::create_directory(temp_dir_, error);
  if (error) throw Error("cannot create " + temp_dir_.string() + ": " + error.message());
}

GenerationWriter::~GenerationWriter() {
  if (!published_) {
    std::error_code ignored;
    fs::remove_all(temp_dir_, ignored);
  }
}  // lock_ is released after this

fs::path GenerationWriter::catalog_path() const { return temp_dir_ / kCatalogFile; }

std::string GenerationWriter::Publish(const HashIndex& pdq, const IndexParameters& parameters,
                                      const fs::path& catalog_dir,
                                      const std::map<std::string, const FeatureIndex*>& channels,
                                      const std::map<std::string, fs::path>& episode_dirs) {
  const auto pdq_bytes = pdq.Serialize();
  WriteFileSynced(temp_dir_ / kPdqFile, pdq_bytes);
  json channel_files = json::object();
  json channel_list = json::object();
  for (const auto& [name, features] : channels) {
    const auto codes = features->SerializeDescriptors();
    const auto table = features->SerializeTable();
    WriteFileSynced(temp_dir_ / (name + kChannelCodesSuffix), codes);
    WriteFileSynced(temp_dir_ / (name + kChannelTableSuffix), table);
    channel_files[name + kChannelCodesSuffix] = {{"bytes", codes.size()},
                                                 {"xxh3_128", Xxh128(codes)}};
    channel_files[name + kChannelTableSuffix] = {{"bytes", table.size()},
                                                 {"xxh3_128", Xxh128(table)}};
    channel_list[name] = {{"keyframes", features->keyframe_count()},
                          {"descriptors", features->descriptor_count()},
                          {"descriptor", "orb-256"}};
    if (name == kLineArtChannel) {
      channel_list[name]["stroke_maps"] = features->stroke_map_count();
      channel_list[name]["stroke_hashes"] = features->stroke_hash_count();
    }
  }

  json episodes = json::array();
  std::int64_t entry_count = 0;
  {
    const Catalog catalog = Catalog::Open(catalog_path());
    for (const auto& episode : catalog.Episodes()) {
      episodes.push_back({{"title", episode.title},
                          {"season", episode.season},
                          {"episode", episode.episode},
                          {"source", episode.source},
                          {"sha256", episode.sha256}});
      const auto dir =
          episode_dirs.find(EpisodeKey(episode.title, episode.season, episode.episode));
      if (dir != episode_dirs.end() && dir->second != catalog_dir) {
        episodes.back()["catalog_dir"] = dir->second.string();
      }
    }
    entry_count = catalog.EntryCount();
  }
  if (entry_count != pdq.size()) {
    throw Error("internal: catalogue and FAISS index disagree on the entry count");
  }
  SyncPath(catalog_path(), false);
  const auto catalog_bytes = ReadBytes(catalog_path());

  json files = {
      {kPdqFile, {{"bytes", pdq_bytes.size()}, {"xxh3_128", Xxh128(pdq_bytes)}}},
      {kCatalogFile, {{"bytes", catalog_bytes.size()}, {"xxh3_128", Xxh128(catalog_bytes)}}}};
  files.update(channel_files);
  json hash = ParametersJson(parameters);
  hash["name"] = "pdq";
  hash["bits"] = pdq.bits();
  json manifest = {
      {"format", kIndexFormat},        {"tool", ToolVersion()}, {"faiss_version", FaissVersion()},
      {"index_type", pdq.type_name()}, {"hash", hash},          {"entries", pdq.size()},
      {"episodes", episodes},          {"files", files},        {"created", UtcNow()}};
  // Optional, so that manifests without it (older indexes) still load.
  if (!catalog_dir.empty()) manifest["catalog_dir"] = catalog_dir.string();
  // Optional too: without it (older indexes, channels off) the channels are unavailable.
  if (!channels.empty()) {
    manifest["channels"] = channel_list;
    manifest["features"] = {{"keyframe_distance", parameters.keyframe_distance},
                            {"keyframe_seconds", parameters.keyframe_seconds},
                            {"keyframe_features", parameters.keyframe_features},
                            {"line_art_keyframe_features", parameters.line_art_keyframe_features},
                            {"feature_side", parameters.feature_side},
                            {"keyframe_grid", parameters.keyframe_grid}};
  }
  WriteFileSynced(temp_dir_ / kManifest, manifest.dump(2) + "\n");
  SyncPath(temp_dir_, true);

  const auto numbers = GenerationNumbers(index_dir_);
  const int number = numbers.empty() ? 1 : numbers.back() + 1;
  const std::string name = GenerationName(number);
  std::error_code error;
  fs::rename(temp_dir_, index_dir_ / name, error);
  if (error) throw Error("cannot publish " + name + ": " + error.message());
  published_ = true;
  SyncPath(index_dir_, true);

  const std::string previous = CurrentName(index_dir_);
  const fs::path current_temp = index_dir_ / "CURRENT.tmp";
  WriteFileSynced(current_temp, name + "\n");
  fs::rename(current_temp, index_dir_ / kCurrent, error);
  if (error) throw Error("cannot swap CURRENT to " + name + ": " + error.message());
  SyncPath(index_dir_, true);

  // Keep the new generation and the one live before it (not merely the one numbered before
  // it: a generation whose publication failed at the swap was never live); readers holding
  // older ones keep their open files until they close them.
  for (int old : numbers) {
    const std::string old_name = GenerationName(old);
    if (old_name != previous) fs::remove_all(index_dir_ / old_name, error);
  }
  return name;
}

}  // namespace celtrace
