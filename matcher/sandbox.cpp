#include "sandbox.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <tbb/global_control.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <opencv2/core/utility.hpp>
#include <optional>

#include "celtrace/error.h"
#include "celtrace/hash_index.h"
#include "celtrace/media_type.h"
#include "owned_fd.h"
#include "reference_index.h"

extern char** environ;

namespace celtrace {

std::vector<std::pair<std::string, std::string>> OpenCvDecoderLimits(const MatchOptions& options) {
  return {{"OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(options.max_pixels)},
          {"OPENCV_IO_MAX_IMAGE_WIDTH", "65536"},
          {"OPENCV_IO_MAX_IMAGE_HEIGHT", "65536"}};
}
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// The descriptor a worker finds its channel on.
constexpr int kChannelFd = 3;
// Seconds a starting worker may take to load and verify the index.
constexpr double kStartSeconds = 300;
// Frames larger than this are a protocol error (a member is at most 512 MiB by default; the
// limit is only there so that a broken peer cannot make the other side allocate at will).
constexpr std::uint64_t kMaxFrameBytes = 16ull << 30;

// Waits until `channel` is ready for `events` or the deadline passes. Returns false on
// timeout.
bool WaitReady(int channel, short events, Clock::time_point deadline) {
  while (true) {
    int timeout = -1;
    if (deadline != Clock::time_point::max()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) return false;
      timeout = static_cast<int>(std::min<long long>(left, 60'000));
    }
    pollfd poll_fd{channel, events, 0};
    const int ready = ::poll(&poll_fd, 1, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return false;
    if (ready > 0) return true;
  }
}

enum class Io { kOk, kClosed, kTimeout };

Io SendAll(int channel, const char* data, std::size_t size, int pass_fd,
           Clock::time_point deadline) {
  while (size > 0 || pass_fd >= 0) {
    if (!WaitReady(channel, POLLOUT, deadline)) return Io::kTimeout;
    iovec vec{const_cast<char*>(data), size};
    msghdr message{};
    message.msg_iov = &vec;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    if (pass_fd >= 0) {
      message.msg_control = control;
      message.msg_controllen = sizeof(control);
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(header), &pass_fd, sizeof(int));
    }
    const ssize_t sent = ::sendmsg(channel, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (sent <= 0) return Io::kClosed;
    pass_fd = -1;  // travels with the first byte
    data += sent;
    size -= static_cast<std::size_t>(sent);
  }
  return Io::kOk;
}

Io ReceiveAll(int channel, char* data, std::size_t size, int* passed_fd,
              Clock::time_point deadline) {
  while (size > 0) {
    if (!WaitReady(channel, POLLIN, deadline)) return Io::kTimeout;
    iovec vec{data, size};
    msghdr message{};
    message.msg_iov = &vec;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t got = ::recvmsg(channel, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (got < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    if (got <= 0) return Io::kClosed;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
         header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(header), sizeof(int));
      if (passed_fd != nullptr && *passed_fd < 0) {
        *passed_fd = fd;
      } else {
        ::close(fd);  // unexpected: never leak it
      }
    }
    data += got;
    size -= static_cast<std::size_t>(got);
  }
  return Io::kOk;
}

Io SendFrameBy(int channel, std::string_view payload, int pass_fd, Clock::time_point deadline) {
  unsigned char length[8];
  std::uint64_t size = payload.size();
  for (int i = 0; i < 8; ++i) length[i] = static_cast<unsigned char>(size >> (8 * i));
  const Io head = SendAll(channel, reinterpret_cast<const char*>(length), 8, pass_fd, deadline);
  if (head != Io::kOk) return head;
  return SendAll(channel, payload.data(), payload.size(), -1, deadline);
}

Io ReceiveFrameBy(int channel, std::string* payload, int* passed_fd, Clock::time_point deadline) {
  unsigned char length[8];
  const Io head = ReceiveAll(channel, reinterpret_cast<char*>(length), 8, passed_fd, deadline);
  if (head != Io::kOk) return head;
  std::uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size |= static_cast<std::uint64_t>(length[i]) << (8 * i);
  if (size > kMaxFrameBytes) return Io::kClosed;
  payload->resize(size);
  return ReceiveAll(channel, payload->data(), size, nullptr, deadline);
}

std::string SignalName(int signal) {
  const char* abbreviation = sigabbrev_np(signal);
  return abbreviation != nullptr ? std::string("SIG") + abbreviation : "unknown";
}

std::uint64_t RoundUpSeconds(double seconds) {
  return static_cast<std::uint64_t>(std::max(1.0, std::ceil(seconds)));
}

}  // namespace

namespace sandbox {

bool SendFrame(int channel, const std::string& payload, int pass_fd) {
  return SendFrameBy(channel, payload, pass_fd, Clock::time_point::max()) == Io::kOk;
}

bool ReceiveFrame(int channel, std::string* payload, int* passed_fd) {
  return ReceiveFrameBy(channel, payload, passed_fd, Clock::time_point::max()) == Io::kOk;
}

}  // namespace sandbox

void LimitWorkerItem(double cpu_seconds, double wall_seconds) {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto used = static_cast<rlim_t>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1);
  rlimit cpu{};
  ::getrlimit(RLIMIT_CPU, &cpu);
  cpu.rlim_cur = std::min<rlim_t>(used + RoundUpSeconds(cpu_seconds), cpu.rlim_max);
  ::setrlimit(RLIMIT_CPU, &cpu);
  ::alarm(static_cast<unsigned>(std::min<std::uint64_t>(RoundUpSeconds(wall_seconds), 1u << 30)));
}

// ---------------------------------------------------------------------------------------
// The job's side.

class SandboxPool::Impl {
 public:
  Impl(const MatchOptions& options, std::uint64_t index_bytes, int workers)
      : options_(options), slots_(static_cast<std::size_t>(std::max(1, workers))) {
    if (options.worker_command.empty()) throw Error("sandbox: no worker command");
    for (const std::string& arg : options.worker_command) argv_strings_.push_back(arg);
    for (std::string& arg : argv_strings_) argv_.push_back(arg.data());
    argv_.push_back(nullptr);
    // The workers' environment: the job's, with OpenCV's decoder limits set before the
    // worker starts (OpenCV reads them once), and one thread for everything.
    std::vector<std::pair<std::string, std::string>> overrides = OpenCvDecoderLimits(options);
    overrides.insert(overrides.end(), {{"OPENCV_FOR_THREADS_NUM", "1"}, {"OMP_NUM_THREADS", "1"}});
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string_view text = *entry;
      const bool replaced = std::any_of(overrides.begin(), overrides.end(), [&](const auto& o) {
        return text.starts_with(o.first + "=");
      });
      if (!replaced) env_strings_.emplace_back(text);
    }
    for (const auto& [name, value] : overrides) env_strings_.push_back(name + "=" + value);
    for (std::string& entry : env_strings_) env_.push_back(entry.data());
    env_.push_back(nullptr);
    // Everything the worker loads (the index, 2-3 copies while verifying and parsing it) plus
    // the decoding budget.
    address_space_ = options.worker_memory_bytes + 3 * index_bytes;
    std::unique_lock lock(mutex_);
    Start(slots_.front());
  }

  ~Impl() {
    for (Slot& slot : slots_) Stop(slot);
  }

  int started() const {
    std::lock_guard lock(mutex_);
    return started_;
  }

  void Analyse(const InputItem& item, const ItemContent& content, ResultRecord* record,
               std::vector<std::uint8_t>* thumbnail) {
    Slot* slot = Acquire();
    struct Releaser {
      Impl* impl;
      Slot* slot;
      ~Releaser() { impl->Release(slot); }
    } releaser{this, slot};

    const double limit = options_.max_seconds_per_file + options_.worker_grace_seconds;
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(limit));
    const json header = {
        {"label", json::binary_t(std::vector<std::uint8_t>(item.label.begin(), item.label.end()))},
        {"sha256", content.sha256},
        {"size", content.size},
        {"thumbnail", thumbnail != nullptr},
        {"fd", content.file != nullptr}};
    const std::vector<std::uint8_t> cbor = json::to_cbor(header);
    const std::string_view bytes =
        content.bytes ? std::string_view(reinterpret_cast<const char*>(content.bytes->data()),
                                         content.bytes->size())
                      : std::string_view();
    Io io = SendFrameBy(slot->channel.get(),
                        std::string_view(reinterpret_cast<const char*>(cbor.data()), cbor.size()),
                        content.file ? content.file->get() : -1, deadline);
    if (io == Io::kOk) io = SendFrameBy(slot->channel.get(), bytes, -1, deadline);
    std::string reply;
    if (io == Io::kOk) io = ReceiveFrameBy(slot->channel.get(), &reply, nullptr, deadline);
    if (io == Io::kOk) {
      try {
        const json answer = json::from_cbor(reply);
        const std::string path = record->path;
        const std::uint64_t size = record->size;
        *record = FromJsonLine(answer.at("record").get<std::string>());
        record->path = path;  // the raw label (the line holds its escaped form)
        record->size = size;
        if (thumbnail != nullptr) {
          const auto& picture = answer.at("thumbnail").get_binary();
          thumbnail->assign(picture.begin(), picture.end());
        }
        return;
      } catch (const std::exception& e) {
        Kill(*slot);
        FailRecord(content, record, "crash: malformed reply from the decode worker");
        return;
      }
    }
    if (io == Io::kTimeout) {
      Kill(*slot);
      FailRecord(content, record,
                 "timeout: decode worker killed after " + FormatSeconds(limit) +
                     " s (--max-seconds plus the sandbox grace)");
      return;
    }
    const int status = Kill(*slot);
    FailRecord(content, record, DeathReason(status));
  }

