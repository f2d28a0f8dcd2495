// End-to-end: synthetic catalogue -> celtrace-index -> synthetic leak -> celtrace-match,
// every record against the leak's ground truth; resume after kill -9; exit codes.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "celtrace/csv.h"
#include "celtrace/video_reader.h"
#include "clip_matcher.h"
#include "reference_index.h"
#include "synthetic_footage.h"
#include "synthetic_leak.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

pid_t Start(const std::vector<std::string>& args, const fs::path& output_file) {
  return testing::StartProgram(args, output_file);
}
int Wait(pid_t pid) { return testing::WaitProgram(pid); }

int RunProgram(const std::vector<std::string>& args, const fs::path& output_file,
               const fs::path& input_file = "/dev/null") {
  return testing::WaitProgram(testing::StartProgram(args, output_file, input_file));
}

using testing::Slurp;

std::map<std::string, nlohmann::json> Records(const fs::path& jsonl, size_t* lines = nullptr) {
  std::map<std::string, nlohmann::json> records;
  std::istringstream in(Slurp(jsonl));
  std::string line;
  size_t count = 0;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line);
    records[record["path"].get<std::string>()] = record;
    ++count;
  }
  if (lines) *lines = count;
  return records;
}

// One catalogue, index and leak shared by the tests of this file (built once: ~10 s).
class MatchEndToEnd : public ::testing::Test {
 protected:
  static inline testing::SharedSetUp shared_setup_;
  static void SetUpTestSuite() {
    shared_setup_.Run([] {
      dir_ = new testing::TempDir;
      const synth::CatalogSpec catalog{.out_dir = *dir_ / "catalog",
                                       .episodes = 4,
                                       .seconds = 30,
                                       .seed = 5,
                                       .size = {480, 270},
                                       .with_opening = false};
      synth::WriteCatalog(catalog);
      testing::RequireIndexBuilt(*dir_ / "catalog" / "catalog.csv", Index(), *dir_ / "index.out");
      synth::LeakSpec leak;
      leak.out_dir = Leak();
      leak.catalog = synth::PlanCatalog(catalog);
      leak.seed = 11;
      expected_ = new std::vector<synth::LeakItem>(synth::WriteLeak(leak));
    });
  }
  void SetUp() override { ASSERT_TRUE(shared_setup_.ok()) << shared_setup_.error(); }
  static void TearDownTestSuite() {
    delete expected_;
    delete dir_;
  }
  static fs::path Index() { return *dir_ / "index"; }
  static fs::path Leak() { return *dir_ / "leak"; }
  // celtrace-match over the whole leak with `extra` arguments: the records of these tests
  // are compared run to run, so no clip may time out in an instrumented build.
  static std::vector<std::string> MatchLeak(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {CELTRACE_MATCH_BIN, "--index", Index().string(),
                                     Leak().string()};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const std::string& arg : testing::InstrumentedClipDeadline()) args.push_back(arg);
    return args;
  }

  static testing::TempDir* dir_;
  static std::vector<synth::LeakItem>* expected_;
};
testing::TempDir* MatchEndToEnd::dir_ = nullptr;
std::vector<synth::LeakItem>* MatchEndToEnd::expected_ = nullptr;

// Transformations this issue must attribute; crops are the local-feature channel's job, so
// for them only "never a wrong episode" is required.
bool MustMatch(const std::string& transform) { return transform != "crop_10"; }

