// The decode sandbox: untrusted inputs are decoded and analysed in worker processes under
// resource limits, so that a crafted file that crashes, hangs or exhausts a decoder costs
// its own record and nothing else. SandboxPool (the job's side) owns the workers, enforces
// the wall-clock deadline, and restarts a worker that died; RunSandboxWorker is the worker's
// side (`celtrace-match --worker`). A pool is thread-safe: one request per worker at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "attribution.h"
#include "input_walker.h"
#include "match_options.h"
#include "result_record.h"

namespace celtrace {

// OpenCV's image decoder limits as environment variables (name, value): the pixel limit at
// options.max_pixels and sides of 65536. OpenCV reads them once, as it loads, so a process
// must have them in its environment from the start (the workers; celtrace-match restarts
// itself with them for --no-sandbox).
std::vector<std::pair<std::string, std::string>> OpenCvDecoderLimits(const MatchOptions& options);

class SandboxPool {
 public:
  // Starts one worker at once (the others on demand) with options.worker_command, so that a
  // worker that cannot start (the index unreadable to it, a missing program) fails the job
  // here with celtrace::Error instead of turning every input into an error record.
  // `index_bytes` sizes the workers' address-space limit (each worker loads the index).
  SandboxPool(const MatchOptions& options, std::uint64_t index_bytes, int workers);
  // Kills and reaps every worker.
  ~SandboxPool();
  SandboxPool(const SandboxPool&) = delete;
  SandboxPool& operator=(const SandboxPool&) = delete;

  // As AnalyseContent, in an idle worker: fills *record (and *thumbnail if not null). A
  // worker that dies is reported as `error` "crash: worker killed by signal N (SIGx)"; one
  // that runs past max_seconds_per_file + worker_grace_seconds, or its CPU-time limit, is
  // killed and reported as "timeout: ..."; the next request starts a new worker. Throws
  // celtrace::Error only if a new worker cannot be started.
  void Analyse(const InputItem& item, const ItemContent& content, ResultRecord* record,
               std::vector<std::uint8_t>* thumbnail);

  // Workers started so far (the first one included); for tests and the log.
  int workers_started() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// The worker: loads options.index_dir, then serves requests on the socket `channel` until
// the job closes it. Returns the process exit code (0 at the end, 3 if the index cannot be
// loaded, 2 on a protocol error).
int RunSandboxWorker(int channel, const MatchOptions& options);

// Worker side, before each input: RLIMIT_CPU (soft) at the CPU time used so far plus
// `cpu_seconds`, and an alarm (SIGALRM) after `wall_seconds`, so that a worker whose job died
// or stopped listening cannot run on. Both signals kill the worker.
void LimitWorkerItem(double cpu_seconds, double wall_seconds);

namespace sandbox {

// The wire format between pool and worker over a SOCK_STREAM socket: frames of an 8-byte
// little-endian length and a payload. Exposed for test doubles of the worker.
//
//   worker -> job, once:  CBOR {"ready": true} or {"error": "..."}
//   job -> worker:        CBOR {"label", "sha256", "size", "thumbnail": bool, "fd": bool}
//                         (with an SCM_RIGHTS descriptor when "fd"), then the raw bytes
//                         (an empty frame when the content is passed as a descriptor)
//   worker -> job:        CBOR {"record": ToJsonLine(record), "thumbnail": binary}

// Sends one frame (and `pass_fd` if >= 0). Returns false if the peer is gone.
bool SendFrame(int channel, const std::string& payload, int pass_fd = -1);
// Receives one frame into *payload (a descriptor that came with it into *passed_fd if not
// null). Returns false at end of stream or on error. Blocking.
bool ReceiveFrame(int channel, std::string* payload, int* passed_fd = nullptr);

}  // namespace sandbox
}  // namespace celtrace
