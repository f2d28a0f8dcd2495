// End-to-end tests of the indexer over synthetic animation made in the test: entries and
// their time ranges against the shot plan, add/remove, corruption, kill -9 and Ctrl-C.
#include "index_builder.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <thread>

#include "celtrace/error.h"
#include "celtrace/index_store.h"
#include "synthetic_footage.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

std::int64_t FrameAt(double seconds, double fps) { return std::llround(seconds * fps); }

// A catalogue of `count` short synthetic episodes in `dir`, read back through the CSV.
std::vector<EpisodeSource> MakeCatalog(const fs::path& dir, int count, double seconds,
                                       std::uint64_t seed = 7) {
  synth::WriteCatalog(
      {.out_dir = dir, .episodes = count, .seconds = seconds, .seed = seed, .size = {320, 180}});
  return ReadCatalogCsv(dir / "catalog.csv");
}

IndexOptions QuietOptions(const fs::path& index_dir) {
  IndexOptions options;
  options.index_dir = index_dir;
  options.progress = false;
  return options;
}

TEST(IndexBuilder, EntriesFollowTheShotPlan) {
  testing::TempDir dir;
  const synth::EpisodeSpec spec{.seed = 11, .duration_seconds = 30, .size = {480, 270}};
  const synth::Episode plan = synth::PlanEpisode(spec);
  synth::WriteEpisode(spec, plan, dir / "episode.mkv");
  EpisodeSource source;
  source.path = dir / "episode.mkv";
  source.source = "episode.mkv";
  source.title = "T";
  const IndexParameters parameters;
  const HashedEpisode hashed = HashEpisode(source, parameters, 1, nullptr, {});
  EXPECT_EQ(hashed.record.frames, plan.frame_count);
  ASSERT_FALSE(hashed.entries.empty());

  std::map<int, std::vector<const Entry*>> by_shot;
  for (const Entry& entry : hashed.entries) {
    const int first_shot = synth::ShotIndexAt(plan, FrameAt(entry.start, spec.fps));
    const int last_shot = synth::ShotIndexAt(plan, FrameAt(entry.end, spec.fps));
    // No entry spans a cut. An entry may run on into a fade to black, which shows the
    // same picture darkening (PDQ's median threshold does not see brightness).
    const bool into_fade =
        last_shot == first_shot + 1 && plan.shots[last_shot].kind == synth::ShotKind::kFadeToBlack;
    EXPECT_TRUE(first_shot == last_shot || into_fade)
        << "entry " << entry.start << "-" << entry.end << " spans shots " << first_shot << "-"
        << last_shot;
    by_shot[first_shot].push_back(&entry);
    EXPECT_EQ(entry.frames, FrameAt(entry.end, spec.fps) - FrameAt(entry.start, spec.fps) + 1);
  }
  int checked_kinds = 0;
  for (size_t s = 0; s < plan.shots.size(); ++s) {
    const synth::Shot& shot = plan.shots[s];
    const auto& entries = by_shot[static_cast<int>(s)];
    switch (shot.kind) {
      case synth::ShotKind::kHeld: {
        // One drawing: one entry spanning the whole shot, first to last frame (or on into
        // a following fade).
        ASSERT_EQ(entries.size(), 1u) << "held shot " << s;
        EXPECT_EQ(FrameAt(entries[0]->start, spec.fps), shot.first_frame);
        const bool fade_follows =
            s + 1 < plan.shots.size() && plan.shots[s + 1].kind == synth::ShotKind::kFadeToBlack;
        if (fade_follows) {
          EXPECT_GE(FrameAt(entries[0]->end, spec.fps), shot.end_frame - 1);
          EXPECT_LT(FrameAt(entries[0]->end, spec.fps), plan.shots[s + 1].end_frame - 1);
        } else {
          EXPECT_EQ(FrameAt(entries[0]->end, spec.fps), shot.end_frame - 1);
        }
        ++checked_kinds;
        break;
      }
      case synth::ShotKind::kAnimatedOn2s:
      case synth::ShotKind::kAnimatedOn3s: {
        // Each drawing is one entry of (at most) its 2 or 3 frames, starting on its frame.
        const int hold = shot.kind == synth::ShotKind::kAnimatedOn2s ? 2 : 3;
        const auto drawings = (shot.frame_count() + hold - 1) / hold;
        EXPECT_GE(static_cast<std::int64_t>(entries.size()), drawings * 9 / 10) << "shot " << s;
        EXPECT_LE(static_cast<std::int64_t>(entries.size()), drawings) << "shot " << s;
        for (const Entry* entry : entries) {
          EXPECT_EQ((FrameAt(entry->start, spec.fps) - shot.first_frame) % hold, 0);
          EXPECT_EQ(
              entry->frames % hold == 0 || FrameAt(entry->end, spec.fps) == shot.end_frame - 1,
              true);
        }
        ++checked_kinds;
        break;
      }
      case synth::ShotKind::kLoopRepeat: {
        // Reused animation: separate entries at the loop's own times, with the hashes of the
        // shot it repeats.
        const auto& source_entries = by_shot[shot.source_shot];
        ASSERT_FALSE(entries.empty());
        ASSERT_EQ(entries.size(), source_entries.size()) << "loop shot " << s;
        for (size_t i = 0; i < entries.size(); ++i) {
          EXPECT_LE(HammingDistance(entries[i]->hash, source_entries[i]->hash), 10);
          EXPECT_NEAR(entries[i]->start - source_entries[i]->start,
                      shot.start - plan.shots[shot.source_shot].start, 1.5 / spec.fps);
        }
        ++checked_kinds;
        break;
      }
      case synth::ShotKind::kFadeToBlack: {
        // The black end of the fade is not indexed.
        for (const Entry* entry : entries) {
          EXPECT_LT(FrameAt(entry->end, spec.fps), shot.end_frame - 1);
        }
        ++checked_kinds;
        break;
      }
      default:
        break;
    }
  }
  EXPECT_GE(checked_kinds, 4);
  EXPECT_GT(hashed.low_quality_frames, 0);
}

