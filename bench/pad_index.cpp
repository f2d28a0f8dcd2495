// celtrace-pad-index: copies an index's live generation into a new index and pads it with
// synthetic entries (random 256-bit codes from a seed, in episodes of a "Padding" title),
// to measure the matcher at 10^5-10^7 entries with real queries. Usage:
//   celtrace-pad-index SOURCE_INDEX DEST_INDEX --entries N [--seed S]
// N is the total entry count of the result (the source's entries included).
#include <CLI/CLI.hpp>
#include <iostream>
#include <random>

#include "celtrace/catalog.h"
#include "celtrace/index_store.h"

namespace {

// Padding episodes hold this many entries each, one per second.
constexpr std::int64_t kEntriesPerEpisode = 1000;

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"celtrace-pad-index: an index padded with synthetic entries, for benchmarks."};
  std::string source, dest;
  std::int64_t total = 0;
  std::uint64_t seed = 1;
  app.add_option("source", source, "Index to copy")->required();
  app.add_option("dest", dest, "New index folder")->required();
  app.add_option("--entries", total, "Entries of the result")->required();
  app.add_option("--seed", seed, "Seed of the padding codes")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    const celtrace::Index from = celtrace::Index::Open(source);
    celtrace::GenerationWriter writer(dest);
    celtrace::Catalog catalog = celtrace::Catalog::Create(writer.catalog_path());
    celtrace::HashIndex pdq;
    std::int64_t next = 0;
    for (const celtrace::EpisodeRecord& episode : from.catalog().Episodes()) {
      const std::int64_t id = catalog.AddEpisode(episode);
      std::vector<celtrace::Entry> entries = from.catalog().EntriesOf(episode.id);
      std::vector<std::uint8_t> codes;
      for (celtrace::Entry& e : entries) e.episode_id = id;
      // Ids are FAISS positions: keep the source's order (ids ascending).
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.id < b.id; });
      for (celtrace::Entry& e : entries) {
        e.id = next++;
        codes.insert(codes.end(), e.hash.bytes.begin(), e.hash.bytes.end());
      }
      catalog.AddEntries(entries);
      pdq.Add(codes);
    }
    std::mt19937_64 random(seed);
    for (int number = 1; next < total; ++number) {
      celtrace::EpisodeRecord episode;
      episode.title = "Padding";
      episode.season = 1;
      episode.episode = number;
      episode.source = "padding/" + std::to_string(number) + ".mkv";
      episode.sha256 = std::string(64, '0');
      episode.duration = kEntriesPerEpisode;
      episode.frames = kEntriesPerEpisode;
      const std::int64_t id = catalog.AddEpisode(episode);
      std::vector<celtrace::Entry> entries;
      std::vector<std::uint8_t> codes;
      for (std::int64_t i = 0; i < kEntriesPerEpisode && next < total; ++i) {
        celtrace::Entry e;
        e.id = next++;
        e.episode_id = id;
        e.start = e.end = static_cast<double>(i);
        e.quality = 100;
        e.frames = 1;
        for (auto& byte : e.hash.bytes) byte = static_cast<std::uint8_t>(random());
        e.hash.quality = 100;
        codes.insert(codes.end(), e.hash.bytes.begin(), e.hash.bytes.end());
        entries.push_back(e);
      }
      catalog.AddEntries(entries);
      pdq.Add(codes);
    }
    catalog.Finish();
    std::cerr << writer.Publish(pdq, from.info().parameters, from.info().catalog_dir) << ": "
              << next << " entries\n";
  } catch (const std::exception& e) {
    std::cerr << "celtrace-pad-index: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
