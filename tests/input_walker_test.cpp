#include "input_walker.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <locale.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <future>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <set>
#include <sstream>

#include "archive_fixture.h"
#include "celtrace/media_type.h"
#include "test_util.h"

namespace celtrace {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

using testing::Format;
using testing::MakeArchive;
using testing::Member;

// Bytes that sniff as a PNG, followed by `size` pseudo-random (incompressible) bytes.
std::string Png(unsigned seed, std::size_t size = 200) {
  std::string bytes = "\x89PNG\r\n\x1A\n";
  std::mt19937 random(seed);
  for (std::size_t i = 0; i < size; ++i) bytes.push_back(static_cast<char>(random() & 0xFF));
  return bytes;
}

std::string Blob(unsigned seed, std::size_t size) {
  std::string bytes;
  std::mt19937 random(seed);
  for (std::size_t i = 0; i < size; ++i) bytes.push_back(static_cast<char>(random() & 0xFF));
  return bytes;
}

void WriteFile(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::vector<InputItem> Walk(std::vector<std::string> roots, WalkOptions options = {}) {
  InputWalker walker(std::move(roots), options);
  std::vector<InputItem> items;
  while (auto item = walker.Next()) {
    items.push_back(std::move(*item));
    if (items.size() > 10000) break;  // a runaway walk fails below instead of hanging
  }
  return items;
}

std::string Content(const InputItem& item) {
  if (!item.bytes) return {};
  return std::string(item.bytes->begin(), item.bytes->end());
}

// One line per item, for whole-walk comparisons with readable failures.
std::string Describe(const InputItem& item) {
  switch (item.kind) {
    case InputKind::kFile:
      return "file " + item.label;
    case InputKind::kArchiveMember:
      return "member " + item.label + " " + std::to_string(item.size);
    case InputKind::kSkipped:
      return "skip " + item.label + " " + item.reason.substr(0, item.reason.find(':'));
  }
  return "?";
}

std::vector<std::string> Describe(const std::vector<InputItem>& items) {
  std::vector<std::string> lines;
  for (const InputItem& item : items) lines.push_back(Describe(item));
  return lines;
}

const InputItem* Find(const std::vector<InputItem>& items, const std::string& label) {
  for (const InputItem& item : items) {
    if (item.label == label) return &item;
  }
  return nullptr;
}

std::set<std::string> ListTree(const fs::path& root) {
  std::set<std::string> names;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    names.insert(fs::relative(entry.path(), root).string());
  }
  return names;
}

// ---- Folders ------------------------------------------------------------------------------

TEST(InputWalker, FolderWalkIsSortedAndNeverFollowsOrOpensSpecialFiles) {
  testing::TempDir dir;
  const fs::path leak = dir / "leak";
  fs::create_directories(leak / "sub" / "inner");
  fs::create_directories(leak / "sub2");
  WriteFile(leak / "b.png", Png(1));
  WriteFile(leak / "a.txt", "notes");
  WriteFile(leak / "Zed.png", Png(2));
  WriteFile(leak / "\xC3\xA9t\xC3\xA9.png", Png(3));  // UTF-8 bytes sort after ASCII
  WriteFile(leak / "sub" / "z.jpg", "\xFF\xD8\xFF\xE0 jpeg");
  WriteFile(leak / "sub" / "inner" / "y.png", Png(4));
  WriteFile(leak / "sub2" / "x.bin", "xx");
  fs::create_symlink("b.png", leak / "c-file.lnk");
  fs::create_directory_symlink("sub", leak / "d-dir.lnk");
  fs::create_symlink("loop2", leak / "loop1");
  fs::create_symlink("loop1", leak / "loop2");
  fs::create_directory_symlink(".", leak / "self");
  ASSERT_EQ(::mkfifo((leak / "fifo").c_str(), 0644), 0) << std::strerror(errno);
  const int sock = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(sock, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string sock_path = (leak / "sock").string();
  ASSERT_LT(sock_path.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, sock_path.c_str(), sock_path.size() + 1);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);

  // Opening the FIFO for reading would block until a writer comes: walk on another thread
  // and, should it hang, unblock it by opening the FIFO for writing before failing.
  auto walk = std::async(std::launch::async, [&] { return Walk({leak.string()}); });
  const bool blocked = walk.wait_for(std::chrono::seconds(5)) != std::future_status::ready;
  if (blocked) {
    const int unblock = ::open((leak / "fifo").c_str(), O_WRONLY | O_NONBLOCK);
    if (unblock >= 0) ::close(unblock);
  }
  const std::vector<InputItem> items = walk.get();
  ::close(sock);
  ASSERT_FALSE(blocked) << "the walk blocked: the FIFO was opened";

  const std::string root = leak.string();
  const std::vector<std::string> expected = {
      "file " + root + "/Zed.png",
      "file " + root + "/a.txt",
      "file " + root + "/b.png",
      "skip " + root + "/c-file.lnk symlink",
      "skip " + root + "/d-dir.lnk symlink",
      "skip " + root + "/fifo fifo",
      "skip " + root + "/loop1 symlink",
      "skip " + root + "/loop2 symlink",
      "skip " + root + "/self symlink",
      "skip " + root + "/sock socket",
      "file " + root + "/\xC3\xA9t\xC3\xA9.png",
      "file " + root + "/sub/z.jpg",
      "file " + root + "/sub/inner/y.png",
      "file " + root + "/sub2/x.bin",
  };
  EXPECT_EQ(Describe(items), expected);

  const InputItem* png = Find(items, root + "/b.png");
  ASSERT_NE(png, nullptr);
  EXPECT_EQ(png->path, leak / "b.png");
  EXPECT_EQ(png->size, Png(1).size());
  EXPECT_EQ(png->bytes, nullptr);
  EXPECT_EQ(Find(items, root + "/fifo")->reason, "fifo: not opened");
  EXPECT_EQ(Find(items, root + "/d-dir.lnk")->reason, "symlink: not followed");

  // Same tree, same walk.
  EXPECT_EQ(Describe(Walk({leak.string()})), expected);
}

TEST(InputWalker, RootsAreWalkedInTheOrderGiven) {
  testing::TempDir dir;
  WriteFile(dir / "one.png", Png(1));
  fs::create_directories(dir / "folder");
  WriteFile(dir / "folder" / "two.png", Png(2));
  fs::create_symlink("one.png", dir / "link.png");
  fs::create_directory_symlink("folder", dir / "folder.lnk");
  const std::string one = (dir / "one.png").string();
  const std::string folder = (dir / "folder").string() + "/";
  const std::string missing = (dir / "missing.png").string();
  const std::string link = (dir / "link.png").string();
  const std::string folder_link = (dir / "folder.lnk").string();
  const std::string under_file = (dir / "one.png" / "x").string();

  // Constructing touches nothing, so bad roots cannot fail here.
  InputWalker lazy({missing});

  const auto items = Walk({one, missing, folder, link, folder_link, under_file, folder_link + "/"});
  ASSERT_EQ(items.size(), 7u);
  EXPECT_EQ(Describe(items[0]), "file " + one);
  EXPECT_EQ(items[0].path, dir / "one.png");
  EXPECT_EQ(items[1].label, missing);
  EXPECT_EQ(items[1].reason, "missing: no such file");
  // A trailing slash is kept as given and not doubled.
  EXPECT_EQ(Describe(items[2]), "file " + folder + "two.png");
  EXPECT_EQ(items[3].reason, "symlink: not followed");
  EXPECT_EQ(items[4].reason, "symlink: not followed");
  EXPECT_EQ(items[5].label, under_file);
  EXPECT_EQ(items[5].reason, "missing: no such file");
  // A trailing slash would make the kernel follow the link; it is still not followed.
  EXPECT_EQ(items[6].label, folder_link + "/");
  EXPECT_EQ(items[6].reason, "symlink: not followed");

  EXPECT_TRUE(Walk({}).empty());
}

TEST(InputWalker, UnreadableFilesAndFoldersAreReported) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads everything";
  testing::TempDir dir;
  WriteFile(dir / "locked.png", Png(5));
  fs::create_directories(dir / "locked");
  WriteFile(dir / "locked" / "inside.png", Png(6));
  fs::permissions(dir / "locked.png", fs::perms::none);
  fs::permissions(dir / "locked", fs::perms::none);
  const auto items = Walk({dir.path().string()});
  fs::permissions(dir / "locked", fs::perms::owner_all);  // so that TempDir can remove it
  const std::string base = dir.path().string();
  EXPECT_EQ(Describe(items), (std::vector<std::string>{"skip " + base + "/locked.png unreadable",
                                                       "skip " + base + "/locked unreadable"}));
}