TEST(IndexBuilder, BuildAddRemoveKeepTheCatalogueRight) {
  testing::TempDir dir;
  const auto all = MakeCatalog(dir / "footage", 3, 6);
  ASSERT_EQ(all.size(), 3u);
  const fs::path index_dir = dir / "index";
  const IndexOptions options = QuietOptions(index_dir);

  const IndexReport built = BuildIndex(std::span(all).first(2), options);
  EXPECT_EQ(built.episodes, 2);
  EXPECT_EQ(built.episodes_decoded, 2);
  EXPECT_GT(built.entries, 0);
  EXPECT_TRUE(built.failures.empty());
  std::vector<Entry> before;
  {
    const Index index = Index::Open(index_dir);
    EXPECT_EQ(index.info().name, "gen-000001");
    EXPECT_EQ(index.catalog().Episodes().size(), 2u);
    EXPECT_TRUE(CheckConsistency(index).empty());
    before = index.catalog().AllEntries();
  }

  const IndexReport added = AddToIndex(all, options);
  EXPECT_EQ(added.episodes_decoded, 1);
  EXPECT_EQ(added.episodes_kept, 2);
  EXPECT_EQ(added.generation, "gen-000002");
  {
    const Index index = Index::Open(index_dir);
    const auto episodes = index.catalog().Episodes();
    ASSERT_EQ(episodes.size(), 3u);
    EXPECT_TRUE(CheckConsistency(index).empty());
    // The kept episodes' entries are carried over unchanged, ids included.
    const auto after = index.catalog().AllEntries();
    ASSERT_GE(after.size(), before.size());
    for (size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], before[i]);
    for (const auto& episode : episodes) EXPECT_EQ(episode.sha256.size(), 64u);
  }

  // Nothing new: no new generation.
  EXPECT_EQ(AddToIndex(all, options).generation, "gen-000002");

  EpisodeSelector selector;
  selector.title = all[0].title;
  const IndexReport removed = RemoveFromIndex(selector, options);
  EXPECT_EQ(removed.episodes_removed, 2);  // titles alternate: episodes 0 and 2
  {
    const Index index = Index::Open(index_dir);
    const auto episodes = index.catalog().Episodes();
    ASSERT_EQ(episodes.size(), 1u);
    EXPECT_EQ(episodes[0].title, all[1].title);
    EXPECT_TRUE(CheckConsistency(index).empty());
    EXPECT_EQ(index.pdq().size(), static_cast<std::int64_t>(index.catalog().EntryCount()));
  }
  // The previous generation is kept, older ones deleted.
  EXPECT_TRUE(fs::exists(index_dir / "gen-000002"));
  EXPECT_FALSE(fs::exists(index_dir / "gen-000001"));
  selector.title = "No Such Show";
  EXPECT_THROW(RemoveFromIndex(selector, options), Error);
}

