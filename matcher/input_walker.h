// InputWalker turns the inputs of `celtrace-match` (files, folders, archives) into a
// deterministic, lazy stream of items, one per file found; archives are read as streams with
// libarchive and never extracted to disk. A walker owns its open folder and archive handles
// and the bytes of the members it yields are shared with the caller; not thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace celtrace {

enum class InputKind {
  kFile,           // a regular file on disk: `path`
  kArchiveMember,  // a member of an archive, content in `bytes`
  kSkipped,        // has a record but no content; `reason` says why
};

struct InputItem {
  // The input's name for outputs: a path as given or joined ("leak/a.png"), an archive member
  // "leak/x.zip!/dir/b.png", nested "a.zip!/b.tar!/c.png". Raw bytes, possibly invalid UTF-8;
  // member parts are the names stored in the archive ("../x", "/abs") and are never used as
  // paths to write.
  std::string label;
  InputKind kind = InputKind::kSkipped;
  std::filesystem::path path;                              // kFile: the file to open
  std::shared_ptr<const std::vector<std::uint8_t>> bytes;  // kArchiveMember: the content
  std::uint64_t size = 0;                                  // bytes: file or member size
  // kSkipped: why, starting with a code word: "symlink: not followed", "fifo: not opened",
  // "device: not opened", "socket: not opened", "loop: ...", "missing: no such file",
  // "unreadable: <strerror>", "encrypted: ...", "too_large: ...", "depth: ...",
  // "corrupt: <libarchive message>"; for archive members also "hardlink: not followed", and
  // "empty: no files in the archive" for an archive that yields nothing else.
  std::string reason;
  // The share of one input (a root, or a file under a root folder) this item completes, for
  // progress: 1 for a file; the items of a top-level archive (nested ones' included) share
  // its 1 in proportion to the archive file's bytes read before each.
  double input_share = 0;
};

struct WalkOptions {
  // Archives nested this deep are opened (a top-level archive is depth 1, a tar inside it
  // depth 2); deeper ones become kSkipped "depth" items. 0 leaves every archive unopened.
  int max_archive_depth = 3;
  // Members larger than this (bytes, declared or found while reading) are kSkipped
  // "too_large"; it bounds the memory one member can take, whatever its header claims.
  std::uint64_t max_member_bytes = 512ull << 20;
  // Uncompressed bytes read from one top-level archive, nested archives included; members
  // past it are kSkipped "too_large". Bounds the work an archive bomb can cause.
  std::uint64_t max_archive_bytes = 8ull << 30;
  // Entries (of any type) read from one archive; past it, one kSkipped "too_large" item for
  // the archive itself and the rest is not read.
  std::uint64_t max_archive_entries = 100000;
  // Uncompressed bytes per compressed byte read from one top-level archive (nested archives
  // included), checked once it has expanded past 16 MiB; past it, the member being read and
  // the archive get kSkipped "too_large" items and the rest is not read. Deflate reaches
  // ~1000:1 on runs of zeros; real leaks (JPEG, PNG, video) stay near 1:1. Default 200.
  double max_compression_ratio = 200;
};

class InputWalker {
 public:
  // roots: paths as given on the command line (files, folders, archives). Nothing is touched
  // until Next().
  explicit InputWalker(std::vector<std::string> roots, WalkOptions options = {});
  ~InputWalker();
  InputWalker(InputWalker&&) noexcept;
  InputWalker& operator=(InputWalker&&) noexcept;

  // Returns the next item, or std::nullopt when done. Order: roots as given; in a folder,
  // its non-folder entries, then its sub-folders, each group in byte order of the names;
  // archive members in stored order. Symlinks are never followed and FIFOs, devices and
  // sockets never opened. Bad inputs become kSkipped items; throws only std::bad_alloc.
  // During the call the thread's LC_CTYPE is C.UTF-8 (uselocale), so that libarchive keeps
  // UTF-8 member names in a program running in the "C" locale.
  std::optional<InputItem> Next();

  // The share of inputs no item has carried: the end of an archive read after its last item
  // (the zip central directory, the tar end blocks). Taken by the next item, so nonzero only
  // once Next() has returned std::nullopt; for progress to end at 100%.
  double LeftoverShare() const;

 private:
  class State;
  std::unique_ptr<State> state_;
};

// Reads paths separated by newlines (a trailing "\r" is dropped, for lists written on
// Windows) or, with nul_separated, by NUL bytes; empty entries are skipped. For the `-` and
// `-0` inputs of celtrace-match.
std::vector<std::string> ReadPathList(std::istream& in, bool nul_separated);

}  // namespace celtrace