// ---- Archives -----------------------------------------------------------------------------

TEST(InputWalker, ZipMembersComeInStoredOrderWithFolderPathsInLabels) {
  testing::TempDir dir;
  const std::string zip =
      MakeArchive(Format::kZip, {{.path = "dir/", .type = AE_IFDIR},
                                 {.path = "dir/sub/", .type = AE_IFDIR},
                                 {.path = "dir/sub/b.png", .data = Png(10)},
                                 {.path = "./top.png", .data = Png(11)},
                                 {.path = "dir/notes.txt", .data = "production notes"},
                                 {.path = "dir/empty.bin", .data = ""},
                                 {.path = "dir/link", .type = AE_IFLNK, .link = "../top.png"}});
  const std::string label = (dir / "x.zip").string();
  WriteFile(label, zip);

  const auto items = Walk({label});
  const std::vector<std::string> expected = {
      "member " + label + "!/dir/sub/b.png " + std::to_string(Png(10).size()),
      "member " + label + "!/top.png " + std::to_string(Png(11).size()),
      "member " + label + "!/dir/notes.txt 16",
      "member " + label + "!/dir/empty.bin 0",
      "skip " + label + "!/dir/link symlink",
  };
  EXPECT_EQ(Describe(items), expected);
  ASSERT_EQ(items.size(), expected.size());
  EXPECT_EQ(Content(items[0]), Png(10));
  EXPECT_EQ(Content(items[1]), Png(11));
  EXPECT_EQ(Content(items[2]), "production notes");
  ASSERT_NE(items[3].bytes, nullptr);
  EXPECT_TRUE(items[3].bytes->empty());
  EXPECT_EQ(items[4].reason, "symlink: not followed");
}

