#include "input_walker.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <deque>
#include <new>
#include <span>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

#include "celtrace/media_type.h"
#include "celtrace/read_at.h"
#include "owned_fd.h"

namespace celtrace {
namespace {

// Read size for libarchive's file reads and for member data.
constexpr std::size_t kReadChunk = 64 << 10;
// A member's declared size is only reserved up to this much: a header may lie, and the
// bytes that really arrive are bounded separately by max_member_bytes.
constexpr std::uint64_t kMaxReserve = 64ull << 20;
// The compression ratio is only checked past this many uncompressed bytes: small archives of
// flat images may well compress 1000:1 and cost nothing.
constexpr std::uint64_t kRatioFloorBytes = 16ull << 20;

struct ArchiveReadDeleter {
  void operator()(archive* handle) const noexcept { archive_read_free(handle); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveReadDeleter>;

struct DirCloser {
  void operator()(DIR* dir) const noexcept { closedir(dir); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

struct LocaleDeleter {
  void operator()(locale_t locale) const noexcept { freelocale(locale); }
};
using LocalePtr = std::unique_ptr<std::remove_pointer_t<locale_t>, LocaleDeleter>;

// libarchive converts member names to the charset of the calling thread's locale. In the "C"
// locale a program starts in, a name flagged UTF-8 (zip, pax) with any non-ASCII character
// fails to convert and the entry comes back with no name at all. Under C.UTF-8 names pass
// through as stored; uselocale() changes this thread only, and only for the scope.
class ScopedLocale {
 public:
  explicit ScopedLocale(locale_t locale)
      : previous_(locale != nullptr ? uselocale(locale) : nullptr) {}
  ~ScopedLocale() {
    if (previous_ != nullptr) uselocale(previous_);
  }
  ScopedLocale(const ScopedLocale&) = delete;
  ScopedLocale& operator=(const ScopedLocale&) = delete;

 private:
  locale_t previous_;
};

std::string ErrorText(int error) { return std::generic_category().message(error); }

InputItem MakeSkipped(std::string label, std::string reason) {
  InputItem item;
  item.label = std::move(label);
  item.kind = InputKind::kSkipped;
  item.reason = std::move(reason);
  return item;
}

// Reasons for the file types that are never opened (on disk); empty for files and folders.
std::string SpecialFileReason(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFLNK:
      return "symlink: not followed";
    case S_IFIFO:
      return "fifo: not opened";
    case S_IFCHR:
    case S_IFBLK:
      return "device: not opened";
    case S_IFSOCK:
      return "socket: not opened";
    case S_IFREG:
    case S_IFDIR:
      return "";
  }
  return "special: not opened";
}

// The same for archive members, whose types are libarchive's AE_IF* values.
std::string SpecialMemberReason(archive_entry* entry) {
  // A hard link usually points at data stored earlier; one that carries its own data (some
  // cpio and pax writers) is read like a file.
  if (archive_entry_hardlink(entry) != nullptr &&
      (archive_entry_size_is_set(entry) == 0 || archive_entry_size(entry) <= 0)) {
    return "hardlink: not followed";
  }
  switch (archive_entry_filetype(entry)) {
    case AE_IFLNK:
      return "symlink: not followed";
    case AE_IFIFO:
      return "fifo: not opened";
    case AE_IFCHR:
    case AE_IFBLK:
      return "device: not opened";
    case AE_IFSOCK:
      return "socket: not opened";
    case AE_IFREG:
    case AE_IFDIR:
    case 0:  // some formats (raw, old zips) leave the type unset on plain files
      return "";
  }
  return "special: not opened";
}

// libarchive reports missing passphrases and unsupported encryption as ordinary errors;
// the message is the only place that tells them from damage.
std::string DescribeArchiveError(archive* handle) {
  const char* text = archive_error_string(handle);
  std::string message = text != nullptr ? text : "unknown libarchive error";
  std::string lower = message;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  if (lower.find("encrypt") != std::string::npos || lower.find("passphrase") != std::string::npos) {
    return "encrypted: " + message;
  }
  return "corrupt: " + message;
}

// The member's name as stored, for its label: UTF-8 where the archive says so (zip flag,
// pax), raw bytes otherwise (ustar, zips without the flag). A name libarchive could not
// convert still gets a label, numbered by the entry's position.
std::string MemberName(archive_entry* entry, std::uint64_t position) {
  const char* name = archive_entry_pathname_utf8(entry);
  if (name == nullptr) name = archive_entry_pathname(entry);
  if (name == nullptr) return "(unreadable name, entry " + std::to_string(position) + ")";
  std::string result = name;
  while (result.starts_with("./")) result.erase(0, 2);
  return result;
}

// A single compressed stream (x.png.gz) has no member names; libarchive calls its content
// "data". The archive's own name without the compression suffix says more.
std::string RawMemberName(std::string_view archive_label) {
  const std::size_t slash = archive_label.find_last_of('/');
  const std::string_view base =
      slash == std::string_view::npos ? archive_label : archive_label.substr(slash + 1);
  for (const std::string_view suffix :
       {".gz", ".bz2", ".xz", ".lzma", ".lz", ".zst", ".lz4", ".Z", ".tgz"}) {
    if (base.size() > suffix.size() && base.ends_with(suffix)) {
      return std::string(base.substr(0, base.size() - suffix.size()));
    }
  }
  return "data";
}

ArchivePtr NewArchiveReader() {
  ArchivePtr handle(archive_read_new());
  if (!handle) throw std::bad_alloc();
  archive* a = handle.get();
  // In-process decompressors only: archive_read_support_filter_all also registers lzop,
  // lrzip and grzip, which libarchive runs as external programs on the (hostile) input.
  archive_read_support_filter_gzip(a);
  archive_read_support_filter_bzip2(a);
  archive_read_support_filter_compress(a);
  archive_read_support_filter_xz(a);
  archive_read_support_filter_lzma(a);
  archive_read_support_filter_lzip(a);
  archive_read_support_filter_zstd(a);
  archive_read_support_filter_lz4(a);
  // archive_read_support_format_all less mtree: a text file that happens to look like an
  // mtree spec would turn into phantom members instead of one plain member.
  archive_read_support_format_7zip(a);
  archive_read_support_format_ar(a);
  archive_read_support_format_cab(a);
  archive_read_support_format_cpio(a);
  archive_read_support_format_empty(a);
  archive_read_support_format_iso9660(a);
  archive_read_support_format_lha(a);
  archive_read_support_format_rar(a);
  archive_read_support_format_rar5(a);
  archive_read_support_format_tar(a);
  archive_read_support_format_warc(a);
  archive_read_support_format_xar(a);
  archive_read_support_format_zip(a);
  // Raw bids lowest, so it only wins when no real format does: a lone compressed stream
  // (frame.png.gz), or data that is no archive at all, which StepArchive() rejects.
  archive_read_support_format_raw(a);
  return handle;
}

}  // namespace

class InputWalker::State {
 public:
  State(std::vector<std::string> roots, WalkOptions options)
      : roots_(std::move(roots)),
        options_(options),
        chunk_(kReadChunk),
        utf8_locale_(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {}

  double LeftoverShare() const { return leftover_share_; }

  std::optional<InputItem> Next() {
    const ScopedLocale locale(utf8_locale_.get());
    // Each step yields zero or more items, so the walk advances exactly as far as needed.
    while (pending_.empty()) {
      if (!archives_.empty()) {
        StepArchive();
      } else if (!directories_.empty()) {
        StepDirectory();
      } else if (next_root_ < roots_.size()) {
        const std::string& root = roots_[next_root_++];
        // "link/" would make the kernel resolve the symlink before lstat() sees it.
        std::string_view bare = root;
        while (bare.size() > 1 && bare.ends_with('/')) bare.remove_suffix(1);
        VisitPath(std::filesystem::path(bare), root);
      } else {
        return std::nullopt;
      }
    }
    InputItem item = std::move(pending_.front());
    pending_.pop_front();
    return item;
  }

 private:
  struct Directory {
    std::filesystem::path path;
    std::vector<std::string> names;  // non-folders first, then folders, each in byte order
    std::size_t next = 0;
    dev_t device = 0;
    ino_t inode = 0;
  };

  // One open archive. The source (file or buffer) is declared before the handle so that the
  // handle, which reads from it, is destroyed first.
  struct OpenArchive {
    OwnedFd file;                                             // top level: the archive file
    std::shared_ptr<const std::vector<std::uint8_t>> buffer;  // nested: the member's bytes
    ArchivePtr handle;
    std::string label;
    int depth = 1;
    std::uint64_t entries = 0;
    bool first_header = true;
    bool raw = false;      // a lone compressed stream: one member, named after the archive
    bool yielded = false;  // an item came out of it (or out of an archive inside it)
  };

  void Yield(InputItem item) {
    for (OpenArchive& open : archives_) open.yielded = true;
    // A file or a root's record completes one input; an archive's records share its one by
    // how much of the archive file had been read when each came out.
    double share = 1;
    if (!archives_.empty()) {
      const auto read = archive_filter_bytes(archives_.front().handle.get(), -1);
      const double fraction = top_size_ > 0
                                  ? std::clamp(static_cast<double>(std::max<la_int64_t>(read, 0)) /
                                                   static_cast<double>(top_size_),
                                               0.0, 1.0)
                                  : 1.0;
      share = std::max(0.0, fraction - top_share_);
      top_share_ = std::max(top_share_, fraction);
    }
    item.input_share = share + leftover_share_;
    leftover_share_ = 0;
    pending_.push_back(std::move(item));
  }

  void Skip(std::string label, std::string reason) {
    Yield(MakeSkipped(std::move(label), std::move(reason)));
  }

  void VisitPath(const std::filesystem::path& path, const std::string& label) {
    struct stat status {};
    if (::lstat(path.c_str(), &status) != 0) {
      const int error = errno;
      Skip(label, error == ENOENT || error == ENOTDIR ? "missing: no such file"
                                                      : "unreadable: " + ErrorText(error));
      return;
    }
    if (S_ISDIR(status.st_mode)) {
      EnterDirectory(path, label);
    } else if (S_ISREG(status.st_mode)) {
      VisitRegularFile(path, label);
    } else {
      Skip(label, SpecialFileReason(status.st_mode));
    }
  }

  void EnterDirectory(const std::filesystem::path& path, const std::string& label) {
    // O_NOFOLLOW: the folder may have been swapped for a symlink since lstat().
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      const int error = errno;
      Skip(label, error == ELOOP ? "symlink: not followed" : "unreadable: " + ErrorText(error));
      return;
    }
    DirPtr dir(::fdopendir(fd));
    if (!dir) {
      const int error = errno;
      ::close(fd);
      Skip(label, "unreadable: " + ErrorText(error));
      return;
    }
    struct stat status {};
    if (::fstat(fd, &status) != 0) {
      Skip(label, "unreadable: " + ErrorText(errno));
      return;
    }
    // Symlinks are not followed, so only bind mounts can bring a folder back inside itself.
    for (const Directory& ancestor : directories_) {
      if (ancestor.device == status.st_dev && ancestor.inode == status.st_ino) {
        Skip(label, "loop: folder is its own ancestor");
        return;
      }
    }
    std::vector<std::pair<bool, std::string>> entries;  // (is a folder, name)
    errno = 0;
    while (const dirent* entry = ::readdir(dir.get())) {
      const std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      bool is_folder = entry->d_type == DT_DIR;
      if (entry->d_type == DT_UNKNOWN) {
        struct stat child {};
        is_folder = ::fstatat(fd, entry->d_name, &child, AT_SYMLINK_NOFOLLOW) == 0 &&
                    S_ISDIR(child.st_mode);
      }
      entries.emplace_back(is_folder, std::string(name));
      errno = 0;
    }
    if (errno != 0) {
      // Walk what was listed; the record says the listing is incomplete.
      Skip(label, "unreadable: " + ErrorText(errno));
    }
    // std::string compares as unsigned bytes, so the order is the same in every locale.
    std::sort(entries.begin(), entries.end());
    Directory frame{path, {}, 0, status.st_dev, status.st_ino};
    frame.names.reserve(entries.size());
    for (auto& entry : entries) frame.names.push_back(std::move(entry.second));
    directories_.push_back(std::move(frame));
  }

  void StepDirectory() {
    Directory& top = directories_.back();
    if (top.next == top.names.size()) {
      directories_.pop_back();
      return;
    }
    const std::filesystem::path child = top.path / top.names[top.next++];
    VisitPath(child, child.native());
  }

  void VisitRegularFile(const std::filesystem::path& path, const std::string& label) {
    // O_NONBLOCK: should a FIFO have replaced the file since lstat(), open() must not wait
    // for a writer.
    OwnedFd file(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (file.get() < 0) {
      const int error = errno;
      Skip(label, error == ELOOP ? "symlink: not followed" : "unreadable: " + ErrorText(error));
      return;
    }
    struct stat status {};
    if (::fstat(file.get(), &status) != 0) {
      Skip(label, "unreadable: " + ErrorText(errno));
      return;
    }
    if (!S_ISREG(status.st_mode)) {
      Skip(label, SpecialFileReason(status.st_mode));
      return;
    }
    // Sniffed here rather than with SniffFile() so the descriptor checked above is the one
    // read (and later handed to libarchive), and a failure comes with its errno.
    std::vector<std::uint8_t> head(kSniffBytes);
    const std::int64_t filled = ReadAt(file.get(), head.data(), head.size(), 0);
    if (filled < 0) {
      Skip(label, "unreadable: " + ErrorText(errno));
      return;
    }
    if (SniffMediaKind(std::span(head.data(), static_cast<std::size_t>(filled))) !=
        MediaKind::kArchive) {
      InputItem item;
      item.label = label;
      item.kind = InputKind::kFile;
      item.path = path;
      item.size = static_cast<std::uint64_t>(status.st_size);
      Yield(std::move(item));
      return;
    }
    if (options_.max_archive_depth < 1) {
      Skip(label,
           "depth: nested archives deeper than " + std::to_string(options_.max_archive_depth));
      return;
    }
    OpenArchive top;
    top.file = std::move(file);
    top.handle = NewArchiveReader();
    top.label = label;
    top.depth = 1;
    // pread() left the offset at 0, where libarchive starts reading.
    if (archive_read_open_fd(top.handle.get(), top.file.get(), kReadChunk) != ARCHIVE_OK) {
      Skip(label, DescribeArchiveError(top.handle.get()));
      return;
    }
    archive_bytes_ = 0;
    drained_bytes_ = 0;
    archive_entries_ = 0;
    top_size_ = static_cast<std::uint64_t>(status.st_size);
    top_share_ = 0;
    archives_.push_back(std::move(top));
  }

  void OpenNestedArchive(std::shared_ptr<const std::vector<std::uint8_t>> bytes, std::string label,
                         int depth) {
    OpenArchive nested;
    nested.buffer = std::move(bytes);
    nested.handle = NewArchiveReader();
    nested.label = std::move(label);
    nested.depth = depth;
    if (archive_read_open_memory(nested.handle.get(), nested.buffer->data(),
                                 nested.buffer->size()) != ARCHIVE_OK) {
      Skip(nested.label, DescribeArchiveError(nested.handle.get()));
      return;
    }
    archives_.push_back(std::move(nested));
  }

  void StepArchive() {
    OpenArchive& top = archives_.back();
    archive* handle = top.handle.get();
    archive_entry* entry = nullptr;
    const int status = archive_read_next_header(handle, &entry);
    if (status == ARCHIVE_EOF) {
      // Without a record of its own, an archive holding only folders would vanish from the
      // results.
      if (!top.yielded) Skip(top.label, "empty: no files in the archive");
      PopArchive();
      return;
    }
    // Counted before anything else so that a stream of failing headers also ends; over the
    // top-level archive, nested ones included, as the byte budget is.
    ++top.entries;
    if (++archive_entries_ > options_.max_archive_entries) {
      StopArchives(
          {}, "too_large: more than " + std::to_string(options_.max_archive_entries) + " entries");
      return;
    }
    if (status == ARCHIVE_FATAL) {
      Skip(top.label, DescribeArchiveError(handle));
      PopArchive();
      return;
    }
    if (status == ARCHIVE_RETRY) return;
    if (top.first_header) {
      top.first_header = false;
      if (archive_format(handle) == ARCHIVE_FORMAT_RAW) {
        // Raw without a decompressor means nothing recognised the content: the magic bytes
        // that made it sniff as an archive were a coincidence or the rest is damaged.
        if (archive_filter_count(handle) <= 1) {
          Skip(top.label, "corrupt: not a readable archive (no known format or compression)");
          PopArchive();
          return;
        }
        top.raw = true;
      }
    }
    std::string label =
        top.label + "!/" + (top.raw ? RawMemberName(top.label) : MemberName(entry, top.entries));
    if (status == ARCHIVE_FAILED) {
      Skip(std::move(label), DescribeArchiveError(handle));
      return;
    }
    // ARCHIVE_OK, or ARCHIVE_WARN (say, a name libarchive cannot convert): the entry is usable.
    VisitMember(entry, std::move(label));
  }

  void VisitMember(archive_entry* entry, std::string label) {
    OpenArchive& top = archives_.back();
    archive* handle = top.handle.get();
    const int format = archive_format(handle) & ARCHIVE_FORMAT_BASE_MASK;
    if (archive_entry_filetype(entry) == AE_IFDIR) {
      // A folder has no data. A zip folder that declares some (the MS-DOS folder attribute on
      // a file's name and content, which unzip extracts as a file) gets a record: libarchive
      // gives a folder no data, and a silent skip would hide a picture. (A GNU incremental
      // tar's folders declare their listings: those are folders.)
      if (format == ARCHIVE_FORMAT_ZIP && archive_entry_size_is_set(entry) != 0 &&
          archive_entry_size(entry) > 0) {
        Skip(std::move(label), "special: a folder entry declaring " +
                                   std::to_string(archive_entry_size(entry)) +
                                   " bytes of data (not read; a file marked as a folder)");
      }
      return;
    }
    if (std::string reason = SpecialMemberReason(entry); !reason.empty()) {
      Skip(std::move(label), std::move(reason));
      return;
    }
    if (archive_entry_is_encrypted(entry)) {
      Skip(std::move(label), "encrypted: member is encrypted and no passphrase is given");
      return;
    }
    if (archive_bytes_ >= options_.max_archive_bytes) {
      StopArchives(std::move(label), ArchiveBudgetReason());
      return;
    }
    const bool declared = archive_entry_size_is_set(entry) != 0;
    const auto declared_size =
        static_cast<std::uint64_t>(std::max<la_int64_t>(archive_entry_size(entry), 0));
    // Unread data is skipped by the next archive_read_next_header(): cheaply (a seek) in a
    // tar, cpio or ar read as it is and in a zip (each member found from the central
    // directory), but in a compressed stream (.tar.gz, .tar.bz2) or a format that compresses
    // its members in blocks (7z, rar) by decompressing it all, inside that one call, uncounted
    // and uninterruptible: 842 KB of bzip2 declaring a terabyte kept the job busy for hours.
    // There a skipped member is read through here instead, its bytes counted in the
    // compression ratio (a bomb stops the archive) but not against the byte budget: a stored
    // 20 GB video is worth skipping at the cost of reading it, and must not end the archive
    // before the pictures behind it.
    const bool seeks = format == ARCHIVE_FORMAT_ZIP || format == ARCHIVE_FORMAT_TAR ||
                       format == ARCHIVE_FORMAT_CPIO || format == ARCHIVE_FORMAT_AR;
    const bool drain = archive_filter_count(handle) > 1 || !seeks;
    bool keep = true;  // false once the member is refused: its bytes are only drained
    if (declared && declared_size > options_.max_member_bytes) {
      Skip(label, "too_large: member of " + std::to_string(declared_size) +
                      " bytes exceeds the limit of " + std::to_string(options_.max_member_bytes));
      if (!drain) return;
      keep = false;
    }
    std::vector<std::uint8_t> data;
    if (keep && declared) {
      data.reserve(std::min({declared_size, options_.max_member_bytes, kMaxReserve}));
    }
    while (true) {
      const la_ssize_t got = archive_read_data(handle, chunk_.data(), chunk_.size());
      if (got == 0) break;
      if (got < 0) {
        const std::string reason = DescribeArchiveError(handle);
        // A raw stream's only member is the archive itself: one record is enough.
        if (keep && (!top.raw || got != ARCHIVE_FATAL)) Skip(label, reason);
        if (got == ARCHIVE_FATAL) {
          Skip(top.label, reason);
          PopArchive();
        }
        return;
      }
      const auto count = static_cast<std::uint64_t>(got);
      (keep ? archive_bytes_ : drained_bytes_) += count;
      const std::uint64_t expanded = archive_bytes_ + drained_bytes_;
      if (expanded > kRatioFloorBytes) {
        // Bytes libarchive read from the top-level file or buffer (its last filter).
        const la_int64_t raw = archive_filter_bytes(archives_.front().handle.get(), -1);
        const double ratio =
            static_cast<double>(expanded) / static_cast<double>(std::max<la_int64_t>(raw, 1));
        if (ratio > options_.max_compression_ratio) {
          StopArchives(keep ? std::move(label) : std::string(),
                       "too_large: archive expands more than " +
                           std::to_string(static_cast<long long>(options_.max_compression_ratio)) +
                           " times its size (compression bomb)");
          return;
        }
      }
      if (archive_bytes_ > options_.max_archive_bytes) {
        StopArchives(keep ? std::move(label) : std::string(), ArchiveBudgetReason());
        return;
      }
      if (!keep) continue;
      if (data.size() + count > options_.max_member_bytes) {
        Skip(label, "too_large: member exceeds the limit of " +
                        std::to_string(options_.max_member_bytes) + " bytes");
        if (!drain) return;
        keep = false;
        data = {};
        continue;
      }
      data.insert(data.end(), chunk_.begin(), chunk_.begin() + static_cast<std::ptrdiff_t>(got));
    }
    if (!keep) return;
    auto bytes = std::make_shared<const std::vector<std::uint8_t>>(std::move(data));
    const std::size_t head = std::min(bytes->size(), kSniffBytes);
    if (SniffMediaKind(std::span(bytes->data(), head)) == MediaKind::kArchive) {
      if (top.depth >= options_.max_archive_depth) {
        Skip(std::move(label),
             "depth: nested archives deeper than " + std::to_string(options_.max_archive_depth));
        return;
      }
      OpenNestedArchive(std::move(bytes), std::move(label), top.depth + 1);
      return;
    }
    InputItem item;
    item.label = std::move(label);
    item.kind = InputKind::kArchiveMember;
    item.size = bytes->size();
    item.bytes = std::move(bytes);
    Yield(std::move(item));
  }

  // Ends the top-level archive being read, nested ones included, past one of its budgets:
  // the member being read (unless `member` is empty: already recorded) and the top-level
  // archive get `reason` as records, and nothing more of it is read.
  void StopArchives(std::string member, const std::string& reason) {
    if (!member.empty()) Skip(std::move(member), reason);
    Skip(archives_.front().label, reason + "; the rest was not read");
    while (!archives_.empty()) PopArchive();
  }

  // Closes the innermost open archive. Closing the top-level one leaves the share of it no
  // item took (the bytes read after its last item) to the next item.
  void PopArchive() {
    archives_.pop_back();
    if (archives_.empty()) {
      leftover_share_ += std::max(0.0, 1.0 - top_share_);
      top_share_ = 0;
    }
  }

  std::string ArchiveBudgetReason() const {
    return "too_large: archive expands past the limit of " +
           std::to_string(options_.max_archive_bytes) + " bytes";
  }

  std::vector<std::string> roots_;
  std::size_t next_root_ = 0;
  WalkOptions options_;
  std::vector<Directory> directories_;  // the folders from the current root down
  std::vector<OpenArchive> archives_;   // the archive being read and its enclosing ones
  std::deque<InputItem> pending_;
  std::uint64_t archive_bytes_ = 0;    // uncompressed bytes read under the current top archive
  std::uint64_t archive_entries_ = 0;  // entries read under it
  std::uint64_t drained_bytes_ = 0;    // bytes of refused members read through under it
  std::uint64_t top_size_ = 0;         // bytes of the top-level archive file being read
  double top_share_ = 0;               // the share of it its items took so far
  double leftover_share_ = 0;          // shares for the next item (PopArchive)
  std::vector<std::uint8_t> chunk_;
  LocalePtr utf8_locale_;  // null if the C library lacks C.UTF-8: names then as libarchive can
};

InputWalker::InputWalker(std::vector<std::string> roots, WalkOptions options)
    : state_(std::make_unique<State>(std::move(roots), options)) {}

InputWalker::~InputWalker() = default;
InputWalker::InputWalker(InputWalker&&) noexcept = default;
InputWalker& InputWalker::operator=(InputWalker&&) noexcept = default;

std::optional<InputItem> InputWalker::Next() { return state_->Next(); }

double InputWalker::LeftoverShare() const { return state_->LeftoverShare(); }

std::vector<std::string> ReadPathList(std::istream& in, bool nul_separated) {
  std::vector<std::string> paths;
  std::string entry;
  while (std::getline(in, entry, nul_separated ? '\0' : '\n')) {
    if (!nul_separated && !entry.empty() && entry.back() == '\r') entry.pop_back();
    if (!entry.empty()) paths.push_back(std::move(entry));
  }
  return paths;
}

}  // namespace celtrace