 private:
  struct Slot {
    pid_t pid = -1;
    OwnedFd channel;
    bool busy = false;
  };

  static std::string FormatSeconds(double seconds) {
    char text[32];
    std::snprintf(text, sizeof(text), "%g", seconds);
    return text;
  }

  std::string DeathReason(int status) const {
    if (WIFSIGNALED(status)) {
      const int signal = WTERMSIG(status);
      if (signal == SIGXCPU) {
        return "timeout: decode worker ran past its CPU-time limit (" +
               FormatSeconds(options_.max_seconds_per_file + options_.worker_grace_seconds) +
               " s, SIGXCPU)";
      }
      if (signal == SIGALRM) return "timeout: decode worker ran past its wall-clock alarm";
      return "crash: decode worker killed by signal " + std::to_string(signal) + " (" +
             SignalName(signal) + ")";
    }
    if (WIFEXITED(status)) {
      return "crash: decode worker exited with status " + std::to_string(WEXITSTATUS(status));
    }
    return "crash: decode worker vanished";
  }

  static void FailRecord(const ItemContent& content, ResultRecord* record, std::string error) {
    record->sha256 = content.sha256;
    if (content.bytes) {
      const auto head =
          std::span(*content.bytes).first(std::min(content.bytes->size(), kSniffBytes));
      record->media = std::string(MediaKindName(SniffMediaKind(head)));
    } else {
      record->media = "video";  // only videos are kept on disk rather than in memory
    }
    record->status = "error";
    record->quality = -1;
    record->matches.clear();
    record->error = std::move(error);
  }