TEST(InputWalker, TarGzMembersAndSpecialEntries) {
  testing::TempDir dir;
  WriteFile(dir / "frames.tar.gz",
            MakeArchive(Format::kTarGz,
                        {{.path = "frames/", .type = AE_IFDIR},
                         {.path = "frames/001.png", .data = Png(20)},
                         {.path = "frames/again.png", .link = "frames/001.png", .hardlink = true},
                         {.path = "frames/latest", .type = AE_IFLNK, .link = "001.png"},
                         {.path = "frames/pipe", .type = AE_IFIFO},
                         {.path = "frames/null", .type = AE_IFCHR},
                         {.path = "frames/002.png", .data = Png(21, 70000)}}));
  // Member bytes arrive in 64 KiB chunks: 002.png spans two.
  const std::string label = (dir / "frames.tar.gz").string();
  const auto items = Walk({label});
  const std::vector<std::string> expected = {
      "member " + label + "!/frames/001.png " + std::to_string(Png(20).size()),
      "skip " + label + "!/frames/again.png hardlink",
      "skip " + label + "!/frames/latest symlink",
      "skip " + label + "!/frames/pipe fifo",
      "skip " + label + "!/frames/null device",
      "member " + label + "!/frames/002.png " + std::to_string(Png(21, 70000).size()),
  };
  EXPECT_EQ(Describe(items), expected);
  ASSERT_EQ(items.size(), expected.size());
  EXPECT_EQ(Content(items[0]), Png(20));
  EXPECT_EQ(Content(items[5]), Png(21, 70000));
}

TEST(InputWalker, SevenZipSingleCompressedStreamsAndSniffingByContent) {
  testing::TempDir dir;
  WriteFile(dir / "a.7z", MakeArchive(Format::kSevenZip, {{.path = "s/a.png", .data = Png(30)},
                                                          {.path = "s/b.png", .data = Png(31)}}));
  WriteFile(dir / "frame.png.gz", MakeArchive(Format::kGzip, {{.path = "x", .data = Png(32)}}));
  // Names lie: a PNG called .zip is a file, a zip called .png is an archive.
  WriteFile(dir / "looks.zip", Png(33));
  WriteFile(dir / "looks.png", MakeArchive(Format::kZip, {{.path = "in.png", .data = Png(34)}}));
  // Archive magic with nothing behind it is reported, not misread as a raw stream.
  WriteFile(dir / "bzh.txt", "BZh is how this text file starts");
  const std::string base = dir.path().string();

  const auto items = Walk({base + "/a.7z", base + "/frame.png.gz", base + "/looks.zip",
                           base + "/looks.png", base + "/bzh.txt"});
  const std::vector<std::string> expected = {
      "member " + base + "/a.7z!/s/a.png " + std::to_string(Png(30).size()),
      "member " + base + "/a.7z!/s/b.png " + std::to_string(Png(31).size()),
      "member " + base + "/frame.png.gz!/frame.png " + std::to_string(Png(32).size()),
      "file " + base + "/looks.zip",
      "member " + base + "/looks.png!/in.png " + std::to_string(Png(34).size()),
      "file " + base + "/bzh.txt",  // text, not a bzip2 stream (no block size, no block)
  };
  EXPECT_EQ(Describe(items), expected);
  ASSERT_EQ(items.size(), expected.size());
  EXPECT_EQ(Content(items[1]), Png(31));
  EXPECT_EQ(Content(items[2]), Png(32));
  EXPECT_EQ(Content(items[4]), Png(34));
}