TEST_F(MatchEndToEnd, EveryLeakedFileGetsTheExpectedRecord) {
  const fs::path out = *dir_ / "records.jsonl";
  const fs::path csv = *dir_ / "records.csv";
  const int code = RunProgram(MatchLeak({"--csv", csv.string(), "--no-progress"}), out);
  EXPECT_EQ(code, 1) << "corrupt files are `error` records, so the exit code is 1";
  size_t lines = 0;
  const auto records = Records(out, &lines);
  std::set<std::string> paths;
  for (const auto& item : *expected_) paths.insert((Leak() / item.path).string());
  paths.insert((Leak() / "expected.csv").string());  // the ground truth is a file too
  // One record per input: every expected file, nothing twice.
  EXPECT_EQ(lines, records.size());
  EXPECT_EQ(records.size(), paths.size());

  std::map<std::string, std::vector<const synth::LeakItem*>> by_path;
  for (const auto& item : *expected_) by_path[(Leak() / item.path).string()].push_back(&item);
  EXPECT_EQ(records.at((Leak() / "expected.csv").string())["status"], "unsupported");
  for (const auto& [path, items] : by_path) {
    ASSERT_TRUE(records.contains(path)) << path;
    const auto& record = records.at(path);
    const synth::LeakItem& first = *items.front();
    const std::string status = record["status"];
    SCOPED_TRACE(path + " (" + first.transform + "): " + record.dump());
    // Never a false attribution: a match names one of the expected episodes first.
    if (status == "match") {
      ASSERT_EQ(first.expected, "match");
      const auto& top = record["matches"][0];
      bool known = false;
      for (const auto* item : items) {
        known = known || (top["title"] == item->title && top["episode"] == item->episode &&
                          top["season"] == item->season);
      }
      EXPECT_TRUE(known);
    }
    if (first.expected != "match" || MustMatch(first.transform)) {
      EXPECT_EQ(status, first.expected);
    }
    if (status != "match") continue;
    for (const auto* item : items) {
      // The expected episode and time are among the occurrences (stills) or segments (clips).
      bool found = false;
      for (const auto& m : record["matches"]) {
        if (m["title"] != item->title || m["episode"] != item->episode) continue;
        if (item->kind == "clip") {
          found = found || (std::abs(m["ref_start"].get<double>() - item->ref_start) < 0.5 &&
                            std::abs(m["query_start"].get<double>() - item->query_start) < 0.5);
        } else {
          found = found || (m["ref_start"].get<double>() <= item->ref_start + 0.1 &&
                            m["ref_end"].get<double>() >= item->ref_end - 0.1);
        }
      }
      EXPECT_TRUE(found) << item->title << " E" << item->episode << " at " << item->ref_start;
    }
  }
  // The CSV has a row per match or per record, all with the header's field count.
  const auto rows = ParseCsv(Slurp(csv));
  ASSERT_GT(rows.size(), records.size());
  for (const auto& row : rows) EXPECT_EQ(row.size(), rows[0].size());
}

// The job folder's journal holds `inputs` lines, each input once: nothing finished was
// analysed again.
void ExpectJournalHoldsEachInputOnce(const fs::path& job, size_t inputs) {
  std::istringstream journal(Slurp(job / "records.jsonl"));
  std::set<std::string> seqs;
  std::string line;
  size_t count = 0;
  while (std::getline(journal, line)) {
    seqs.insert(line.substr(0, line.find('\t')));
    ++count;
  }
  EXPECT_EQ(seqs.size(), count);
  EXPECT_EQ(count, inputs);
}

