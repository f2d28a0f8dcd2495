#include "match_job.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <tbb/global_control.h>
#include <tbb/parallel_pipeline.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "attribution.h"
#include "celtrace/error.h"
#include "celtrace/file_lock.h"
#include "celtrace/progress.h"
#include "celtrace/read_at.h"
#include "html_report.h"
#include "input_walker.h"
#include "owned_fd.h"
#include "reference_index.h"
#include "result_record.h"
#include "sandbox.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;

constexpr const char* kJobInputs = "inputs.json";
constexpr const char* kJobJournal = "records.jsonl";
// Leaked-image thumbnails of a job, thumbs/SHA256.jpg, so that the report of a resumed job
// shows the inputs analysed by earlier runs too.
constexpr const char* kJobThumbnails = "thumbs";

// "cannot write PATH: REASON", REASON from errno (e.g. "No space left on device"), read
// right after the failing write.
Error WriteError(const fs::path& path) {
  const int error = errno;
  return Error("cannot write " + path.string() + ": " +
               (error != 0 ? std::strerror(error) : "the write failed"));
}

// The journal of a resumable job: one "SEQ<TAB>JSON" line per finished input. Only where
// each record lies is kept in memory (a job of millions of inputs held every line, and built
// its outputs as whole strings: about 2.3 bytes of memory per journal byte); records are
// read back from the file when needed.
class Journal {
 public:
  // Indexes the complete lines of `path`, passing each record to `visit` in file order, cuts
  // off a line torn by a crash, and opens the file for reading and appending.
  template <typename Visit>
  void Load(const fs::path& path, Visit visit) {
    path_ = path;
    std::uint64_t good = 0;
    if (std::ifstream in{path, std::ios::binary}) {
      std::string line;
      while (std::getline(in, line)) {
        if (in.eof()) break;  // no newline: torn by a crash
        const size_t tab = line.find('\t');
        try {
          if (tab == std::string::npos) throw Error("no tab");
          const std::int64_t seq = std::stoll(line.substr(0, tab));
          const std::string_view json = std::string_view(line).substr(tab + 1);
          visit(seq, FromJsonLine(json));  // validates
          spans_[seq] = {good + tab + 1, json.size()};
        } catch (const std::exception&) {
          break;  // a damaged line: everything from here is redone
        }
        good += line.size() + 1;
      }
    }
    std::error_code error;
    if (fs::exists(path, error) && fs::file_size(path, error) > good) fs::resize_file(path, good);
    end_ = good;
    out_.open(path, std::ios::binary | std::ios::app);
    in_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (!out_ || in_ < 0) throw Error("cannot write the job journal " + path.string());
  }
  ~Journal() {
    if (in_ >= 0) ::close(in_);
  }

  bool Has(std::int64_t seq) const { return spans_.contains(seq); }
  // The record of `seq` as journaled (JSON). Throws celtrace::Error if it cannot be read.
  std::string Line(std::int64_t seq) const {
    const auto [offset, size] = spans_.at(seq);
    std::string line(size, '\0');
    if (ReadAt(in_, line.data(), size, offset) != static_cast<std::int64_t>(size)) {
      throw Error("cannot read the job journal " + path_.string());
    }
    return line;
  }
  // Appends `seq`'s record; on a failed write (a full disk) what the journal holds stays
  // valid (a torn last line is cut off on resume). Not for a seq already journaled.
  void Append(std::int64_t seq, const std::string& json) {
    const std::string head = std::to_string(seq) + '\t';
    out_ << head << json << '\n';
    if (!out_.flush()) throw WriteError(path_);
    added_.emplace_back(seq, Span{end_ + head.size(), json.size()});
    end_ += head.size() + json.size() + 1;
  }
  // Makes the lines appended since the last call visible to Has and Line; the pipeline's
  // parallel stage reads spans_ while the last stage appends, so they join it afterwards.
  void Publish() {
    for (const auto& [seq, span] : added_) spans_[seq] = span;
    added_.clear();
  }
  // The journaled seqs in input order, up to `end` (excluded).
  template <typename Visit>
  void ForEach(std::int64_t end, Visit visit) const {
    for (const auto& [seq, span] : spans_) {
      if (seq >= end) break;
      visit(seq);
    }
  }