// An index grown with `add` from a catalogue in another folder resolves each episode's
// relative source against the folder of the CSV that listed it: both catalogues name their
// file s01e01.mkv, and the report must not show one show's frame for the other.
TEST(IndexBuilder, EachEpisodeKeepsTheFolderOfItsCatalogue) {
  testing::TempDir dir;
  std::vector<EpisodeSource> first = MakeCatalog(dir / "a", 1, 3, 7);
  std::vector<EpisodeSource> second = MakeCatalog(dir / "b", 1, 3, 8);
  second[0].title = "Other Show";
  ASSERT_EQ(first[0].source, second[0].source);  // the same relative name
  const IndexOptions options = QuietOptions(dir / "index");
  BuildIndex(first, options);
  AddToIndex(second, options);
  const fs::path a = fs::absolute(dir / "a").lexically_normal();
  const fs::path b = fs::absolute(dir / "b").lexically_normal();
  {
    const GenerationInfo info = ReadGenerationInfo(dir / "index");
    EXPECT_EQ(info.catalog_dir, b);  // the newest catalogue's
    EXPECT_EQ(info.CatalogDirOf(first[0].title, first[0].season, first[0].episode), a);
    EXPECT_EQ(info.CatalogDirOf(second[0].title, second[0].season, second[0].episode), b);
  }
  // Carried through a removal too.
  EpisodeSelector selector;
  selector.title = "Other Show";
  RemoveFromIndex(selector, options);
  const GenerationInfo info = ReadGenerationInfo(dir / "index");
  EXPECT_EQ(info.CatalogDirOf(first[0].title, first[0].season, first[0].episode), a);
}

// One file is one episode: `add` listing an indexed file under another title (a typo fixed)
// would list every frame of it twice. Nothing new could be indexed, so nothing is published.
TEST(IndexBuilder, AddRefusesAFileIndexedUnderAnotherTitle) {
  testing::TempDir dir;
  std::vector<EpisodeSource> catalogue = MakeCatalog(dir / "footage", 1, 3);
  const IndexOptions options = QuietOptions(dir / "index");
  BuildIndex(catalogue, options);
  const std::string original = catalogue[0].title;
  catalogue[0].title += " (fixed)";
  try {
    AddToIndex(catalogue, options);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("nothing published"), std::string::npos) << message;
    EXPECT_NE(message.find("same file as the indexed episode " + original), std::string::npos)
        << message;
  }
  EXPECT_EQ(ReadGenerationInfo(dir / "index").name, "gen-000001");
}

// `add` and `remove` read the live generation before they take the writer's lock (`add`
// hashes every listed file meanwhile): if another writer publishes in between, publishing
// would undo its generation, so the writer refuses.
TEST(IndexBuilder, AWriterRefusesWhenAnotherPublishedSinceItRead) {
  testing::TempDir dir;
  std::vector<EpisodeSource> catalogue = MakeCatalog(dir / "footage", 2, 3);
  const IndexOptions options = QuietOptions(dir / "index");
  BuildIndex(std::span(catalogue).first(1), options);  // gen-000001
  AddToIndex(catalogue, options);                      // gen-000002: another writer
  try {
    GenerationWriter stale(dir / "index", "gen-000001");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("changed while it was being read"), std::string::npos)
        << e.what();
  }
  { GenerationWriter current(dir / "index", "gen-000002"); }  // the lock is free again
  EXPECT_EQ(ReadGenerationInfo(dir / "index").name, "gen-000002");
  EXPECT_EQ(ReadGenerationInfo(dir / "index").episodes, 2);
}