TEST_F(MatchEndToEnd, ResumeAfterKillNineEqualsAnUninterruptedRun) {
  const fs::path clean = *dir_ / "clean.jsonl";
  ASSERT_EQ(RunProgram(MatchLeak({"--job", (*dir_ / "job-clean").string(), "--out", clean.string(),
                                  "--no-progress"}),
                       *dir_ / "clean.stdout"),
            1);
  const std::vector<std::string> args =
      MatchLeak({"--job", (*dir_ / "job").string(), "--out", (*dir_ / "resumed.jsonl").string(),
                 "--no-progress", "--threads", "1"});
  // A full single-threaded run's duration sets the kill moments.
  const auto started = std::chrono::steady_clock::now();
  ASSERT_EQ(RunProgram(MatchLeak({"--no-progress", "--threads", "1"}), *dir_ / "timing.jsonl"), 1);
  const double full =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::mt19937 rng(77);
  std::uniform_real_distribution<double> moment(0.05 * full, 0.6 * full);
  int killed = 0;
  for (int trial = 0; trial < 4; ++trial) {
    const pid_t pid = Start(args, *dir_ / "resumed.stdout");
    std::this_thread::sleep_for(std::chrono::duration<double>(moment(rng)));
    killed += kill(pid, SIGKILL) == 0 && Wait(pid) == 128 + SIGKILL;
  }
  EXPECT_GE(killed, 1);
  EXPECT_EQ(RunProgram(args, *dir_ / "resumed.stdout"), 1);
  EXPECT_EQ(Slurp(*dir_ / "resumed.jsonl"), Slurp(clean));
  ExpectJournalHoldsEachInputOnce(*dir_ / "job", Records(clean).size());
}

TEST_F(MatchEndToEnd, AFullDiskStopsTheJobAndResumingFinishesIt) {
  const fs::path clean = *dir_ / "disk-clean.jsonl";
  ASSERT_EQ(RunProgram(MatchLeak({"--no-progress", "--out", clean.string()}),
                       *dir_ / "disk-clean.stdout"),
            1);
  const std::uint64_t output = fs::file_size(clean);
  testing::SmallDisk disk(*dir_ / "disk", std::max<std::uint64_t>(8 * output, 1 << 20));
  if (!disk.ok()) GTEST_SKIP() << "cannot mount a tmpfs here (not root, or a container)";
  // Room for the job file (tmpfs hands out 4 KiB pages, and FillLeaving leaves up to one
  // less than asked) and about a third of the journal: the job stops part-way.
  constexpr std::uint64_t kPage = 4096;
  ASSERT_TRUE(disk.FillLeaving(kPage + output / 3));
  const fs::path job = *dir_ / "disk" / "job";
  const fs::path out = *dir_ / "disk" / "out.jsonl";
  const std::vector<std::string> args =
      MatchLeak({"--job", job.string(), "--out", out.string(), "--no-progress"});
  const fs::path log = *dir_ / "disk.stderr";
  const pid_t pid = testing::StartProgram(args, "/dev/null", "/dev/null", log);
  EXPECT_EQ(testing::WaitProgram(pid), 4) << "a run stopped part-way is exit code 4";
  EXPECT_NE(Slurp(log).find("No space left on device"), std::string::npos) << Slurp(log);
  EXPECT_FALSE(fs::exists(out)) << "no output that looks complete";
  const std::string stopped = Slurp(job / "records.jsonl");
  const auto journaled = std::count(stopped.begin(), stopped.end(), '\n');
  EXPECT_GT(journaled, 0) << "the job stopped part-way, not before its first record";
  EXPECT_LT(static_cast<size_t>(journaled), Records(clean).size());
  for (const auto& item : fs::recursive_directory_iterator(job)) {
    EXPECT_NE(item.path().extension(), ".tmp") << "temporary files are removed: " << item.path();
  }
  // With room again, the same command finishes the job: the records of a run that never
  // stopped, and the journal holds each input once.
  disk.RemoveFiller();
  EXPECT_EQ(RunProgram(args, *dir_ / "disk.stdout"), 1);
  EXPECT_EQ(Slurp(out), Slurp(clean));
  ExpectJournalHoldsEachInputOnce(job, Records(clean).size());
}

