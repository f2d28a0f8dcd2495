// Archives written in memory with libarchive's write API, for the walker's and the hostile
// inputs' tests. Test-only; each call is independent.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <locale.h>
#include <sys/sysmacros.h>

#include <memory>
#include <string>
#include <vector>

namespace celtrace::testing {

struct Member {
  std::string path{};
  std::string data{};
  unsigned type = AE_IFREG;
  std::string link{};     // symlink target, or the hard-linked path when `hardlink`
  bool hardlink = false;  // a tar hard link: no data of its own
  bool utf8_name = false;
};

enum class Format { kZip, kTar, kUstar, kTarGz, kSevenZip, kGzip, kIso9660 };

struct ArchiveWriteDeleter {
  void operator()(archive* handle) const noexcept { archive_write_free(handle); }
};
struct EntryDeleter {
  void operator()(archive_entry* entry) const noexcept { archive_entry_free(entry); }
};

inline la_ssize_t AppendToString(archive*, void* out, const void* data, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(data), size);
  return static_cast<la_ssize_t>(size);
}

// Sets this thread's locale to C.UTF-8 for the scope. libarchive 3.6's pax writer dereferences
// a null name when a UTF-8 name cannot be converted to the locale's charset, as in "C".
class Utf8Scope {
 public:
  Utf8Scope() : locale_(newlocale(LC_CTYPE_MASK, "C.UTF-8", nullptr)) {
    if (locale_ != nullptr) previous_ = uselocale(locale_);
  }
  ~Utf8Scope() {
    if (previous_ != nullptr) uselocale(previous_);
    if (locale_ != nullptr) freelocale(locale_);
  }
  Utf8Scope(const Utf8Scope&) = delete;
  Utf8Scope& operator=(const Utf8Scope&) = delete;

 private:
  locale_t locale_;
  locale_t previous_ = nullptr;
};

// Returns the archive's bytes; `options` go to archive_write_set_options (e.g. encryption).
inline std::string MakeArchive(Format format, const std::vector<Member>& members,
                               const char* options = nullptr, const char* passphrase = nullptr) {
  const Utf8Scope utf8;
  std::unique_ptr<archive, ArchiveWriteDeleter> writer(archive_write_new());
  archive* a = writer.get();
  switch (format) {
    case Format::kZip:
      archive_write_set_format_zip(a);
      break;
    case Format::kTar:
      archive_write_set_format_pax_restricted(a);
      break;
    case Format::kUstar:
      archive_write_set_format_ustar(a);
      break;
    case Format::kTarGz:
      archive_write_set_format_pax_restricted(a);
      archive_write_add_filter_gzip(a);
      break;
    case Format::kSevenZip:
      archive_write_set_format_7zip(a);
      break;
    case Format::kGzip:
      archive_write_set_format_raw(a);
      archive_write_add_filter_gzip(a);
      break;
    case Format::kIso9660:
      archive_write_set_format_iso9660(a);
      break;
  }
  if (options != nullptr && archive_write_set_options(a, options) != ARCHIVE_OK) return "";
  if (passphrase != nullptr) archive_write_set_passphrase(a, passphrase);
  // No padding to a 10 KiB block: the archives are read from memory, exactly as written.
  archive_write_set_bytes_in_last_block(a, 1);
  std::string out;
  EXPECT_EQ(archive_write_open(a, &out, nullptr, AppendToString, nullptr), ARCHIVE_OK)
      << archive_error_string(a);
  for (const Member& member : members) {
    std::unique_ptr<archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry* e = entry.get();
    if (member.utf8_name) {
      archive_entry_set_pathname_utf8(e, member.path.c_str());
    } else {
      archive_entry_set_pathname(e, member.path.c_str());
    }
    archive_entry_set_perm(e, 0644);
    archive_entry_set_mtime(e, 1700000000, 0);
    if (member.hardlink) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, member.link.c_str());
      archive_entry_set_size(e, 0);
    } else {
      archive_entry_set_filetype(e, member.type);
      if (member.type == AE_IFLNK) archive_entry_set_symlink(e, member.link.c_str());
      if (member.type == AE_IFCHR) archive_entry_set_rdev(e, makedev(1, 3));
      archive_entry_set_size(e, member.type == AE_IFREG ? member.data.size() : 0);
    }
    EXPECT_GE(archive_write_header(a, e), ARCHIVE_WARN) << archive_error_string(a);
    if (member.type == AE_IFREG && !member.hardlink && !member.data.empty()) {
      EXPECT_EQ(archive_write_data(a, member.data.data(), member.data.size()),
                static_cast<la_ssize_t>(member.data.size()))
          << archive_error_string(a);
    }
  }
  EXPECT_EQ(archive_write_close(a), ARCHIVE_OK) << archive_error_string(a);
  return out;
}

}  // namespace celtrace::testing
