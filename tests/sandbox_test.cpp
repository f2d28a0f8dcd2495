// The decode sandbox's supervision with a misbehaving test double of the worker
// (fake_worker.cpp): crashes, hangs, memory and file-write limits, restarts, descriptor
// passing; and the real worker refusing to start without an index.
#include "sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "celtrace/checksum.h"
#include "celtrace/error.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

MatchOptions FakeOptions() {
  MatchOptions options;
  options.worker_command = {CELTRACE_FAKE_WORKER_BIN};
  options.max_seconds_per_file = 1;
  options.worker_grace_seconds = 1;
  options.worker_memory_bytes = 1ull << 30;
  return options;
}

ItemContent Bytes(const std::string& text) {
  ItemContent content;
  content.bytes = std::make_shared<const std::vector<std::uint8_t>>(text.begin(), text.end());
  content.sha256 = Sha256(*content.bytes);
  content.size = text.size();
  return content;
}

ResultRecord Analyse(SandboxPool& pool, const std::string& label, const ItemContent& content,
                     std::vector<std::uint8_t>* thumbnail = nullptr) {
  InputItem item;
  item.label = label;
  item.kind = InputKind::kArchiveMember;
  ResultRecord record;
  record.path = label;
  record.size = content.size;
  pool.Analyse(item, content, &record, thumbnail);
  return record;
}

TEST(Sandbox, AnswersComeBackWithTheRawLabelAndTheThumbnail) {
  SandboxPool pool(FakeOptions(), 0, 1);
  const ItemContent content = Bytes("some bytes");
  std::vector<std::uint8_t> thumbnail;
  // A label that is not UTF-8 travels as bytes and comes back unchanged (not escaped).
  const std::string label = "odd\xff\nname";
  const ResultRecord record = Analyse(pool, label, content, &thumbnail);
  EXPECT_EQ(record.path, label);
  EXPECT_EQ(record.status, "no_match");
  EXPECT_EQ(record.error, "bytes");
  EXPECT_EQ(record.sha256, content.sha256) << "the worker hashed what it received";
  EXPECT_EQ(record.size, content.size);
  EXPECT_EQ(thumbnail, (std::vector<std::uint8_t>{0xff, 0xd8, 0xff}));
  EXPECT_EQ(pool.workers_started(), 1);
}

TEST(Sandbox, FilesOnDiskArePassedAsDescriptors) {
  testing::TempDir dir;
  const fs::path path = dir / "big.bin";
  std::ofstream(path, std::ios::binary) << std::string(100000, 'v');
  SandboxPool pool(FakeOptions(), 0, 1);
  ItemContent content;
  content.file = std::make_shared<const OwnedFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  content.sha256 = Sha256File(path);
  content.size = 100000;
  const ResultRecord record = Analyse(pool, "big.bin", content);
  EXPECT_EQ(record.error, "fd");
  EXPECT_EQ(record.sha256, content.sha256);
}

TEST(Sandbox, ACrashIsOneErrorRecordAndTheWorkerIsRestarted) {
  SandboxPool pool(FakeOptions(), 0, 1);
  const ItemContent content = Bytes("x");
  const ResultRecord crashed = Analyse(pool, "crash.png", content);
  EXPECT_EQ(crashed.status, "error");
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The sanitizer's own SIGSEGV handler reports and exits (status 1 for ASan, 66 for TSan).
  EXPECT_TRUE(crashed.error.starts_with("crash: decode worker exited with status"))
      << crashed.error;
#else
  EXPECT_EQ(crashed.error, "crash: decode worker killed by signal 11 (SIGSEGV)");
#endif
  EXPECT_EQ(crashed.sha256, content.sha256);
  EXPECT_EQ(crashed.path, "crash.png");
  EXPECT_TRUE(crashed.matches.empty());
  const ResultRecord next = Analyse(pool, "fine.png", content);
  EXPECT_EQ(next.status, "no_match");
  EXPECT_EQ(pool.workers_started(), 2);
}

