// Helpers shared by the test files: paths to checked-in data, a scratch directory, and a
// small CSV reader for the reference-vector files.
#pragma once

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "celtrace/csv.h"

namespace celtrace::testing {

inline std::filesystem::path DataPath(const std::string& relative) {
  return std::filesystem::path(CELTRACE_TEST_DATA) / relative;
}

// Returns the whole file's bytes (empty if it cannot be read).
inline std::string Slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// celtrace-match arguments for tests whose inputs include clips: instrumented builds analyse
// a clip several times slower, and under ASan or TSan on a loaded machine clips ran past the
// default 120 s per input (a timeout record fails a test that expects a match, or one that
// compares the records of two runs). The deadline is not what those tests check.
inline std::vector<std::string> InstrumentedClipDeadline() {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  return {"--max-seconds", "1200"};
#else
  return {};
#endif
}

// A directory under the system temp folder, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device seed;
    path_ = std::filesystem::temp_directory_path() /
            ("celtrace-test-" + std::to_string(seed()) + "-" + std::to_string(seed()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The shared set-up of a test suite, done so that its failure fails the suite's tests.
// GoogleTest marks every test of a suite whose SetUpTestSuite failed as skipped, and ctest
// then counts it as skipped, so a broken fixture would look like a green run. A fixture runs
// its set-up through Run (which keeps what an exception said) and checks ok() in SetUp; the
// set-up itself reports failures with Require, never with gtest assertions.
class SharedSetUp {
 public:
  template <class Body>
  void Run(Body&& body) {
    try {
      body();
      error_.clear();
    } catch (const std::exception& e) {
      error_ = std::string("the suite's shared set-up failed: ") + e.what();
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  std::string error_ = "the suite's shared set-up did not run";
};

// Throws when a step of a shared set-up failed; `what` says which step and why.
inline void Require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error(what);
}

// A small tmpfs mounted for the scope (needs CAP_SYS_ADMIN: root outside a restricted
// container); ok() is false where mounting is not allowed.
class SmallDisk {
 public:
  SmallDisk(const std::filesystem::path& where, std::uint64_t bytes) : where_(where) {
    std::filesystem::create_directories(where);
    const std::string options = "size=" + std::to_string(bytes);
    ok_ = ::mount("tmpfs", where.c_str(), "tmpfs", 0, options.c_str()) == 0;
  }
  ~SmallDisk() {
    if (ok_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;
  bool ok() const { return ok_; }

  // Writes the file `filler` until at most `bytes` (and at least bytes - 4 KiB) stay free;
  // false if less than that was free to begin with. RemoveFiller() gives the room back.
  bool FillLeaving(std::uint64_t bytes) {
    struct statvfs space {};
    if (::statvfs(where_.c_str(), &space) != 0) return false;
    const std::uint64_t free_bytes = static_cast<std::uint64_t>(space.f_bavail) * space.f_frsize;
    if (free_bytes <= bytes) return false;
    std::ofstream filler(where_ / "filler", std::ios::binary);
    const std::string block(4096, 'f');
    for (std::uint64_t written = 0; written + block.size() + bytes < free_bytes;
         written += block.size()) {
      filler.write(block.data(), static_cast<std::streamsize>(block.size()));
    }
    return static_cast<bool>(filler.flush());
  }
  void RemoveFiller() { std::filesystem::remove(where_ / "filler"); }

 private:
  std::filesystem::path where_;
  bool ok_ = false;
};

// Reads a CSV file with a header row into one map per row (column name -> field), with
// celtrace's own RFC 4180 reader.
inline std::vector<std::map<std::string, std::string>> ReadCsv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto rows = ParseCsv(text);
  std::vector<std::map<std::string, std::string>> records;
  for (size_t r = 1; r < rows.size(); ++r) {
    std::map<std::string, std::string> record;
    for (size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) {
      record[rows[0][c]] = rows[r][c];
    }
    records.push_back(std::move(record));
  }
  return records;
}

// Starts a program (args[0] is its path) with stdin from `input_file`, stdout to
// `output_file` and stderr to `error_file` (discarded by default); returns its pid.
inline pid_t StartProgram(const std::vector<std::string>& args,
                          const std::filesystem::path& output_file = "/dev/null",
                          const std::filesystem::path& input_file = "/dev/null",
                          const std::filesystem::path& error_file = "/dev/null") {
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = open(input_file.c_str(), O_RDONLY);
    const int out = open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int err = open(error_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    std::vector<char*> argv;
    for (const auto& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

// Waits for a program; returns its exit code, or 128 + the signal that ended it.
inline int WaitProgram(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

#ifdef CELTRACE_INDEX_BIN
// A shared set-up step: indexes the catalogue `catalog_csv` into `index` with
// `celtrace-index build` (its output in `log`); throws, with that output, when it fails.
inline void RequireIndexBuilt(const std::filesystem::path& catalog_csv,
                              const std::filesystem::path& index,
                              const std::filesystem::path& log) {
  const int code = WaitProgram(StartProgram({CELTRACE_INDEX_BIN, "build", catalog_csv.string(),
                                             "--index", index.string(), "--no-progress"},
                                            log));
  std::ifstream in(log, std::ios::binary);
  const std::string output((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Require(code == 0, "celtrace-index build failed (exit " + std::to_string(code) + "): " + output);
}
#endif

}  // namespace celtrace::testing
