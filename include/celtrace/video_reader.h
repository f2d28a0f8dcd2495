// VideoReader decodes the video stream of a media file with FFmpeg's libav* libraries and
// yields every frame with its presentation time in seconds (variable-frame-rate safe).
// One reader owns its libav handles; it is not thread-safe, but readers on different
// files run concurrently.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>
#include <vector>

namespace celtrace {

// A decoded frame: BGR 8-bit pixels and where it sits in the stream.
struct Frame {
  cv::Mat image;       // CV_8UC3, BGR
  double seconds = 0;  // presentation time from the stream start (pts * time base)
  // 0-based position of the frame among the frames decoded so far. After SeekTo it counts
  // decoded frames, no longer the position in the stream.
  std::int64_t index = 0;
  // With VideoReaderOptions::colour_width > 0: the frame scaled to that width (area filter,
  // aspect kept, height rounded), BGR 8-bit; otherwise empty.
  cv::Mat colour;
};

struct VideoReaderOptions {
  // Decoder threads. Default 1: callers parallelise across files (TBB), so FFmpeg's own
  // threads would oversubscribe the cores.
  int threads = 1;
  // If > 0, frames whose longer side exceeds this are scaled down (swscale, area filter)
  // so that the longer side equals it, keeping the aspect ratio. Default 0: native size.
  int max_side = 0;
  // If > 0 and the frame's longer side exceeds it, frames are scaled (area filter) to
  // square_side x square_side, ignoring the aspect ratio, as PDQ's own 64x64 decimation
  // does; overrides max_side. At 384, PDQ hashes of the scaled frames lie within a few
  // bits of full-resolution hashes (README, "Frame scaling"). Default 0: off.
  int square_side = 0;
  // If true, frames are CV_8UC1 luma (the decoder's Y plane, range-expanded by swscale)
  // instead of BGR: no colour conversion, a quarter of the bytes. PDQ bits stay within a
  // few of the BGR path's (BT.601 luma weights equal PDQ's). Default false.
  bool luma_only = false;
  // If > 0, every frame also carries a small BGR copy this many pixels wide (Frame::colour),
  // scaled from the decoded frame: the colours that luma_only leaves out, for a few bytes
  // per frame. Default 0: off.
  int colour_width = 0;

  // Hardening for untrusted files (on for every reader; the limits are generous for real
  // footage). Demuxers are limited to the containers SniffMediaKind routes to video plus
  // MXF and MPEG-TS variants (kVideoFormatAllowlist in video_reader.cpp), decoders to
  // common video and audio codecs; anything else fails to open. Default true.
  bool allowlists = true;
  // Frames with more pixels than this are refused by the decoder (AVCodecContext
  // max_pixels) and by Open() from the stream header. 0: FFmpeg's default (no limit).
  std::int64_t max_pixels = 0;
  // Past this moment, I/O and decoding stop (an FFmpeg interrupt callback, checked inside
  // demuxer reads too) and the reader throws celtrace::Error("timeout: ..."). Default: none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
};

class VideoReader {
 public:
  // Opens the file and its best video stream. The file is read through a custom FFmpeg I/O
  // context over its descriptor (never as a URL: no protocol handling). Throws
  // celtrace::Error if the file cannot be opened or holds no decodable video stream.
  explicit VideoReader(const std::filesystem::path& path, VideoReaderOptions options = {});
  // The same over an open file descriptor (read with pread from offset 0; the caller keeps
  // ownership, the reader uses a duplicate). `label` names it in errors.
  VideoReader(int fd, std::string label, VideoReaderOptions options = {});
  // Reads an encoded file held in memory (an archive member) through a custom FFmpeg I/O
  // context: no temporary file, no protocol or URL handling. `label` names it in errors.
  VideoReader(std::shared_ptr<const std::vector<std::uint8_t>> bytes, std::string label,
              VideoReaderOptions options = {});
  ~VideoReader();
  VideoReader(const VideoReader&) = delete;
  VideoReader& operator=(const VideoReader&) = delete;

  // Decodes the next frame into *frame. Returns false at the end of the stream. Throws
  // celtrace::Error on a decode error the stream cannot recover from.
  bool Read(Frame* frame);

  // Positions the reader at the first frame shown at or after `seconds` (less half a frame,
  // so that a time rounded to milliseconds still finds its frame): the next Read returns
  // it. Seeks back to a keyframe and decodes forward; a target shortly ahead of the current
  // position is reached by decoding forward only, so ascending targets cost at most one
  // decode of the file. Returns false if no frame is shown that late (the reader is then
  // at the end). Throws celtrace::Error if the stream cannot seek or decode.
  bool SeekTo(double seconds);

  int width() const;   // coded width of the stream, pixels
  int height() const;  // coded height of the stream, pixels
  // Clockwise degrees (0, 90, 180, 270) the stream's display matrix turns its frames (phone
  // video shot upright): Read returns frames turned so, as players show them. A matrix that
  // mirrors is not applied (0).
  int rotation() const;
  // Whether the stream is a cover picture (an attached picture: one frame, no timeline).
  bool attached_picture() const;
  // Whether the stream ended at damaged data (a truncated or overwritten file) rather than
  // at its end: what was read then stands, the rest was never seen.
  bool ended_at_damage() const;
  double last_seconds() const;      // time of the last frame decoded (or skipped past)
  double duration_seconds() const;  // container or stream duration; 0 if unknown
  // The video stream's own declared duration (not the container's, which a longer
  // soundtrack sets, unless the video is the file's only stream); 0 if none is declared.
  double stream_duration_seconds() const;
  double frame_rate() const;  // average frame rate; 0 if unknown

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace celtrace