// Containers libarchive and FFmpeg read that the sniffer missed (their members were never
// examined: an `unsupported` record), and texts it took for a bitmap or a bzip2 stream.
TEST(InputWalker, SniffingKnowsMoreContainersAndFewerTexts) {
  using Bytes = std::vector<std::uint8_t>;
  auto bytes = [](std::string_view text) { return Bytes(text.begin(), text.end()); };
  // A tar without the ustar magic (v7): the header's checksum identifies it.
  std::string v7 = MakeArchive(Format::kUstar, {{.path = "v7frame.png", .data = Png(35)}});
  ASSERT_GE(v7.size(), 512u);
  std::fill(v7.begin() + 257, v7.begin() + 265, '\0');  // magic and version
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(v7[i]);
  }
  char checksum[8];
  std::snprintf(checksum, sizeof(checksum), "%06o", sum);
  std::memcpy(v7.data() + 148, checksum, 7);  // six digits, NUL; the eighth stays a space
  EXPECT_EQ(SniffMediaKind(bytes(v7)), MediaKind::kArchive);
  std::string broken = v7;
  broken[0] ^= 1;  // the checksum no longer matches
  EXPECT_EQ(SniffMediaKind(bytes(broken)), MediaKind::kUnknown);
  testing::TempDir dir;
  WriteFile(dir / "v7.tar", v7);
  const auto items = Walk({(dir / "v7.tar").string()});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].label, (dir / "v7.tar").string() + "!/v7frame.png");
  EXPECT_EQ(Content(items[0]), Png(35));

  std::string m2ts(3 * 192 + 8, '\0');  // 192-byte packets: a timestamp, then 0x47
  for (size_t packet = 0; packet < 3; ++packet) m2ts[packet * 192 + 4] = 0x47;
  EXPECT_EQ(SniffMediaKind(bytes(m2ts)), MediaKind::kVideo);
  EXPECT_EQ(SniffMediaKind(bytes(std::string("\x04\x22\x4D\x18\x64\x40\xA7", 7))),
            MediaKind::kArchive);  // lz4 frame
  EXPECT_EQ(
      SniffMediaKind(bytes(std::string("\x5D\0\0\x80\0\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 13))),
      MediaKind::kArchive);  // .lzma, 8 MiB dictionary, size unknown
  EXPECT_EQ(SniffMediaKind(bytes("070702000000")), MediaKind::kArchive);  // cpio with CRCs
  EXPECT_EQ(SniffMediaKind(bytes("BZh91AY&SY")), MediaKind::kArchive);    // bzip2 block
  EXPECT_EQ(SniffMediaKind(bytes("BZh is how this text file starts")), MediaKind::kUnknown);
  EXPECT_EQ(SniffMediaKind(bytes("BMW notes: service in March, tyres in May")),
            MediaKind::kUnknown);
  std::vector<std::uint8_t> bmp;
  ASSERT_TRUE(cv::imencode(".bmp", cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)), bmp));
  EXPECT_EQ(SniffMediaKind(bmp), MediaKind::kImage);
}

// An ISO 9660 image's mark lies past its 32 KiB system area, beyond the 1,024 bytes sniffed
// before 2026-12-07: such an image was an `unsupported` record, its files never examined.
// (WARC and xar stay unrecognised: libarchive 3.6's readers give wrong member bytes, WARC's
// four zero bytes too many, xar's from the wrong offset, README "Known gaps".)
TEST(InputWalker, DiscImagesAreOpened) {
  testing::TempDir dir;
  const std::vector<Member> members = {{.path = "frame.png", .data = Png(36)},
                                       {.path = "cels/b.png", .data = Png(37)},
                                       {.path = "notes.txt", .data = std::string(70000, 'n')}};
  const std::vector<std::pair<Format, std::string>> formats = {{Format::kIso9660, "disc.iso"}};
  for (const auto& [format, name] : formats) {
    SCOPED_TRACE(name);
    const std::string bytes = MakeArchive(format, members);
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(SniffMediaKind(std::vector<std::uint8_t>(bytes.begin(), bytes.end())),
              MediaKind::kArchive);
    // On disk, and inside a zip (a nested archive is sniffed from the member's bytes).
    WriteFile(dir / name, bytes);
    WriteFile(dir / (name + ".zip"), MakeArchive(Format::kZip, {{.path = name, .data = bytes}}));
    for (const std::string& root : {name, name + ".zip"}) {
      const std::string prefix = (dir / root).string() + (root == name ? "" : "!/" + name) + "!/";
      std::map<std::string, std::string> found;
      for (const InputItem& item : Walk({(dir / root).string()})) {
        EXPECT_EQ(item.kind, InputKind::kArchiveMember) << item.label << ": " << item.reason;
        found[item.label] = Content(item);
      }
      std::map<std::string, std::string> expected;
      for (const Member& member : members) expected[prefix + member.path] = member.data;
      EXPECT_EQ(found, expected) << root;
    }
  }
  // Not an ISO image: "CD001" where a descriptor would be, but of no known type.
  std::vector<std::uint8_t> fake(32768 + 2048, 0);
  const std::string mark =
      "\x07"
      "CD001"
      "\x01";
  std::copy(mark.begin(), mark.end(), fake.begin() + 32768);
  EXPECT_EQ(SniffMediaKind(fake), MediaKind::kUnknown);
  fake[32768] = 1;  // a primary volume descriptor
  EXPECT_EQ(SniffMediaKind(fake), MediaKind::kArchive);
}