 private:
  struct Span {
    std::uint64_t offset = 0;  // of the JSON in the file
    std::uint64_t size = 0;
  };
  fs::path path_;
  std::map<std::int64_t, Span> spans_;
  std::vector<std::pair<std::int64_t, Span>> added_;
  std::uint64_t end_ = 0;  // bytes of complete lines in the file
  std::ofstream out_;
  int in_ = -1;
};

// Writes what `write` puts out to `path` through a temporary file and a rename; on failure
// the temporary file is removed and `path` is left as it was.
template <typename Write>
void WriteAtomically(const fs::path& path, Write write) {
  const fs::path temp = path.string() + ".tmp";
  bool written = false;
  try {
    std::ofstream out(temp, std::ios::binary);
    write(out);
    written = static_cast<bool>(out.flush());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw;
  }
  if (!written) {
    const Error error = WriteError(temp);
    std::error_code ignored;
    fs::remove(temp, ignored);
    throw error;
  }
  fs::rename(temp, path);
}

// Where a user's output file is replaced: the file itself, or, through a symbolic link, the
// file it names (the link is kept). Written through instead (`in_place`): what is not a
// regular file (a FIFO, a device), and anything reached through /proc (/dev/stdout is a link
// to /proc/self/fd/1, the descriptor, whatever it is: a pipe, or a file opened to append to).
// A regular file elsewhere under /dev (/dev/shm) is a file like any other.
struct OutputTarget {
  fs::path path;
  bool in_place = false;
};

OutputTarget ResolveOutput(const fs::path& path) {
  const auto special = [](const fs::path& p) {
    return p.lexically_normal().string().starts_with("/proc/");
  };
  // The link's target, followed hop by hop (it may not exist yet), as deep as the kernel
  // follows links; a loop is an error.
  fs::path target = path;
  std::error_code error;
  int depth = 0;
  for (; fs::is_symlink(fs::symlink_status(target, error)); ++depth) {
    if (depth == 40)
      throw UsageError("cannot write " + path.string() + ": too many levels of symbolic links");
    if (special(target)) return {path, true};
    const fs::path next = fs::read_symlink(target, error);
    if (error) throw UsageError("cannot write " + path.string() + ": " + error.message());
    target = next.is_absolute() ? next : target.parent_path() / next;
  }
  if (special(target)) return {path, true};
  const fs::file_status status = fs::status(target, error);
  if (!error && fs::is_directory(status)) {
    throw UsageError("cannot write " + path.string() + ": it is a folder");
  }
  return {target, !error && fs::exists(status) && !fs::is_regular_file(status)};
}