  Slot* Acquire() {
    std::unique_lock lock(mutex_);
    idle_.wait(lock, [&] {
      return std::any_of(slots_.begin(), slots_.end(), [](const Slot& s) { return !s.busy; });
    });
    // A live idle worker first; otherwise start one in a free slot.
    Slot* chosen = nullptr;
    for (Slot& slot : slots_) {
      if (!slot.busy && slot.pid > 0) {
        chosen = &slot;
        break;
      }
    }
    if (chosen != nullptr) {
      // A worker that died while idle (killed from outside) must not cost the next input.
      int status = 0;
      if (::waitpid(chosen->pid, &status, WNOHANG) == chosen->pid) {
        chosen->pid = -1;
        chosen->channel.Reset();
        Start(*chosen);
      }
    }
    if (chosen == nullptr) {
      for (Slot& slot : slots_) {
        if (!slot.busy) {
          chosen = &slot;
          break;
        }
      }
      Start(*chosen);
    }
    chosen->busy = true;
    return chosen;
  }

  void Release(Slot* slot) {
    {
      std::lock_guard lock(mutex_);
      slot->busy = false;
    }
    idle_.notify_one();
  }

  // Starts a worker in `slot` and waits for its ready message. Called with mutex_ held (a
  // fork while another thread forks is fine; holding the lock keeps the start count exact).
  void Start(Slot& slot) {
    int sockets[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
      throw Error(std::string("sandbox: socketpair: ") + std::strerror(errno));
    }
    OwnedFd ours(sockets[0]);
    OwnedFd theirs(sockets[1]);
    const rlim_t address_space = static_cast<rlim_t>(address_space_);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw Error(std::string("sandbox: fork: ") + std::strerror(errno));
    if (pid == 0) {
      // The child of a multi-threaded process: async-signal-safe calls only, then exec.
      const int null = ::open("/dev/null", O_RDWR);
      if (null < 0) _exit(126);
      ::dup2(null, 0);
      ::dup2(null, 1);
      // stderr too: RLIMIT_FSIZE would kill a worker writing to a redirected log file.
      ::dup2(null, 2);
      if (theirs.get() == kChannelFd) {
        ::fcntl(kChannelFd, F_SETFD, 0);  // dup2 onto itself would keep close-on-exec
      } else if (::dup2(theirs.get(), kChannelFd) != kChannelFd) {
        _exit(126);
      }
      ::syscall(SYS_close_range, kChannelFd + 1, ~0U, 0);
      const rlimit none{0, 0};
      ::setrlimit(RLIMIT_CORE, &none);
#if !defined(__SANITIZE_THREAD__)
      // No file writes: the worker only answers on its socket. (TSan-instrumented workers
      // die of SIGXFSZ as they start, so those builds go without.)
      ::setrlimit(RLIMIT_FSIZE, &none);
#endif
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
      // Sanitizers reserve terabytes of shadow memory; their builds go without the limit.
      const rlimit memory{address_space, address_space};
      ::setrlimit(RLIMIT_AS, &memory);
#else
      (void)address_space;
#endif
      const rlimit files{64, 64};
      ::setrlimit(RLIMIT_NOFILE, &files);
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
      // A session of its own: Ctrl-C on the terminal reaches the job, which finishes the
      // inputs in flight, and not the workers, whose deaths would be journaled as crashes.
      ::setsid();
      if (::getppid() != parent) _exit(126);
      ::execve(argv_[0], argv_.data(), env_.data());
      _exit(127);
    }
    theirs.Reset();
    ++started_;
    slot.pid = pid;
    slot.channel = std::move(ours);
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(kStartSeconds));
    std::string hello;
    const Io io = ReceiveFrameBy(slot.channel.get(), &hello, nullptr, deadline);
    std::string problem;
    if (io == Io::kOk) {
      try {
        const json message = json::from_cbor(hello);
        if (message.value("ready", false)) return;
        problem = message.value("error", std::string("no ready message"));
      } catch (const std::exception&) {
        problem = "malformed ready message";
      }
    } else {
      problem = io == Io::kTimeout ? "no answer within " + FormatSeconds(kStartSeconds) + " s"
                                   : "it exited";
    }
    const int status = Kill(slot);
    if (problem == "it exited" && WIFEXITED(status)) {
      problem += " with status " + std::to_string(WEXITSTATUS(status));
    } else if (problem == "it exited" && WIFSIGNALED(status)) {
      problem += " on signal " + SignalName(WTERMSIG(status));
    }
    throw Error("sandbox: the decode worker (" + options_.worker_command.front() +
                ") did not start: " + problem + "; --no-sandbox analyses in-process");
  }

  // Kills the worker (if still running), reaps it, returns its wait status.
  static int Kill(Slot& slot) {
    int status = 0;
    if (slot.pid > 0) {
      // Closing first lets a worker that is merely slow see the end; it is killed anyway.
      slot.channel.Reset();
      ::kill(slot.pid, SIGKILL);
      while (::waitpid(slot.pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
    slot.pid = -1;
    slot.channel.Reset();
    return status;
  }

  // A worker that exited by itself: reap it without a signal where possible.
  static void Stop(Slot& slot) {
    if (slot.pid <= 0) return;
    slot.channel.Reset();  // end of stream: the worker returns from its loop
    int status = 0;
    for (int i = 0; i < 50; ++i) {
      if (::waitpid(slot.pid, &status, WNOHANG) == slot.pid) {
        slot.pid = -1;
        return;
      }
      ::usleep(10'000);
    }
    Kill(slot);
  }

  MatchOptions options_;
  std::vector<std::string> argv_strings_, env_strings_;
  std::vector<char*> argv_, env_;
  std::uint64_t address_space_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable idle_;
  std::vector<Slot> slots_;
  int started_ = 0;
};

SandboxPool::SandboxPool(const MatchOptions& options, std::uint64_t index_bytes, int workers)
    : impl_(std::make_unique<Impl>(options, index_bytes, workers)) {}

SandboxPool::~SandboxPool() = default;

void SandboxPool::Analyse(const InputItem& item, const ItemContent& content, ResultRecord* record,
                          std::vector<std::uint8_t>* thumbnail) {
  impl_->Analyse(item, content, record, thumbnail);
}

int SandboxPool::workers_started() const { return impl_->started(); }

// ---------------------------------------------------------------------------------------
// The worker's side.

int RunSandboxWorker(int channel, const MatchOptions& options) {
  // One thread for everything: the job runs one worker per core.
  cv::setNumThreads(1);
  SetFaissThreads(1);
  tbb::global_control threads(tbb::global_control::max_allowed_parallelism, 1);
  std::optional<ReferenceIndex> index;
  try {
    index.emplace(options.index_dir);
  } catch (const std::exception& e) {
    sandbox::SendFrame(channel, [&] {
      const auto cbor = json::to_cbor(json{{"error", std::string("index: ") + e.what()}});
      return std::string(cbor.begin(), cbor.end());
    }());
    return 3;
  }
  {
    const auto cbor = json::to_cbor(json{{"ready", true}});
    if (!sandbox::SendFrame(channel, std::string(cbor.begin(), cbor.end()))) return 2;
  }
  const double limit = options.max_seconds_per_file + options.worker_grace_seconds;
  while (true) {
    std::string header_bytes, bytes;
    int passed_fd = -1;
    if (!sandbox::ReceiveFrame(channel, &header_bytes, &passed_fd)) return 0;
    OwnedFd file(passed_fd);
    if (!sandbox::ReceiveFrame(channel, &bytes)) return 2;
    json header;
    try {
      header = json::from_cbor(header_bytes);
    } catch (const std::exception&) {
      return 2;
    }
    InputItem item;
    const auto& label = header.at("label").get_binary();
    item.label.assign(label.begin(), label.end());
    item.size = header.at("size").get<std::uint64_t>();
    ItemContent content;
    content.sha256 = header.at("sha256").get<std::string>();
    content.size = item.size;
    if (header.at("fd").get<bool>()) {
      if (!file.valid()) return 2;
      item.kind = InputKind::kFile;
      content.file = std::make_shared<const OwnedFd>(std::move(file));
    } else {
      item.kind = InputKind::kArchiveMember;
      content.bytes = std::make_shared<const std::vector<std::uint8_t>>(bytes.begin(), bytes.end());
      bytes.clear();
      bytes.shrink_to_fit();
    }
    ResultRecord record;
    record.path = item.label;
    record.size = item.size;
    std::vector<std::uint8_t> thumbnail;
    LimitWorkerItem(limit, limit + 5);
    AnalyseContent(item, content, *index, options, &record,
                   header.at("thumbnail").get<bool>() ? &thumbnail : nullptr);
    ::alarm(0);
    const auto cbor = json::to_cbor(
        json{{"record", ToJsonLine(record)}, {"thumbnail", json::binary_t(thumbnail)}});
    if (!sandbox::SendFrame(channel, std::string(cbor.begin(), cbor.end()))) return 0;
  }
}

}  // namespace celtrace