TEST(InputWalker, NestedArchivesAreOpenedFromMemoryUpToTheDepthLimit) {
  testing::TempDir dir;
  const std::string png_tar = MakeArchive(Format::kTar, {{.path = "c.png", .data = Png(40)}});
  WriteFile(dir / "outer.zip", MakeArchive(Format::kZip, {{.path = "before.png", .data = Png(41)},
                                                          {.path = "inner.tar", .data = png_tar},
                                                          {.path = "after.png", .data = Png(42)}}));
  const std::string deep_zip = MakeArchive(Format::kZip, {{.path = "p.png", .data = Png(43)}});
  const std::string mid_tar = MakeArchive(Format::kTar, {{.path = "deep.zip", .data = deep_zip}});
  WriteFile(dir / "nest.zip", MakeArchive(Format::kZip, {{.path = "mid.tar", .data = mid_tar}}));
  const std::string outer = (dir / "outer.zip").string();
  const std::string nest = (dir / "nest.zip").string();

  const auto items = Walk({outer, nest});
  const std::vector<std::string> expected = {
      "member " + outer + "!/before.png " + std::to_string(Png(41).size()),
      "member " + outer + "!/inner.tar!/c.png " + std::to_string(Png(40).size()),
      "member " + outer + "!/after.png " + std::to_string(Png(42).size()),
      "member " + nest + "!/mid.tar!/deep.zip!/p.png " + std::to_string(Png(43).size()),
  };
  EXPECT_EQ(Describe(items), expected);
  ASSERT_EQ(items.size(), expected.size());
  EXPECT_EQ(Content(items[1]), Png(40));
  EXPECT_EQ(Content(items[3]), Png(43));

  // Depth 2: the zip inside the tar inside the zip would be depth 3.
  const auto shallow = Walk({nest}, {.max_archive_depth = 2});
  ASSERT_EQ(shallow.size(), 1u);
  EXPECT_EQ(shallow[0].label, nest + "!/mid.tar!/deep.zip");
  EXPECT_EQ(shallow[0].kind, InputKind::kSkipped);
  EXPECT_EQ(shallow[0].reason, "depth: nested archives deeper than 2");

  const auto closed = Walk({nest}, {.max_archive_depth = 0});
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].label, nest);
  EXPECT_TRUE(closed[0].reason.starts_with("depth:")) << closed[0].reason;
}

// Progress counts the inputs named, an archive's records sharing its one by the bytes of it
// read: before 2026-12-07 every record counted as an input, so a leak of one zip read
// "5000/1 inputs, 100%" from its second file on.
TEST(InputWalker, AnArchivesRecordsShareItsOneInputByBytesRead) {
  testing::TempDir dir;
  fs::create_directories(dir / "leak");
  WriteFile(dir / "leak" / "a.png", Png(60));
  WriteFile(dir / "leak" / "b.png", Png(61));
  // Three incompressible members of 300 KB, several read chunks each, and a nested tar.
  const std::string tar = MakeArchive(Format::kTar, {{.path = "n1.png", .data = Png(62, 1000)},
                                                     {.path = "n2.png", .data = Png(63, 1000)}});
  WriteFile(dir / "leak" / "c.zip",
            MakeArchive(Format::kZip, {{.path = "m1.png", .data = Png(64, 300000)},
                                       {.path = "m2.png", .data = Png(65, 300000)},
                                       {.path = "inner.tar", .data = tar},
                                       {.path = "m3.png", .data = Png(66, 300000)}}));
  WriteFile(dir / "one.zip", MakeArchive(Format::kZip, {{.path = "x.png", .data = Png(67)}}));
  InputWalker walker(
      {(dir / "leak").string(), (dir / "missing.png").string(), (dir / "one.zip").string()});
  std::map<std::string, double> shares;
  double sum = 0;
  while (auto item = walker.Next()) {
    EXPECT_GE(item->input_share, 0) << item->label;
    std::string key = item->label.substr(dir.path().string().size() + 1);
    if (key.starts_with("leak/")) key = key.substr(5);
    shares[key] = item->input_share;
    sum += item->input_share;
  }
  sum += walker.LeftoverShare();
  // Five inputs: a.png, b.png, c.zip, the missing root and one.zip.
  EXPECT_NEAR(sum, 5.0, 1e-9);
  EXPECT_EQ(shares.size(), 9u);
  EXPECT_EQ(shares["a.png"], 1);
  // The zip's end (its central directory, read after its last member) goes to the next item.
  EXPECT_GE(shares["missing.png"], 1);
  EXPECT_LT(shares["missing.png"], 1.1);
  // The zip's records share its one as its bytes went by: each big member a good part.
  const double zip = shares["c.zip!/m1.png"] + shares["c.zip!/m2.png"] +
                     shares["c.zip!/inner.tar!/n1.png"] + shares["c.zip!/inner.tar!/n2.png"] +
                     shares["c.zip!/m3.png"];
  EXPECT_LE(zip, 1.0 + 1e-9);
  for (const char* member : {"c.zip!/m2.png", "c.zip!/m3.png"}) {
    EXPECT_GT(shares[member], 0.2) << member;
    EXPECT_LT(shares[member], 0.5) << member;
  }
}