// The generation kept beside the new one is the one that was live, not the one numbered
// before it: a generation whose publication failed at CURRENT's swap was never live.
TEST(IndexBuilder, PublishingKeepsTheGenerationThatWasLive) {
  testing::TempDir dir;
  const std::vector<EpisodeSource> catalogue = MakeCatalog(dir / "footage", 1, 3);
  const IndexOptions options = QuietOptions(dir / "index");
  BuildIndex(catalogue, options);
  BuildIndex(catalogue, options);                                // gen-000002 live, gen-000001 kept
  fs::copy(dir / "index/gen-000002", dir / "index/gen-000003");  // published, never swapped in
  BuildIndex(catalogue, options);
  EXPECT_EQ(ReadGenerationInfo(dir / "index").name, "gen-000004");
  EXPECT_TRUE(fs::exists(dir / "index/gen-000002"));
  EXPECT_FALSE(fs::exists(dir / "index/gen-000003"));
  EXPECT_FALSE(fs::exists(dir / "index/gen-000001"));
}

// Ids are given in catalogue order, not in the order episodes finish decoding: a long
// episode listed first keeps the first ids though a short one, decoded beside it, is done
// long before it. Two builds of one catalogue are then the same.
TEST(IndexBuilder, EpisodesAreNumberedInCatalogueOrder) {
  testing::TempDir dir;
  EpisodeSource long_one = MakeCatalog(dir / "long", 1, 30).at(0);
  EpisodeSource short_one = MakeCatalog(dir / "short", 1, 3, 8).at(0);
  short_one.title = long_one.title;
  short_one.season = long_one.season;
  short_one.episode = long_one.episode + 1;
  const std::vector<EpisodeSource> catalogue = {long_one, short_one};
  IndexOptions options = QuietOptions(dir / "index");
  options.threads = 2;  // both episodes in flight at once
  ASSERT_EQ(BuildIndex(catalogue, options).episodes, 2);
  const Index index = Index::Open(dir / "index");
  const auto episodes = index.catalog().Episodes();  // by title, season, episode
  ASSERT_EQ(episodes.size(), 2u);
  EXPECT_GT(episodes[0].frames, 5 * episodes[1].frames);  // the long one sorts first
  EXPECT_LT(episodes[0].id, episodes[1].id);
  const auto long_entries = index.catalog().EntriesOf(episodes[0].id);
  const auto short_entries = index.catalog().EntriesOf(episodes[1].id);
  ASSERT_FALSE(long_entries.empty());
  ASSERT_FALSE(short_entries.empty());
  for (const Entry& entry : long_entries) EXPECT_LT(entry.id, short_entries.front().id);
}

TEST(IndexBuilder, BadEpisodeIsSkippedAndReported) {
  testing::TempDir dir;
  auto episodes = MakeCatalog(dir / "footage", 1, 6);
  std::ofstream(dir / "footage" / "broken.mkv") << "not a video at all";
  EpisodeSource broken;
  broken.path = dir / "footage" / "broken.mkv";
  broken.source = "broken.mkv";
  broken.title = "Broken";
  episodes.push_back(broken);
  const IndexReport report = BuildIndex(episodes, QuietOptions(dir / "index"));
  EXPECT_EQ(report.episodes, 1);
  ASSERT_EQ(report.failures.size(), 1u);
  EXPECT_EQ(report.failures[0].source, "broken.mkv");
}

class IndexFiles : public ::testing::Test {
 protected:
  static inline testing::SharedSetUp shared_setup_;
  static void SetUpTestSuite() {
    shared_setup_.Run([] {
      dir_ = new testing::TempDir;
      const auto episodes = MakeCatalog(*dir_ / "footage", 2, 6);
      BuildIndex(episodes, QuietOptions(*dir_ / "pristine"));
    });
  }
  void SetUp() override { ASSERT_TRUE(shared_setup_.ok()) << shared_setup_.error(); }
  static void TearDownTestSuite() { delete dir_; }