TEST(Sandbox, AWorkerKilledWhileIdleIsReplacedBeforeTheNextInput) {
  SandboxPool pool(FakeOptions(), 0, 1);
  const ResultRecord first = Analyse(pool, "session", Bytes("x"));
  // The worker leads its own session: its id is its pid.
  const pid_t worker = static_cast<pid_t>(std::stol(first.error));
  ASSERT_EQ(::kill(worker, SIGKILL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(Analyse(pool, "fine.png", Bytes("y")).status, "no_match");
  EXPECT_EQ(pool.workers_started(), 2);
}

TEST(Sandbox, AHungWorkerIsKilledAtTheDeadline) {
  SandboxPool pool(FakeOptions(), 0, 1);
  const auto start = std::chrono::steady_clock::now();
  const ResultRecord hung = Analyse(pool, "hang.mp4", Bytes("x"));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(hung.status, "error");
  EXPECT_TRUE(hung.error.starts_with("timeout: decode worker killed after 2 s")) << hung.error;
  EXPECT_GE(seconds, 1.9);
  EXPECT_LT(seconds, 10);
  EXPECT_EQ(Analyse(pool, "fine.png", Bytes("y")).status, "no_match");
}

TEST(Sandbox, CrashesInParallelWorkersCostOnlyTheirOwnInputs) {
  SandboxPool pool(FakeOptions(), 0, 2);
  std::vector<std::string> labels;
  for (int i = 0; i < 12; ++i)
    labels.push_back((i % 3 == 0 ? "crash-" : "ok-") + std::to_string(i));
  std::vector<ResultRecord> records(labels.size());
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = static_cast<size_t>(t); i < labels.size(); i += 3) {
        records[i] = Analyse(pool, labels[i], Bytes(labels[i]));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (size_t i = 0; i < labels.size(); ++i) {
    EXPECT_EQ(records[i].path, labels[i]);
    EXPECT_EQ(records[i].status, i % 3 == 0 ? "error" : "no_match") << labels[i];
    if (i % 3 != 0) {
      EXPECT_EQ(records[i].sha256, Sha256(*Bytes(labels[i]).bytes));
    }
  }
}

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
TEST(Sandbox, WorkersCannotAllocatePastTheAddressSpaceLimit) {
  SandboxPool pool(FakeOptions(), 0, 1);
  const ResultRecord record = Analyse(pool, "alloc", Bytes("x"));
  EXPECT_EQ(record.error, "too_large: allocation refused");
}
#endif

#if !defined(__SANITIZE_THREAD__)
TEST(Sandbox, WorkersCannotWriteFiles) {
  testing::TempDir dir;
  const fs::path target = dir / "written.txt";
  SandboxPool pool(FakeOptions(), 0, 1);
  const ResultRecord record = Analyse(pool, "write:" + target.string(), Bytes("x"));
  // RLIMIT_FSIZE 0: the first byte written to a file kills the worker with SIGXFSZ.
  EXPECT_EQ(record.error, "crash: decode worker killed by signal 25 (SIGXFSZ)");
  EXPECT_TRUE(!fs::exists(target) || fs::file_size(target) == 0);
}
#endif

TEST(Sandbox, WorkersRunInTheirOwnSessionSoCtrlCReachesOnlyTheJob) {
  // Ctrl-C signals the terminal's foreground process group; workers in it would die and
  // their inputs be journaled as crashes instead of finishing.
  SandboxPool pool(FakeOptions(), 0, 1);
  const ResultRecord record = Analyse(pool, "session", Bytes("x"));
  ASSERT_FALSE(record.error.empty());
  EXPECT_NE(std::stol(record.error), static_cast<long>(::getsid(0)));
}

TEST(Sandbox, TheCpuLimitKillsASpinningWorker) {
  const pid_t pid = fork();
  if (pid == 0) {
    LimitWorkerItem(1, 60);
    volatile std::uint64_t spin = 0;
    while (true) spin = spin + 1;
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGXCPU);
}

TEST(Sandbox, AWorkerThatCannotStartFailsTheJobNotTheInputs) {
  MatchOptions options = FakeOptions();
  options.worker_command = {"/nonexistent/celtrace-worker"};
  EXPECT_THROW(SandboxPool(options, 0, 1), Error);
  // The real worker without a usable index says why.
  testing::TempDir dir;
  options.worker_command = {CELTRACE_MATCH_BIN, "--worker", "--index", (dir / "none").string()};
  options.index_dir = dir / "none";
  try {
    SandboxPool pool(options, 0, 1);
    ADD_FAILURE() << "a worker without an index started";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("index"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace celtrace