// A job folder holds records made with one set of options and one index: resuming under
// others would mix records that disagree (a still low_information at one --min-quality and
// a match at another), so it is refused, as is a second run on the folder at once. Outputs
// that cannot be written fail before any analysis, a write that fails stops the run, and
// a job's final outputs go through a symbolic link to its file instead of replacing it.
TEST_F(MatchEndToEnd, JobsRefuseOtherSettingsAndASecondRunAndOutputsFailEarly) {
  std::vector<std::string> stills;
  for (const auto& item : *expected_) {
    if (item.kind == "still" && item.path.find('!') == std::string::npos && stills.size() < 3) {
      stills.push_back((Leak() / item.path).string());
    }
  }
  ASSERT_EQ(stills.size(), 3u);
  const fs::path job = *dir_ / "settings-job";
  auto run = [&](std::vector<std::string> extra, const fs::path& log) {
    std::vector<std::string> args = {CELTRACE_MATCH_BIN, "--index", Index().string(),
                                     "--no-progress"};
    args.insert(args.end(), extra.begin(), extra.end());
    return testing::WaitProgram(testing::StartProgram(args, "/dev/null", "/dev/null", log));
  };
  std::vector<std::string> first = {"--job", job.string(), "--out",
                                    (*dir_ / "settings-a.jsonl").string()};
  first.insert(first.end(), stills.begin(), stills.end());
  ASSERT_LE(run(first, *dir_ / "settings.log"), 1);
  const std::string records = Slurp(*dir_ / "settings-a.jsonl");
  EXPECT_EQ(std::count(records.begin(), records.end(), '\n'), 3);

  // Other bars: refused, naming the option. The defaults given explicitly are the same.
  EXPECT_EQ(run({"--job", job.string(), "--min-quality", "100"}, *dir_ / "settings.log"), 2);
  EXPECT_NE(Slurp(*dir_ / "settings.log").find("min-quality=50\", now \"min-quality=100"),
            std::string::npos)
      << Slurp(*dir_ / "settings.log");
  EXPECT_LE(run({"--job", job.string(), "--min-quality", "50", "--threads", "1", "--out",
                 (*dir_ / "settings-b.jsonl").string()},
                *dir_ / "settings.log"),
            1)
      << Slurp(*dir_ / "settings.log");
  EXPECT_EQ(Slurp(*dir_ / "settings-b.jsonl"), records);
  // Numbers compare as the values CLI11 parses: ".92" is the default 0.92, "037" is 31 (C's
  // octal, as CLI11 reads integers), "010" is 8 and not the default.
  EXPECT_LE(run({"--job", job.string(), "--min-correlation", ".92", "--threshold", "037"},
                *dir_ / "settings.log"),
            1)
      << Slurp(*dir_ / "settings.log");
  EXPECT_EQ(run({"--job", job.string(), "--threshold", "010"}, *dir_ / "settings.log"), 2);

  // A second run while the folder is in use.
  {
    const int fd = ::open((job / "LOCK").c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    EXPECT_EQ(run({"--job", job.string()}, *dir_ / "settings.log"), 2);
    EXPECT_NE(Slurp(*dir_ / "settings.log").find("in use by another celtrace-match"),
              std::string::npos);
    ::close(fd);
  }
  // Other inputs: refused (exit 2, a usage error), as are inputs that changed under a job
  // (a folder's file renamed since): records would be matched to the wrong files.
  EXPECT_EQ(run({"--job", job.string(), stills[0]}, *dir_ / "settings.log"), 2);
  EXPECT_NE(Slurp(*dir_ / "settings.log").find("was started with other inputs"), std::string::npos)
      << Slurp(*dir_ / "settings.log");
  const fs::path folder = *dir_ / "settings-folder";
  fs::create_directories(folder);
  for (size_t i = 0; i < stills.size(); ++i) {
    fs::copy_file(stills[i],
                  folder / ("s" + std::to_string(i) + fs::path(stills[i]).extension().string()));
  }
  const fs::path folder_job = *dir_ / "settings-job-renamed";
  ASSERT_LE(run({"--job", folder_job.string(), folder.string()}, *dir_ / "settings.log"), 1);
  const fs::path renamed = folder / ("s1" + fs::path(stills[1]).extension().string());
  fs::rename(renamed, folder / ("t1" + fs::path(stills[1]).extension().string()));
  EXPECT_EQ(run({"--job", folder_job.string()}, *dir_ / "settings.log"), 2);
  EXPECT_NE(Slurp(*dir_ / "settings.log").find("the inputs changed since the job started"),
            std::string::npos)
      << Slurp(*dir_ / "settings.log");

  // --out through a symbolic link: the link stays, its file gets the records.
  fs::create_symlink(*dir_ / "settings-target.jsonl", *dir_ / "settings-link.jsonl");
  std::vector<std::string> linked = {"--job", (*dir_ / "settings-job2").string(), "--out",
                                     (*dir_ / "settings-link.jsonl").string()};
  linked.insert(linked.end(), stills.begin(), stills.end());
  EXPECT_LE(run(linked, *dir_ / "settings.log"), 1);
  EXPECT_TRUE(fs::is_symlink(*dir_ / "settings-link.jsonl"));
  EXPECT_EQ(Slurp(*dir_ / "settings-target.jsonl"), records);

  // A regular file under /dev (a tmpfs) is replaced like any file, not appended to.
  const fs::path shm = fs::path("/dev/shm") / ("celtrace-" + std::to_string(::getpid()) + ".jsonl");
  if (fs::is_directory("/dev/shm")) {
    std::vector<std::string> tmpfs = {"--job", (*dir_ / "settings-job5").string(), "--out",
                                      shm.string()};
    tmpfs.insert(tmpfs.end(), stills.begin(), stills.end());
    EXPECT_LE(run(tmpfs, *dir_ / "settings.log"), 1) << Slurp(*dir_ / "settings.log");
    EXPECT_LE(run(tmpfs, *dir_ / "settings.log"), 1) << Slurp(*dir_ / "settings.log");
    EXPECT_EQ(Slurp(shm), records);
    fs::remove(shm);
  }

  // An --out that cannot be written at the end fails before any analysis.
  std::vector<std::string> nowhere = {"--job", (*dir_ / "settings-job3").string(), "--out",
                                      (*dir_ / "no-such-folder" / "x.jsonl").string()};
  nowhere.insert(nowhere.end(), stills.begin(), stills.end());
  EXPECT_EQ(run(nowhere, *dir_ / "settings.log"), 2);
  EXPECT_EQ(Slurp(*dir_ / "settings-job3" / "records.jsonl"), "");

  // Outputs that are no regular file fail before any analysis too: a folder, and a FIFO no
  // process reads (opening it at the end would wait for a reader, deaf to Ctrl-C).
  ASSERT_EQ(::mkfifo((*dir_ / "settings-fifo").c_str(), 0600), 0);
  for (const fs::path& output : {*dir_ / "settings-fifo", dir_->path()}) {
    std::vector<std::string> special = {"--job", (*dir_ / "settings-job4").string(), "--out",
                                        output.string()};
    special.insert(special.end(), stills.begin(), stills.end());
    EXPECT_EQ(run(special, *dir_ / "settings.log"), 2) << output;
    EXPECT_EQ(Slurp(*dir_ / "settings-job4" / "records.jsonl"), "") << output;
  }
  EXPECT_NE(Slurp(*dir_ / "settings.log").find("is a folder"), std::string::npos)
      << Slurp(*dir_ / "settings.log");

  // The report is probed with the others, before any is opened: a report that cannot be
  // written failed after the analysis, once --out and --csv had been emptied; and it goes
  // through a symbolic link as they do (the link had been replaced by the page).
  std::ofstream(*dir_ / "keep.jsonl") << "precious\n";
  std::ofstream(*dir_ / "keep.csv") << "precious\n";
  for (const fs::path& report : {dir_->path(), *dir_ / "no-such-folder" / "r.html"}) {
    std::vector<std::string> unwritable = {"--out",    (*dir_ / "keep.jsonl").string(),
                                           "--csv",    (*dir_ / "keep.csv").string(),
                                           "--report", report.string()};
    unwritable.insert(unwritable.end(), stills.begin(), stills.end());
    EXPECT_EQ(run(unwritable, *dir_ / "settings.log"), 2) << report;
    EXPECT_EQ(Slurp(*dir_ / "keep.jsonl"), "precious\n") << report;
    EXPECT_EQ(Slurp(*dir_ / "keep.csv"), "precious\n") << report;
  }
  fs::create_symlink(*dir_ / "report-target.html", *dir_ / "report-link.html");
  std::vector<std::string> report_link = {"--report", (*dir_ / "report-link.html").string(),
                                          "--out", (*dir_ / "report-run.jsonl").string()};
  report_link.insert(report_link.end(), stills.begin(), stills.end());
  EXPECT_LE(run(report_link, *dir_ / "settings.log"), 1) << Slurp(*dir_ / "settings.log");
  EXPECT_TRUE(fs::is_symlink(*dir_ / "report-link.html"));
  EXPECT_TRUE(Slurp(*dir_ / "report-target.html").starts_with("<!DOCTYPE html>"));

  // A report into a FIFO a reader waits on: probing it early must not end the reader (it
  // opened and closed the FIFO, `cat` took that for the end, and the run then waited for a
  // reader forever, deaf to SIGTERM).
  const fs::path fifo = *dir_ / "report.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const pid_t reader = testing::StartProgram({"/bin/cat"}, *dir_ / "report-from-fifo.html", fifo);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // cat waits in open()
  std::vector<std::string> piped = {"--report", fifo.string(), "--out",
                                    (*dir_ / "report-fifo.jsonl").string()};
  piped.insert(piped.end(), stills.begin(), stills.end());
  EXPECT_LE(run(piped, *dir_ / "settings.log"), 1) << Slurp(*dir_ / "settings.log");
  EXPECT_EQ(testing::WaitProgram(reader), 0);
  EXPECT_TRUE(Slurp(*dir_ / "report-from-fifo.html").starts_with("<!DOCTYPE html>"));

  // A job folder that cannot be made (a file stands where its parent should): a usage error.
  std::ofstream(*dir_ / "a-file") << "x";
  std::vector<std::string> no_folder = {"--job", (*dir_ / "a-file" / "job").string()};
  no_folder.insert(no_folder.end(), stills.begin(), stills.end());
  EXPECT_EQ(run(no_folder, *dir_ / "settings.log"), 2) << Slurp(*dir_ / "settings.log");

  // Without a job a failed write stops the run, with the system's reason (not "Success").
  if (fs::exists("/dev/full")) {
    std::vector<std::string> full = {"--out", "/dev/full"};
    full.insert(full.end(), stills.begin(), stills.end());
    EXPECT_EQ(run(full, *dir_ / "settings.log"), 4);
    EXPECT_NE(Slurp(*dir_ / "settings.log").find("cannot write /dev/full: No space left on device"),
              std::string::npos)
        << Slurp(*dir_ / "settings.log");
  }
}

// A clip's declared duration set the sampling stride: one edited field (a Matroska Duration
// of 1e10 s) made it so long that only the first frame was hashed, and the clip went
// unattributed. The stride is now held to what the file's bytes can carry.
TEST_F(MatchEndToEnd, AClipsDeclaredDurationCannotHideIt) {
  const auto clip = std::find_if(expected_->begin(), expected_->end(), [](const auto& item) {
    return item.kind == "clip" && item.expected == "match" && item.path.ends_with(".mkv") &&
           item.path.find('!') == std::string::npos;
  });
  ASSERT_NE(clip, expected_->end());
  std::string bytes = Slurp(Leak() / clip->path);
  const size_t duration = bytes.find("\x44\x89");  // Segment Info's Duration element
  ASSERT_NE(duration, std::string::npos);
  const auto size = static_cast<unsigned char>(bytes[duration + 2]);
  ASSERT_TRUE(size == 0x88 || size == 0x84) << int(size);
  if (size == 0x88) {
    const double value = 1e10 * 1000;  // 1e10 s in the default 1 ms timecode scale
    std::uint64_t raw;
    std::memcpy(&raw, &value, 8);
    for (int k = 0; k < 8; ++k) bytes[duration + 3 + k] = static_cast<char>(raw >> (56 - 8 * k));
  } else {
    const float value = 1e10f * 1000;
    std::uint32_t raw;
    std::memcpy(&raw, &value, 4);
    for (int k = 0; k < 4; ++k) bytes[duration + 3 + k] = static_cast<char>(raw >> (24 - 8 * k));
  }
  const fs::path edited = *dir_ / "long-declared.mkv";
  std::ofstream(edited, std::ios::binary) << bytes;
  std::vector<std::string> args = {CELTRACE_MATCH_BIN,
                                   "--index",
                                   Index().string(),
                                   "--no-progress",
                                   (Leak() / clip->path).string(),
                                   edited.string()};
  for (const std::string& arg : testing::InstrumentedClipDeadline()) args.push_back(arg);
  ASSERT_EQ(RunProgram(args, *dir_ / "long-declared.jsonl"), 0);
  const auto records = Records(*dir_ / "long-declared.jsonl");
  ASSERT_EQ(records.size(), 2u);
  const auto& original = records.at((Leak() / clip->path).string());
  const auto& long_declared = records.at(edited.string());
  ASSERT_EQ(original["status"], "match") << original.dump();
  ASSERT_EQ(long_declared["status"], "match") << long_declared.dump();
  EXPECT_EQ(long_declared["matches"][0]["episode"], original["matches"][0]["episode"]);
  EXPECT_EQ(long_declared["matches"][0]["title"], original["matches"][0]["title"]);

  // Frames larger than the bytes-per-frame bound assumes (a lossless rip) leave the stride
  // too long still: here, with a budget of 10 frames, the bound allows thousands of frames
  // and the stride skips all but the first. Ending with far fewer frames hashed than it
  // decoded, the clip is decoded again at the stride its real length asks for.
  const ReferenceIndex index(Index());
  MatchOptions options;
  options.max_clip_frames = 10;
  const auto bytes_of =
      std::make_shared<const std::vector<std::uint8_t>>(bytes.begin(), bytes.end());
  auto open_clip = [&](VideoReaderOptions decode) {
    decode.luma_only = true;
    decode.square_side = index.info().parameters.hash_side;
    return std::make_unique<VideoReader>(bytes_of, edited.string(), decode);
  };
  const ReopenClip reopen = [&](const VideoReaderOptions& decode) { return open_clip(decode); };
  const auto far = std::chrono::steady_clock::now() + std::chrono::hours(1);
  ResultRecord again, once;
  again.size = once.size = bytes.size();
  MatchClip(*open_clip({}), index, options, far, &again, reopen);
  EXPECT_EQ(again.status, "match");
  ASSERT_FALSE(again.matches.empty());
  EXPECT_EQ(again.matches[0].episode, original["matches"][0]["episode"].get<int>());
  MatchClip(*open_clip({}), index, options, far, &once);  // no second pass without reopen
  EXPECT_NE(once.status, "match");
}

TEST_F(MatchEndToEnd, PathsFromStdinAndExitCodes) {
  // `-` reads newline-separated paths, `-0` NUL-separated ones.
  std::string newline_list, nul_list;
  for (const auto& item : *expected_) {
    if (item.kind != "still" || item.path.find('!') != std::string::npos) continue;
    newline_list += (Leak() / item.path).string() + "\n";
    nul_list += (Leak() / item.path).string() + '\0';
  }
  std::ofstream(*dir_ / "list.txt", std::ios::binary) << newline_list;
  std::ofstream(*dir_ / "list0.txt", std::ios::binary) << nul_list;
  EXPECT_EQ(RunProgram({CELTRACE_MATCH_BIN, "--index", Index().string(), "-", "--no-progress"},
                       *dir_ / "stdin.jsonl", *dir_ / "list.txt"),
            0);
  EXPECT_EQ(RunProgram({CELTRACE_MATCH_BIN, "--index", Index().string(), "-0", "--no-progress"},
                       *dir_ / "stdin0.jsonl", *dir_ / "list0.txt"),
            0);
  EXPECT_EQ(Slurp(*dir_ / "stdin.jsonl"), Slurp(*dir_ / "stdin0.jsonl"));
  EXPECT_GT(Records(*dir_ / "stdin.jsonl").size(), 10u);
  EXPECT_EQ(
      RunProgram({CELTRACE_MATCH_BIN, "--index", (*dir_ / "nowhere").string(), Leak().string()},
                 *dir_ / "x.jsonl"),
      3);
  EXPECT_EQ(RunProgram({CELTRACE_MATCH_BIN, "--index", Index().string()}, *dir_ / "x.jsonl"), 2);
  EXPECT_EQ(RunProgram({CELTRACE_MATCH_BIN, "--bogus-flag"}, *dir_ / "x.jsonl"), 2);
  for (const char* bar : {"--min-nesting", "--min-chroma", "--min-spread"}) {  // out of range
    EXPECT_EQ(
        RunProgram({CELTRACE_MATCH_BIN, "--index", Index().string(), bar, "1.5", Leak().string()},
                   *dir_ / "x.jsonl"),
        2)
        << bar;
  }
  // Values no run can mean are usage errors, not a run that quietly does something else: NaN
  // compares false with every bar (CLI::Range let it through), --max-seconds 1e30 overflowed
  // the deadline into the past (every file a timeout), 0 and negatives timed out every file,
  // --max-pixels -1 killed every sandbox worker at start, --query-side 0 fed ORB full-size
  // stills, --max-compression-ratio 0 disarmed the bomb check.
  for (const auto& [option, value] :
       std::vector<std::pair<std::string, std::string>>{{"--max-seconds", "nan"},
                                                        {"--max-seconds", "0"},
                                                        {"--max-seconds", "-5"},
                                                        {"--max-seconds", "1e30"},
                                                        {"--min-correlation", "nan"},
                                                        {"--min-search-strokes", "nan"},
                                                        {"--strong-max-realignment", "nan"},
                                                        {"--close-correlation", "-2"},
                                                        {"--min-inliers", "-5"},
                                                        {"--clip-gap-seconds", "nan"},
                                                        {"--retry-scale", "nan"},
                                                        {"--max-compression-ratio", "0"},
                                                        {"--max-compression-ratio", "nan"},
                                                        {"--max-pixels", "-1"},
                                                        {"--query-side", "0"},
                                                        {"--threads", "-3"},
                                                        {"--threshold", "300"},
                                                        {"--max-matches", "0"}}) {
    EXPECT_EQ(RunProgram(
                  {CELTRACE_MATCH_BIN, "--index", Index().string(), option, value, Leak().string()},
                  *dir_ / "x.jsonl"),
              2)
        << option << " " << value;
  }
  // The largest limit is a limit still: a still is analysed as usual under it.
  const auto still = std::find_if(expected_->begin(), expected_->end(), [](const auto& item) {
    return item.kind == "still" && item.expected == "match" &&
           item.path.find('!') == std::string::npos;
  });
  ASSERT_NE(still, expected_->end());
  EXPECT_EQ(RunProgram({CELTRACE_MATCH_BIN, "--index", Index().string(), "--no-progress",
                        "--max-seconds", "1000000", (Leak() / still->path).string()},
                       *dir_ / "x.jsonl"),
            0);
  const auto records = Records(*dir_ / "x.jsonl");
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records.begin()->second["status"], "match") << records.begin()->second.dump();
}

}  // namespace
}  // namespace celtrace