  // A fresh copy of the built index to damage.
  fs::path Copy() {
    const fs::path target = *dir_ / ("copy-" + std::to_string(copies_++));
    fs::copy(*dir_ / "pristine", target, fs::copy_options::recursive);
    return target;
  }
  static fs::path Generation(const fs::path& index) { return index / "gen-000001"; }

  static testing::TempDir* dir_;
  static int copies_;
};
testing::TempDir* IndexFiles::dir_ = nullptr;
int IndexFiles::copies_ = 0;

void FlipBit(const fs::path& file, std::uint64_t offset) {
  std::fstream io(file, std::ios::in | std::ios::out | std::ios::binary);
  io.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  io.get(byte);
  io.seekp(static_cast<std::streamoff>(offset));
  io.put(static_cast<char>(byte ^ 0x10));
}

TEST_F(IndexFiles, PristineIndexVerifies) {
  const Index index = Index::Open(Copy());
  EXPECT_GT(index.pdq().size(), 0);
  EXPECT_TRUE(CheckConsistency(index).empty());
}

TEST_F(IndexFiles, TruncatedFilesAreRefused) {
  for (const char* file : {"pdq.faiss", "catalog.sqlite", "manifest.json"}) {
    const fs::path index = Copy();
    const fs::path path = Generation(index) / file;
    fs::resize_file(path, fs::file_size(path) / 2);
    EXPECT_THROW(Index::Open(index), IndexError) << file;
  }
}

TEST_F(IndexFiles, FlippedBitsAreRefused) {
  std::mt19937 rng(9);
  for (const char* file : {"pdq.faiss", "catalog.sqlite"}) {
    for (int trial = 0; trial < 5; ++trial) {
      const fs::path index = Copy();
      const fs::path path = Generation(index) / file;
      FlipBit(path, rng() % fs::file_size(path));
      EXPECT_THROW(Index::Open(index), IndexError) << file << " trial " << trial;
    }
  }
}

TEST_F(IndexFiles, MissingOrBrokenPointersAreRefused) {
  EXPECT_THROW(Index::Open(*dir_ / "does-not-exist"), IndexError);
  const fs::path index = Copy();
  std::ofstream(index / "CURRENT") << "gen-000042\n";
  EXPECT_THROW(Index::Open(index), IndexError);
  std::ofstream(index / "CURRENT") << "../../etc\n";
  EXPECT_THROW(Index::Open(index), IndexError);
  const fs::path other = Copy();
  std::ofstream(Generation(other) / "manifest.json") << "{\"format\": 99}";
  EXPECT_THROW(Index::Open(other), IndexError);
}

pid_t Spawn(const std::vector<std::string>& args) { return testing::StartProgram(args); }
int WaitExit(pid_t pid) { return testing::WaitProgram(pid); }

TEST(IndexCrashSafety, KillNineAtRandomMomentsLeavesAVerifiedGeneration) {
  testing::TempDir dir;
  MakeCatalog(dir / "footage", 3, 6);
  const fs::path index = dir / "index";
  const std::vector<std::string> build = {
      CELTRACE_INDEX_BIN, "build",        (dir / "footage" / "catalog.csv").string(),
      "--index",          index.string(), "--no-progress"};
  // A first generation, and the time a whole build takes.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(WaitExit(Spawn(build)), 0);
  const double full =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::mt19937 rng(2024);
  std::uniform_real_distribution<double> moment(0.0, full * 1.1);
  int killed_midway = 0;
  for (int trial = 0; trial < 24; ++trial) {
    const pid_t pid = Spawn(build);
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(rng)));
    kill(pid, SIGKILL);
    killed_midway += WaitExit(pid) == 128 + SIGKILL;
    const Index opened = Index::Open(index);  // throws if no valid generation is live
    EXPECT_TRUE(CheckConsistency(opened).empty()) << "trial " << trial;
    EXPECT_EQ(opened.catalog().Episodes().size(), 3u);
  }
  EXPECT_GE(killed_midway, 12);

  // Ctrl-C: a clean stop with exit 130, nothing published, no temporary folder left.
  const std::string live = ReadGenerationInfo(index).name;
  const pid_t pid = Spawn(build);
  std::this_thread::sleep_for(std::chrono::duration<double>(full * 0.3));
  kill(pid, SIGINT);
  const int code = WaitExit(pid);
  if (code == 130) {
    EXPECT_EQ(ReadGenerationInfo(index).name, live);
    // Its own temporary folder is gone (those of killed builds wait for the next writer).
    const std::string own = ".tmp-gen-" + std::to_string(pid) + "-";
    for (const auto& item : fs::directory_iterator(index)) {
      EXPECT_NE(item.path().filename().string().rfind(own, 0), 0u) << item.path();
    }
  } else {
    EXPECT_EQ(code, 0) << "the build finished before the signal";
  }
  EXPECT_TRUE(CheckConsistency(Index::Open(index)).empty());
  EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "verify", "--index", index.string()})), 0);
}