// Fails now, not after hours of analysis, when a user's output cannot be written at the
// end: a missing folder, a folder, a link loop, a FIFO nobody reads (opening it at the end
// would wait for a reader, deaf to Ctrl-C). Returns, for what is written in place (a FIFO,
// /dev/stdout), the descriptor it opened, to be held until the output is written: closing
// it would end a reader such as `cat FIFO`, and the final open would then wait forever.
OwnedFd ProbeOutput(const fs::path& path) {
  const OutputTarget target = ResolveOutput(path);
  if (target.in_place) {
    OwnedFd fd(::open(target.path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
      const int error = errno;
      throw UsageError("cannot write " + path.string() + ": " +
                       (error == ENXIO ? std::string("no process reads the pipe (start it first)")
                                       : std::strerror(error)));
    }
    return fd;
  }
  // A name of its own: another run writing the same output has its ".tmp" open.
  const fs::path probe = target.path.string() + ".probe-" + std::to_string(::getpid());
  if (!std::ofstream(probe, std::ios::binary | std::ios::trunc)) {
    throw UsageError(WriteError(path).what());
  }
  fs::remove(probe);
  return OwnedFd();
}

// Writes a user's output file (--out, --csv at the end of a job, --report) as ResolveOutput
// says, with what `write` puts out.
template <typename Write>
void WriteOutput(const fs::path& path, Write write) {
  const OutputTarget target = ResolveOutput(path);
  if (!target.in_place) {
    WriteAtomically(target.path, write);
    return;
  }
  // Appending: /dev/stdout on a file the shell opened to append to must not be emptied.
  std::ofstream out(target.path, std::ios::binary | std::ios::app);
  write(out);
  if (!out.flush()) throw WriteError(path);
}

// Input paths are raw bytes (maybe not UTF-8), so the job file stores them as hex.
std::string ToHexText(const std::string& bytes) {
  std::string hex;
  for (unsigned char c : bytes) hex += fmt::format("{:02x}", c);
  return hex;
}

std::string FromHexText(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

// The first line where two settings texts (one "name=value" per line) differ, for messages.
std::string FirstDifference(const std::string& was, const std::string& now) {
  std::istringstream a(was), b(now);
  std::string line_a, line_b;
  while (true) {
    const bool more_a = static_cast<bool>(std::getline(a, line_a));
    const bool more_b = static_cast<bool>(std::getline(b, line_b));
    if (!more_a && !more_b) return {};
    if (!more_a) line_a.clear();
    if (!more_b) line_b.clear();
    if (line_a != line_b) return "was \"" + line_a + "\", now \"" + line_b + "\"";
  }
}

// The job's inputs: `roots` for a new job, saved with `settings`; the saved ones when
// resuming, which must have been started with the same inputs (if any are given) and the
// same settings (folders saved before settings were kept are resumed as they are).
std::vector<std::string> JobRoots(const fs::path& job_dir, std::vector<std::string> roots,
                                  const std::string& settings) {
  const fs::path saved = job_dir / kJobInputs;
  if (fs::exists(saved)) {
    std::ifstream in(saved);
    std::vector<std::string> previous;
    std::optional<std::string> previous_settings;
    try {
      const nlohmann::json saved_inputs = nlohmann::json::parse(in);
      for (const auto& hex : saved_inputs.at("inputs_hex")) {
        previous.push_back(FromHexText(hex.get<std::string>()));
      }
      if (saved_inputs.contains("settings")) {
        previous_settings = saved_inputs.at("settings").get<std::string>();
      }
    } catch (const std::exception& e) {
      throw UsageError("job folder " + job_dir.string() + " has an unreadable " + kJobInputs);
    }
    if (!roots.empty() && roots != previous) {
      throw UsageError("job folder " + job_dir.string() +
                       " was started with other inputs; use a new --job folder or the same inputs");
    }
    // Records made with other bars or another index would be mixed with this run's.
    if (previous_settings && *previous_settings != settings) {
      throw UsageError("job folder " + job_dir.string() +
                       " was started with other options or another index (" +
                       FirstDifference(*previous_settings, settings) +
                       "); use a new --job folder, or the options and index it was started with");
    }
    return previous;
  }
  if (roots.empty()) throw UsageError("no inputs given");
  nlohmann::json hex = nlohmann::json::array();
  for (const auto& root : roots) hex.push_back(ToHexText(root));
  const std::string text =
      nlohmann::json{{"inputs_hex", hex}, {"settings", settings}}.dump() + "\n";
  WriteAtomically(saved, [&](std::ostream& out) { out << text; });
  return roots;
}

bool IsSha256(const std::string& text) {
  return text.size() == 64 &&
         std::all_of(text.begin(), text.end(), [](char c) { return std::isxdigit(c) != 0; });
}

std::vector<std::uint8_t> ReadThumbnail(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Bytes under the index folder: what a sandbox worker may need to load (an upper bound).
std::uint64_t FolderBytes(const fs::path& folder) {
  std::uint64_t total = 0;
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(folder, error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (it->is_regular_file(error)) total += it->file_size(error);
  }
  return total;
}

std::int64_t CountFiles(const std::vector<std::string>& roots) {
  std::int64_t count = 0;
  for (const std::string& root : roots) {
    std::error_code error;
    const auto status = fs::symlink_status(root, error);
    if (fs::is_directory(status)) {
      for (auto it = fs::recursive_directory_iterator(
               root, fs::directory_options::skip_permission_denied, error);
           it != fs::recursive_directory_iterator(); it.increment(error)) {
        if (error) break;
        if (!it->is_directory(error) || it->is_symlink(error)) ++count;
      }
    } else {
      ++count;
    }
  }
  return count;
}

// Contents analysed once: later inputs with the same SHA-256 wait for and copy the first.
class ContentCache {
 public:
  // Returns the record of the first input with this digest, or nullopt after registering
  // the caller as the one to analyse it (it must call Publish).
  std::optional<std::pair<std::string, ResultRecord>> Claim(const std::string& sha256) {
    std::shared_future<std::pair<std::string, ResultRecord>> future;
    {
      std::lock_guard lock(mutex_);
      auto it = entries_.find(sha256);
      if (it == entries_.end()) {
        entries_.emplace(sha256, std::promise<std::pair<std::string, ResultRecord>>());
        return std::nullopt;
      }
      future = it->second.future;
    }
    return future.get();
  }
  void Publish(const std::string& sha256, const std::string& first_path,
               const ResultRecord& record) {
    std::lock_guard lock(mutex_);
    auto& entry = entries_[sha256];
    entry.promise.set_value({first_path, record});
  }
  void Seed(const std::string& sha256, const std::string& first_path, const ResultRecord& record) {
    std::lock_guard lock(mutex_);
    if (entries_.contains(sha256)) return;
    entries_[sha256].promise.set_value({first_path, record});
  }

 private:
  struct Slot {
    Slot() : future(promise.get_future().share()) {}
    explicit Slot(std::promise<std::pair<std::string, ResultRecord>>&& p)
        : promise(std::move(p)), future(promise.get_future().share()) {}
    std::promise<std::pair<std::string, ResultRecord>> promise;
    std::shared_future<std::pair<std::string, ResultRecord>> future;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Slot> entries_;
};

struct Work {
  std::int64_t seq = 0;
  InputItem item;
  std::string line;  // the record's JSON, filled by the analysis stage
  ResultRecord record;
  bool resumed = false;
  std::vector<std::uint8_t> thumbnail;  // JPEG for the report; empty when none was made
};

}  // namespace

MatchSummary RunMatchJob(std::vector<std::string> roots, const MatchOptions& options,
                         const OutputOptions& outputs, const std::atomic<bool>* cancel,
                         std::ostream& log) {
  const bool job = !outputs.job_dir.empty();
  const ReferenceIndex index(options.index_dir);
  // The job folder's lock, held while a run uses it: two runs on one folder (a scheduler's
  // requeue beside a run still going) would analyse everything twice into one journal.
  // Taken before the outputs are probed, so a refused run touches nothing of the other's.
  std::optional<FileLock> job_lock;
  if (job) {
    try {
      fs::create_directories(outputs.job_dir);
      job_lock = FileLock::TryAcquire(outputs.job_dir / "LOCK");
    } catch (const std::exception& e) {  // a file where the folder should be, no permission
      throw UsageError("cannot use the job folder " + outputs.job_dir.string() + ": " + e.what());
    }
    if (!job_lock) {
      throw UsageError(
          "job folder " + outputs.job_dir.string() +
          " is in use by another celtrace-match; wait for it or use another --job folder");
    }
    // What the records depend on besides the inputs: the options, and the index generation
    // (its name and creation time: a rebuilt index elsewhere is another).
    const std::string settings =
        outputs.settings + "index=" + index.info().name + " " + index.info().created + "\n";
    roots = JobRoots(outputs.job_dir, std::move(roots), settings);
  }
  if (roots.empty()) throw UsageError("no inputs given");
  // Every output is checked before anything is opened, truncated or analysed: a report
  // that cannot be written used to fail after hours of analysis, and after --out and --csv
  // had been emptied.
  std::vector<OwnedFd> held_open;
  for (const fs::path* output : {&outputs.out, &outputs.csv, &outputs.report}) {
    if (output->empty()) continue;
    if (OwnedFd fd = ProbeOutput(*output); fd.valid()) held_open.push_back(std::move(fd));
  }
  SetFaissThreads(1);  // searches run inside TBB tasks

  // Contents analysed in earlier runs of the job: not analysed again, and the first input
  // of each digest (in input order) stays the original for later duplicates.
  ContentCache cache;
  std::unordered_map<std::string, std::string> first_paths;  // digest -> first input, in order
  Journal journal;
  if (job) {
    journal.Load(outputs.job_dir / kJobJournal, [&](std::int64_t, const ResultRecord& record) {
      if (record.sha256.empty()) return;
      first_paths.emplace(record.sha256, record.path);
      if (record.duplicate_of.empty()) cache.Seed(record.sha256, record.path, record);
    });
  }
  // Thumbnails cost a resize and a small JPEG per input; a job makes them even without a
  // report, so that any later rerun of it can write one.
  const bool report = !outputs.report.empty();
  const bool thumbnails = report || job;
  if (job) fs::create_directories(outputs.job_dir / kJobThumbnails);
  std::vector<ResultRecord> report_records;  // without a job: the records, in input order
  std::map<std::string, std::vector<std::uint8_t>> leak_thumbnails;  // by content SHA-256

  // Without a job folder, records stream to the outputs in input order as they finish.
  std::ofstream out_file, csv_file;
  std::ostream* out = &std::cout;
  if (!job) {
    if (!outputs.out.empty()) {
      out_file.open(outputs.out,
                    std::ios::binary |
                        (ResolveOutput(outputs.out).in_place ? std::ios::app : std::ios::trunc));
      if (!out_file) throw UsageError(WriteError(outputs.out).what());
      out = &out_file;
    }
    if (!outputs.csv.empty()) {
      csv_file.open(outputs.csv,
                    std::ios::binary |
                        (ResolveOutput(outputs.csv).in_place ? std::ios::app : std::ios::trunc));
      if (!csv_file) throw UsageError(WriteError(outputs.csv).what());
      csv_file << CsvHeader();
    }
  }

  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
  // Decoding in worker processes (the default of celtrace-match): one per analysis thread.
  std::optional<SandboxPool> sandbox;
  if (!options.worker_command.empty()) {
    sandbox.emplace(options, FolderBytes(options.index_dir), threads);
  }
  MatchSummary summary;
  WalkOptions walk;
  walk.max_archive_depth = options.max_archive_depth;
  walk.max_member_bytes = options.max_member_bytes;
  walk.max_archive_bytes = options.max_archive_bytes;
  walk.max_archive_entries = options.max_archive_entries;
  walk.max_compression_ratio = options.max_compression_ratio;
  InputWalker walker(roots, walk);
  std::int64_t next_seq = 0;
  {
    // The share done counts the inputs named (files, and the files under folders), an
    // archive's records sharing its one by the bytes of it read: its count of files is not
    // known before it is read.
    const std::int64_t estimate = CountFiles(roots);
    Progress progress({.label = "match",
                       .item_name = "files",
                       .rate_name = "files",
                       .enabled = options.progress,
                       .show_total = false},
                      estimate, static_cast<double>(estimate), log);
    // The items in flight are owned here, and only pointers pass through the pipeline: when
    // an exception cancels it (a full disk), oneTBB 2021.8 does not destroy the items its
    // buffers still hold (LeakSanitizer found one Work per cancelled job).
    std::mutex in_flight_mutex;
    std::map<std::int64_t, std::unique_ptr<Work>> in_flight;
    // The parallel stage looks up earlier runs' lines in the journal, so nothing may be
    // added there while the pipeline runs (ThreadSanitizer caught the last stage doing so):
    // this run's lines join the journal's index once it ends (Journal::Publish).
    tbb::parallel_pipeline(
        static_cast<size_t>(threads) * 2,
        tbb::make_filter<void, Work*>(tbb::filter_mode::serial_in_order,
                                      [&](tbb::flow_control& control) -> Work* {
                                        if (cancel && cancel->load()) {
                                          summary.interrupted = true;
                                          control.stop();
                                          return nullptr;
                                        }
                                        auto item = walker.Next();
                                        if (!item) {
                                          progress.Advance(0, walker.LeftoverShare(), 0);
                                          control.stop();
                                          return nullptr;
                                        }
                                        auto owned = std::make_unique<Work>();
                                        Work* work = owned.get();
                                        work->seq = next_seq++;
                                        work->item = std::move(*item);
                                        std::lock_guard lock(in_flight_mutex);
                                        in_flight.emplace(work->seq, std::move(owned));
                                        return work;
                                      }) &
            tbb::make_filter<Work*, Work*>(
                tbb::filter_mode::parallel,
                [&](Work* work) {
                  if (journal.Has(work->seq)) {
                    work->line = journal.Line(work->seq);
                    work->record = FromJsonLine(work->line);
                    if (work->record.path != work->item.label) {
                      throw UsageError("the inputs changed since the job started (input " +
                                       std::to_string(work->seq) + " was " + work->record.path +
                                       "); use a new --job folder");
                    }
                    work->resumed = true;
                    return work;
                  }
                  ResultRecord& record = work->record;
                  ItemContent content;
                  if (ReadItem(work->item, options, &content, &record)) {
                    if (auto first = cache.Claim(content.sha256)) {
                      const std::string path = record.path;
                      record = first->second;
                      record.path = path;
                      record.duplicate_of = first->first;
                    } else {
                      if (sandbox) {
                        try {
                          sandbox->Analyse(work->item, content, &record,
                                           thumbnails ? &work->thumbnail : nullptr);
                        } catch (...) {
                          // No worker could be started: the job fails, but later copies of
                          // this content waiting in Claim() must not wait forever.
                          cache.Publish(content.sha256, record.path, record);
                          throw;
                        }
                      } else {
                        AnalyseContent(work->item, content, index, options, &record,
                                       thumbnails ? &work->thumbnail : nullptr);
                      }
                      // Stored before the record is journaled: a journaled record's
                      // thumbnail is always on disk.
                      if (job && !work->thumbnail.empty() && IsSha256(content.sha256)) {
                        try {
                          WriteAtomically(
                              outputs.job_dir / kJobThumbnails / (content.sha256 + ".jpg"),
                              [&](std::ostream& out) {
                                out.write(reinterpret_cast<const char*>(work->thumbnail.data()),
                                          static_cast<std::streamsize>(work->thumbnail.size()));
                              });
                        } catch (const std::exception&) {
                          // Only the report's picture is lost (a placeholder); the journal
                          // reports a full disk on its own.
                        }
                      }
                      ResultRecord shared = record;
                      cache.Publish(content.sha256, record.path, shared);
                    }
                  }
                  work->line = ToJsonLine(record);
                  return work;
                }) &
            tbb::make_filter<Work*, void>(tbb::filter_mode::serial_in_order, [&](Work* work) {
              // Which copy of a content is "first" must not depend on thread timing:
              // in input order, the first input with a digest is the original.
              if (!work->resumed && !work->record.sha256.empty()) {
                const auto [first, inserted] =
                    first_paths.emplace(work->record.sha256, work->record.path);
                const std::string duplicate_of = inserted ? "" : first->second;
                if (work->record.duplicate_of != duplicate_of) {
                  work->record.duplicate_of = duplicate_of;
                  work->line = ToJsonLine(work->record);
                }
              }
              const ResultRecord& record = work->record;
              if (job && !work->resumed) {
                // A full disk stops the job here, and resuming redoes the rest.
                journal.Append(work->seq, work->line);
              } else if (!job) {
                // A failed write (a full disk, /dev/full) stops the run at once: never a short
                // file that looks complete, nor hours of analysis into nothing.
                if (!(*out << work->line << '\n')) {
                  throw WriteError(outputs.out.empty() ? fs::path("stdout") : outputs.out);
                }
                if (csv_file.is_open()) {
                  WriteCsvRows(record, csv_file);
                  if (!csv_file) throw WriteError(outputs.csv);
                }
                if (report) {
                  report_records.push_back(record);
                  if (!work->thumbnail.empty()) {
                    leak_thumbnails[record.sha256] = std::move(work->thumbnail);
                  }
                }
              }
              ++summary.inputs;
              summary.resumed += work->resumed;
              summary.analysed +=
                  !work->resumed && record.duplicate_of.empty() && !record.sha256.empty();
              ++summary.statuses[record.status];
              if (record.status == "match" && !record.matches.empty()) {
                const MatchRecord& m = record.matches.front();
                ++summary.episodes[fmt::format("{} S{:02}E{:02}", m.title, m.season, m.episode)];
              }
              if (work->resumed) {
                progress.Resume(1, work->item.input_share);
              } else {
                progress.Advance(1, work->item.input_share, 1);
              }
              std::lock_guard lock(in_flight_mutex);
              in_flight.erase(work->seq);
            }));
    journal.Publish();
  }
  // Streamed outputs: a write that failed (a full disk) fails the run, never a short file
  // that looks complete.
  if (!out->flush()) throw WriteError(outputs.out.empty() ? fs::path("stdout") : outputs.out);
  if (csv_file.is_open() && !csv_file.flush()) throw WriteError(outputs.csv);
  if (job && !summary.interrupted) {
    // The final outputs, from the journal in input order: identical however many runs it
    // took. Streamed record by record from the file, never held whole.
    auto each_record = [&](auto visit) {
      journal.ForEach(next_seq, [&](std::int64_t seq) { visit(journal.Line(seq)); });
    };
    auto write_jsonl = [&](std::ostream& out) {
      each_record([&](const std::string& line) { out << line << '\n'; });
    };
    if (outputs.out.empty()) {
      write_jsonl(std::cout);
      if (!std::cout.flush()) throw WriteError("stdout");
    } else {
      WriteOutput(outputs.out, write_jsonl);
    }
    if (!outputs.csv.empty()) {
      WriteOutput(outputs.csv, [&](std::ostream& out) {
        out << CsvHeader();
        each_record([&](const std::string& line) { WriteCsvRows(FromJsonLine(line), out); });
      });
    }
    if (report) {
      each_record([&](const std::string& line) {
        ResultRecord record = FromJsonLine(line);
        const fs::path stored = outputs.job_dir / kJobThumbnails / (record.sha256 + ".jpg");
        if (IsSha256(record.sha256) && !leak_thumbnails.contains(record.sha256) &&
            fs::exists(stored)) {
          leak_thumbnails[record.sha256] = ReadThumbnail(stored);
        }
        report_records.push_back(std::move(record));
      });
    }
  }
  if (report && !summary.interrupted) {
    ReportOptions page;
    page.footage_dir = outputs.footage_dir;
    WriteOutput(outputs.report, [&](std::ostream& out) {
      WriteMatchReport(report_records, leak_thumbnails, index, options, page, out, log);
    });
  } else if (report) {
    log << "celtrace-match: interrupted; no report written\n";
  }
  return summary;
}

void WriteSummary(const MatchSummary& summary, std::ostream& out) {
  out << fmt::format("celtrace-match: {} inputs ({} analysed, {} resumed from the job)\n",
                     summary.inputs, summary.analysed, summary.resumed);
  for (const auto& [episode, count] : summary.episodes) {
    out << fmt::format("  {:<40} {:>8} matched\n", episode, count);
  }
  auto count = [&](const char* status) {
    const auto it = summary.statuses.find(status);
    return it == summary.statuses.end() ? std::int64_t{0} : it->second;
  };
  out << fmt::format("  {:<40} {:>8}\n", "unidentified (no_match)", count("no_match"));
  out << fmt::format("  {:<40} {:>8}\n", "low_information", count("low_information"));
  out << fmt::format("  {:<40} {:>8}\n", "unsupported", count("unsupported"));
  out << fmt::format("  {:<40} {:>8}\n", "errors", count("error"));
  if (summary.interrupted)
    out << "celtrace-match: interrupted; rerun with the same --job to finish\n";
}

}  // namespace celtrace
