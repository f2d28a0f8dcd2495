#include "index_info.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace celtrace {

void WriteIndexInfo(const std::filesystem::path& index_dir, bool json, std::ostream& out) {
  const Index index = Index::Open(index_dir);
  const GenerationInfo& info = index.info();
  std::uint64_t bytes = 0;
  nlohmann::json files = nlohmann::json::object();
  for (const auto& [name, checksum] : info.files) {
    bytes += checksum.bytes;
    files[name] = checksum.bytes;
  }
  double footage = 0;
  for (const auto& episode : index.catalog().Episodes()) footage += episode.duration;
  nlohmann::json channels = {{"pdq", {{"available", true}, {"entries", info.entries}}}};
  std::string channel_text = "pdq";
  for (const char* name : {kOrbChannel, kLineArtChannel}) {
    const auto it = info.channels.find(name);
    if (it == info.channels.end()) {
      channels[name] = {{"available", false}};
      channel_text += fmt::format(", {} unavailable (not in this generation)", name);
      continue;
    }
    std::uint64_t channel_bytes = 0;
    for (const char* suffix : {".faiss", ".keys"}) {
      const auto file = info.files.find(std::string(name) + suffix);
      if (file != info.files.end()) channel_bytes += file->second.bytes;
    }
    const double per_entry =
        info.entries > 0 ? static_cast<double>(channel_bytes) / info.entries : 0;
    channels[name] = {{"available", true},
                      {"keyframes", it->second.keyframes},
                      {"descriptors", it->second.descriptors},
                      {"bytes", channel_bytes},
                      {"bytes_per_entry", per_entry}};
    std::string strokes;  // whether the line-art channel can run the stroke check
    if (name == kLineArtChannel) {
      channels[name]["stroke_maps"] = it->second.stroke_maps;
      channels[name]["stroke_hashes"] = it->second.stroke_hashes;
      strokes = it->second.stroke_maps > 0
                    ? fmt::format(", {} stroke maps", it->second.stroke_maps)
                    : std::string(", no stroke maps (rebuild for the stroke check)");
      if (it->second.stroke_maps > 0) {
        strokes += it->second.stroke_hashes > 0
                       ? fmt::format(", {} stroke hashes", it->second.stroke_hashes)
                       : std::string(", no stroke hashes (rebuild for the stroke lookup)");
      }
    }
    channel_text +=
        fmt::format(", {} ({} keyframes, {} descriptors{}, {:.1f} bytes per entry)", name,
                    it->second.keyframes, it->second.descriptors, strokes, per_entry);
  }
  const nlohmann::json description = {
      {"channels", channels},
      {"index", index_dir.string()},
      {"generation", info.name},
      {"created", info.created},
      {"tool", info.tool_version},
      {"faiss_version", info.faiss_version},
      {"index_type", info.index_type},
      {"hash", info.hash_name},
      {"hash_bits", info.hash_bits},
      {"entries", info.entries},
      {"episodes", info.episodes},
      {"titles", index.catalog().TitleCount()},
      {"footage_seconds", footage},
      {"bytes", bytes},
      {"files", files},
      {"bytes_per_entry", info.entries > 0 ? static_cast<double>(bytes) / info.entries : 0.0},
      {"parameters",
       {{"hold_distance", info.parameters.hold_distance},
        {"min_quality", info.parameters.min_quality},
        {"hash_side", info.parameters.hash_side},
        {"keyframe_distance", info.parameters.keyframe_distance},
        {"keyframe_seconds", info.parameters.keyframe_seconds},
        {"keyframe_features", info.parameters.keyframe_features},
        {"line_art_keyframe_features", info.parameters.line_art_keyframe_features},
        {"keyframe_grid", info.parameters.keyframe_grid},
        {"feature_side", info.parameters.feature_side}}}};
  if (json) {
    out << description.dump(2) << '\n';
    return;
  }
  out << fmt::format(
      "index        {}\ngeneration   {} (created {}, {})\nindex type   {} {}-bit {}, FAISS {}\n"
      "titles       {}\nepisodes     {} ({:.1f} minutes of footage)\nentries      {} "
      "({:.1f} per minute)\nbytes        {} ({:.1f} per entry)\nparameters   hold_distance={} "
      "min_quality={} hash_side={}\nchannels     {}\n",
      index_dir.string(), info.name, info.created, info.tool_version, info.index_type,
      info.hash_bits, info.hash_name, info.faiss_version, index.catalog().TitleCount(),
      info.episodes, footage / 60, info.entries, footage > 0 ? info.entries * 60 / footage : 0.0,
      bytes, info.entries > 0 ? static_cast<double>(bytes) / info.entries : 0.0,
      info.parameters.hold_distance, info.parameters.min_quality, info.parameters.hash_side,
      channel_text);
}

std::vector<std::string> VerifyIndex(const std::filesystem::path& index_dir) {
  return CheckConsistency(Index::Open(index_dir));
}

}  // namespace celtrace