std::uint64_t FolderBytes(const fs::path& folder) {
  std::uint64_t total = 0;
  for (const auto& item : fs::recursive_directory_iterator(folder)) {
    if (item.is_regular_file()) total += item.file_size();
  }
  return total;
}

TEST(IndexCrashSafety, AFullDiskLeavesThePreviousGenerationLive) {
  testing::TempDir dir;
  MakeCatalog(dir / "footage", 3, 6);
  const std::string catalog = (dir / "footage" / "catalog.csv").string();
  // The size of one generation, measured on the ordinary disk.
  ASSERT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "build", catalog, "--index",
                            (dir / "probe").string(), "--no-progress"})),
            0);
  const std::uint64_t generation = FolderBytes(dir / "probe");
  testing::SmallDisk disk(dir / "disk", std::max<std::uint64_t>(4 * generation, 1 << 20));
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (not root, or a container)";
  const fs::path index = dir / "disk" / "index";
  ASSERT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "build", catalog, "--index", index.string(),
                            "--no-progress"})),
            0);
  const std::string live = ReadGenerationInfo(index).name;
  // Fill the disk until only half a generation is free.
  ASSERT_TRUE(disk.FillLeaving(generation / 2));
  for (int trial = 0; trial < 2; ++trial) {
    const int code = WaitExit(
        Spawn({CELTRACE_INDEX_BIN, "build", catalog, "--index", index.string(), "--no-progress"}));
    EXPECT_NE(code, 0) << "a build cannot fit";
    EXPECT_LT(code, 128) << "a full disk is an error, not a crash";
    EXPECT_EQ(ReadGenerationInfo(index).name, live);
    const Index opened = Index::Open(index);
    EXPECT_TRUE(CheckConsistency(opened).empty());
    EXPECT_EQ(opened.catalog().Episodes().size(), 3u);
    EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "verify", "--index", index.string()})), 0);
  }
  // With room again, the next build publishes and cleans up after the failed ones.
  disk.RemoveFiller();
  EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "build", catalog, "--index", index.string(),
                            "--no-progress"})),
            0);
  EXPECT_NE(ReadGenerationInfo(index).name, live);
  for (const auto& item : fs::directory_iterator(index)) {
    EXPECT_FALSE(item.path().filename().string().starts_with(".tmp-gen-")) << item.path();
  }
}

TEST(IndexCrashSafety, VerifyCommandExitsThreeOnCorruption) {
  testing::TempDir dir;
  ASSERT_GT(BuildIndex(MakeCatalog(dir / "footage", 1, 6), QuietOptions(dir / "index")).entries, 0);
  EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "verify", "--index", (dir / "index").string()})),
            0);
  FlipBit(dir / "index" / "gen-000001" / "pdq.faiss", 100);
  EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "verify", "--index", (dir / "index").string()})),
            3);
  EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "info", "--index", (dir / "index").string()})), 3);
  EXPECT_EQ(WaitExit(Spawn({CELTRACE_INDEX_BIN, "info", "--index", (dir / "nothing").string()})),
            3);
}

}  // namespace
}  // namespace celtrace