TEST(InputWalker, ArchivesWithoutFilesStillGetARecord) {
  testing::TempDir dir;
  WriteFile(dir / "dirs.zip", MakeArchive(Format::kZip, {{.path = "only/", .type = AE_IFDIR}}));
  const std::string empty_zip = MakeArchive(Format::kZip, {});
  WriteFile(dir / "holder.zip", MakeArchive(Format::kZip, {{.path = "none.zip", .data = empty_zip},
                                                           {.path = "x.png", .data = Png(45)}}));
  const std::string dirs = (dir / "dirs.zip").string();
  const std::string holder = (dir / "holder.zip").string();
  const std::vector<std::string> expected = {
      "skip " + dirs + " empty",
      "skip " + holder + "!/none.zip empty",
      "member " + holder + "!/x.png " + std::to_string(Png(45).size()),
  };
  const auto items = Walk({dirs, holder});
  EXPECT_EQ(Describe(items), expected);
  ASSERT_EQ(items.size(), expected.size());
  EXPECT_EQ(items[0].reason, "empty: no files in the archive");
}

TEST(InputWalker, HostileMemberNamesStayLabelsAndNothingIsWritten) {
  testing::TempDir dir;
  const fs::path work = dir / "work";
  fs::create_directories(work);
  const std::vector<Member> hostile = {{.path = "../evil.png", .data = Png(50)},
                                       {.path = "/abs.png", .data = Png(51)},
                                       {.path = "a/../../evil2.png", .data = Png(52)}};
  WriteFile(work / "evil.tar", MakeArchive(Format::kTar, hostile));
  WriteFile(work / "evil.zip", MakeArchive(Format::kZip, hostile));
  const std::set<std::string> before = ListTree(dir.path());
  const bool abs_existed = fs::exists("/abs.png");
  const std::string tar = (work / "evil.tar").string();
  const std::string zip = (work / "evil.zip").string();

  const auto items = Walk({tar, zip});
  const std::vector<std::string> expected = {
      "member " + tar + "!/../evil.png " + std::to_string(Png(50).size()),
      "member " + tar + "!//abs.png " + std::to_string(Png(51).size()),
      "member " + tar + "!/a/../../evil2.png " + std::to_string(Png(52).size()),
      "member " + zip + "!/../evil.png " + std::to_string(Png(50).size()),
      "member " + zip + "!//abs.png " + std::to_string(Png(51).size()),
      "member " + zip + "!/a/../../evil2.png " + std::to_string(Png(52).size()),
  };
  EXPECT_EQ(Describe(items), expected);
  EXPECT_EQ(ListTree(dir.path()), before);
  EXPECT_FALSE(fs::exists(dir / "evil.png"));
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "evil2.png"));
  EXPECT_EQ(fs::exists("/abs.png"), abs_existed);
}

// The test runs in the "C" locale, where libarchive cannot convert UTF-8 names by itself.
TEST(InputWalker, MemberNamesKeepTheirBytes) {
  testing::TempDir dir;
  const std::string utf8 = "caf\xC3\xA9/\xE5\xB8\xA7.png";
  // hdrcharset=UTF-8 sets the zip's UTF-8 flag, as most zip tools do for such names.
  WriteFile(dir / "utf8.zip",
            MakeArchive(Format::kZip, {{.path = utf8, .data = Png(55), .utf8_name = true}},
                        "zip:hdrcharset=UTF-8"));
  WriteFile(dir / "utf8.tar",
            MakeArchive(Format::kTar, {{.path = utf8, .data = Png(56), .utf8_name = true}}));
  // ustar stores names as bytes, here Latin-1: not UTF-8, and kept so.
  WriteFile(dir / "latin1.tar",
            MakeArchive(Format::kUstar, {{.path = "caf\xE9.png", .data = Png(57)}}));
  // A name flagged UTF-8 that is not: libarchive gives no name at all.
  std::string bad =
      MakeArchive(Format::kZip, {{.path = "caf\xC3\xA9.png", .data = Png(58), .utf8_name = true}},
                  "zip:hdrcharset=UTF-8");
  for (std::size_t at = bad.find("caf\xC3\xA9"); at != std::string::npos;
       at = bad.find("caf\xC3\xA9")) {
    bad.replace(at, 5, "caf\xE9\xE9");
  }
  WriteFile(dir / "bad.zip", bad);
  const std::string base = dir.path().string();

  const auto items =
      Walk({base + "/utf8.zip", base + "/utf8.tar", base + "/latin1.tar", base + "/bad.zip"});
  const std::vector<std::string> expected = {
      "member " + base + "/utf8.zip!/" + utf8 + " " + std::to_string(Png(55).size()),
      "member " + base + "/utf8.tar!/" + utf8 + " " + std::to_string(Png(56).size()),
      "member " + base + "/latin1.tar!/caf\xE9.png " + std::to_string(Png(57).size()),
      "member " + base + "/bad.zip!/(unreadable name, entry 1) " + std::to_string(Png(58).size()),
  };
  EXPECT_EQ(Describe(items), expected);
}

TEST(InputWalker, TruncatedArchiveYieldsWhatWasReadThenOneCorruptRecord) {
  testing::TempDir dir;
  const std::string zip = MakeArchive(Format::kZip, {{.path = "a.png", .data = Png(60, 1000)},
                                                     {.path = "b.png", .data = Png(61, 1000)},
                                                     {.path = "c.png", .data = Png(62, 1000)}});
  WriteFile(dir / "cut.zip", zip.substr(0, zip.size() / 2));
  // Archive magic, then garbage: nothing can be read at all.
  WriteFile(dir / "junk.7z", "7z\xBC\xAF\x27\x1C" + Blob(63, 500));
  const std::string cut = (dir / "cut.zip").string();
  const std::string junk = (dir / "junk.7z").string();

  const auto items = Walk({cut, junk});
  ASSERT_GE(items.size(), 3u);
  EXPECT_EQ(Describe(items[0]),
            "member " + cut + "!/a.png " + std::to_string(Png(60, 1000).size()));
  EXPECT_EQ(Content(items[0]), Png(60, 1000));
  // The member cut in half is never handed out as content.
  for (const InputItem& item : items) {
    if (item.kind == InputKind::kArchiveMember) {
      EXPECT_EQ(item.label, cut + "!/a.png");
    }
  }
  const InputItem& cut_record = items[items.size() - 2];
  EXPECT_EQ(cut_record.label, cut);
  EXPECT_EQ(cut_record.kind, InputKind::kSkipped);
  EXPECT_TRUE(cut_record.reason.starts_with("corrupt: ")) << cut_record.reason;
  const InputItem& junk_record = items.back();
  EXPECT_EQ(junk_record.label, junk);
  EXPECT_TRUE(junk_record.reason.starts_with("corrupt: ")) << junk_record.reason;
  for (std::size_t i = 1; i + 2 < items.size(); ++i) {
    EXPECT_EQ(items[i].kind, InputKind::kSkipped) << Describe(items[i]);
  }
}

TEST(InputWalker, OversizedMembersAreSkippedWhateverTheHeaderSays) {
  testing::TempDir dir;
  WriteFile(dir / "sizes.zip", MakeArchive(Format::kZip, {{.path = "999", .data = Blob(70, 999)},
                                                          {.path = "1000", .data = Blob(71, 1000)},
                                                          {.path = "1001", .data = Blob(72, 1001)},
                                                          {.path = "small", .data = "ok"}}));
  // A lone gzip stream declares no size: the limit is found while reading.
  WriteFile(dir / "big.bin.gz",
            MakeArchive(Format::kGzip, {{.path = "x", .data = Blob(73, 5000)}}));
  const std::string zip = (dir / "sizes.zip").string();
  const std::string gz = (dir / "big.bin.gz").string();

  const auto items = Walk({zip, gz}, {.max_member_bytes = 1000});
  const std::vector<std::string> expected = {
      "member " + zip + "!/999 999",        "member " + zip + "!/1000 1000",
      "skip " + zip + "!/1001 too_large",   "member " + zip + "!/small 2",
      "skip " + gz + "!/big.bin too_large",
  };
  EXPECT_EQ(Describe(items), expected);
  ASSERT_EQ(items.size(), expected.size());
  EXPECT_EQ(Content(items[1]), Blob(71, 1000));
}

TEST(InputWalker, ArchiveByteBudgetAndEntryLimitAreHonoured) {
  testing::TempDir dir;
  std::vector<Member> five;
  for (unsigned i = 0; i < 5; ++i) {
    five.push_back({.path = "m" + std::to_string(i), .data = Blob(80 + i, 1000)});
  }
  WriteFile(dir / "five.zip", MakeArchive(Format::kZip, five));
  WriteFile(dir / "next.zip", MakeArchive(Format::kZip, {five[0], five[1]}));
  const std::string zip = (dir / "five.zip").string();
  const std::string next = (dir / "next.zip").string();

  // The budget is per top-level archive: next.zip starts afresh. Past it, the member being
  // read and the archive get records and the rest is not read (before, each later member was
  // read up to the budget again and got a record of its own, the archive none).
  const auto budget = Walk({zip, next}, {.max_archive_bytes = 2500});
  const std::vector<std::string> budget_expected = {
      "member " + zip + "!/m0 1000",    "member " + zip + "!/m1 1000",
      "skip " + zip + "!/m2 too_large", "skip " + zip + " too_large",
      "member " + next + "!/m0 1000",   "member " + next + "!/m1 1000",
  };
  EXPECT_EQ(Describe(budget), budget_expected);
  ASSERT_EQ(budget.size(), budget_expected.size());
  EXPECT_EQ(budget[3].reason,
            "too_large: archive expands past the limit of 2500 bytes; the rest "
            "was not read");

  // Entries count over the top-level archive, nested archives included.
  WriteFile(
      dir / "outer.zip",
      MakeArchive(Format::kZip, {{.path = "inner.zip", .data = MakeArchive(Format::kZip, five)}}));
  const std::string outer = (dir / "outer.zip").string();
  const auto nested = Walk({outer}, {.max_archive_entries = 4});
  const std::vector<std::string> nested_expected = {
      "member " + outer + "!/inner.zip!/m0 1000", "member " + outer + "!/inner.zip!/m1 1000",
      "member " + outer + "!/inner.zip!/m2 1000", "skip " + outer + " too_large"};
  EXPECT_EQ(Describe(nested), nested_expected);

  const auto entries = Walk({zip, next}, {.max_archive_entries = 3});
  const std::vector<std::string> entries_expected = {
      "member " + zip + "!/m0 1000", "member " + zip + "!/m1 1000",  "member " + zip + "!/m2 1000",
      "skip " + zip + " too_large",  "member " + next + "!/m0 1000", "member " + next + "!/m1 1000",
  };
  EXPECT_EQ(Describe(entries), entries_expected);
  ASSERT_EQ(entries.size(), entries_expected.size());
  EXPECT_EQ(entries[3].reason, "too_large: more than 3 entries; the rest was not read");
}

TEST(InputWalker, EncryptedMembersAreSkipped) {
  testing::TempDir dir;
  const std::string zip = MakeArchive(Format::kZip, {{.path = "secret.png", .data = Png(90)}},
                                      "zip:encryption=zipcrypt", "pw");
  if (zip.empty()) GTEST_SKIP() << "this libarchive cannot write encrypted zips";
  WriteFile(dir / "secret.zip", zip);
  const std::string label = (dir / "secret.zip").string();
  const auto items = Walk({label});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].label, label + "!/secret.png");
  EXPECT_EQ(items[0].kind, InputKind::kSkipped);
  EXPECT_TRUE(items[0].reason.starts_with("encrypted: ")) << items[0].reason;
}

// ---- Path lists ---------------------------------------------------------------------------

TEST(ReadPathList, SplitsOnNewlinesOrNulsAndSkipsEmptyEntries) {
  std::istringstream lines("a.png\nleak/b c.png\r\n\n\n dir/\nlast");
  EXPECT_EQ(ReadPathList(lines, false),
            (std::vector<std::string>{"a.png", "leak/b c.png", " dir/", "last"}));

  const std::string nul_text = "one\0two\nlines\0\0three\r\0"s;
  std::istringstream nuls(nul_text);
  EXPECT_EQ(ReadPathList(nuls, true), (std::vector<std::string>{"one", "two\nlines", "three\r"}));

  std::istringstream empty("");
  EXPECT_TRUE(ReadPathList(empty, false).empty());
}

}  // namespace
}  // namespace celtrace
