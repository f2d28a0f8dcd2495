#include "celtrace/video_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <utility>

#include "celtrace/error.h"
#include "libav_handles.h"

extern "C" {
#include <libavutil/display.h>
}

namespace celtrace {
namespace {

// Native-size conversion. vPDQ hashes frames that swscale converted to RGB24 at full
// resolution, but without SWS_ACCURATE_RND swscale takes a fast (SIMD on x86) YUV->RGB
// path that ignores the scaler flags. The accurate path is portable and, measured on the
// ThreatExchange sample videos, lands closer to vPDQ's reference hashes than the fast one.
constexpr int kNativeSwsFlags = SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;
// Downscaling: the area filter averages every source pixel, so thin line art survives.
constexpr int kShrinkSwsFlags = SWS_AREA | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT;

// Undecodable packets/frames after which a stream that has not produced a single frame
// yet is declared broken instead of being read to the end.
constexpr int kMaxErrorsBeforeFirstFrame = 1000;

// SeekTo decodes forward instead of seeking when the target lies at most this far ahead: a
// seek decodes from the previous keyframe anyway, and broadcast GOPs run 0.5-10 s.
constexpr double kForwardDecodeSeconds = 5;
// How much earlier SeekTo asks the demuxer to land when a seek overshot the target
// (containers with sparse or inexact keyframe indexes); the last try reads from the start.
constexpr double kSeekBackoffSeconds[] = {0, 2, 10, 60};

// Demuxers a hostile file may reach (VideoReaderOptions::allowlists): the containers that
// SniffMediaKind routes to video, plus MXF for broadcast footage. FFmpeg matches any name of
// a demuxer's comma-separated list ("mov,mp4,m4a,3gp,3g2,mj2").
constexpr const char* kVideoFormatAllowlist = "mov,matroska,avi,mpegts,mpeg,flv,ogg,asf,mxf";
// Decoders: common video codecs, and the audio codecs avformat_find_stream_info may open
// while probing the other streams of a file.
constexpr const char* kCodecAllowlist =
    "h264,hevc,mpeg4,mpeg2video,mpeg1video,vp8,vp9,av1,libdav1d,libaom-av1,prores,dnxhd,mjpeg,"
    "theora,wmv1,wmv2,wmv3,vc1,msmpeg4,msmpeg4v1,msmpeg4v2,h263,flv,ffv1,rawvideo,png,qtrle,"
    "huffyuv,utvideo,cinepak,aac,aac_fixed,mp3,mp3float,mp2,mp2float,ac3,ac3_fixed,eac3,opus,"
    "libopus,vorbis,flac,alac,wmav1,wmav2,pcm_s16le,pcm_s16be,pcm_s24le,pcm_s32le,pcm_f32le,"
    "pcm_u8,pcm_mulaw,pcm_alaw";
// Probe limits: bytes read and stream time analysed to find the streams, and streams a
// container may declare (FFmpeg's defaults: 5 MB, 5 s, 1000 streams).
constexpr std::int64_t kProbeBytes = 32 << 20;
constexpr std::int64_t kAnalyzeMicroseconds = 10'000'000;
constexpr int kMaxStreams = 64;

}  // namespace

struct VideoReader::Impl {
  std::filesystem::path path;  // or the label of an in-memory file
  VideoReaderOptions options;

  // In-memory input: the bytes and the read position of the custom I/O context. Declared
  // before `format` so that the demuxer is closed before its I/O context is freed.
  std::shared_ptr<const std::vector<std::uint8_t>> memory;
  int fd = -1;  // or a file: a descriptor owned by the reader, read with pread
  std::int64_t memory_position = 0;
  libav::AvioPtr avio;

  libav::InputFormatPtr format;
  libav::CodecContextPtr decoder;
  libav::PacketPtr packet;
  libav::FramePtr frame;
  libav::SwsContextPtr sws;
  libav::SwsContextPtr colour_sws;  // for VideoReaderOptions::colour_width

  AVStream* stream = nullptr;  // owned by `format`
  std::int64_t start_pts = 0;  // stream start_time, or 0 when the container has none
  std::int64_t frames_out = 0;
  double last_seconds = 0;

  std::optional<Frame> pending;  // found by SeekTo, returned by the next Read
  bool seeking = false;          // a seek happened and no frame was decoded since
  double seek_landed = 0;        // seconds of the first frame decoded after the last seek

  bool flush_sent = false;  // the demuxer is exhausted and the decoder was told so
  bool finished = false;    // the decoder returned AVERROR_EOF
  int skipped_errors = 0;   // corrupt packets or frames dropped so far
  int last_error = 0;
  bool damaged_end = false;  // the demuxer stopped at damaged data, not at the end
  int rotation = 0;          // clockwise degrees of the display matrix: 0, 90, 180, 270

  ~Impl() {
    // The demuxer reads through `avio`, which reads `fd`: close in that order.
    format.reset();
    avio.reset();
    if (fd >= 0) ::close(fd);
  }

  bool PastDeadline() const {
    return options.deadline != std::chrono::steady_clock::time_point::max() &&
           std::chrono::steady_clock::now() > options.deadline;
  }

  [[noreturn]] void Fail(const std::string& what, int error) const {
    if (PastDeadline() || error == AVERROR_EXIT) {
      throw Error("timeout: video " + path.string() + ": decoding ran past its deadline");
    }
    throw Error("video " + path.string() + ": " + what + ": " + libav::ErrorText(error));
  }

  void Open();
  std::int64_t SourceSize() const;
  // `image` turned as the display matrix says.
  cv::Mat Rotated(cv::Mat image) const {
    if (rotation == 0) return image;
    cv::Mat turned;
    cv::rotate(image, turned,
               rotation == 90    ? cv::ROTATE_90_CLOCKWISE
               : rotation == 180 ? cv::ROTATE_180
                                 : cv::ROTATE_90_COUNTERCLOCKWISE);
    return turned;
  }
  // FFmpeg custom-I/O callbacks over `memory` or `fd`; `opaque` is the Impl.
  static int ReadMemory(void* opaque, std::uint8_t* buffer, int size);
  static std::int64_t SeekMemory(void* opaque, std::int64_t offset, int whence);
  // FFmpeg's interrupt callback: non-zero once the deadline has passed.
  static int Interrupted(void* opaque);
  // Decodes the next frame shown at or after `skip_before` seconds into *out; earlier frames
  // are decoded but not converted. Returns false at the end of the stream.
  bool Next(Frame* out, double skip_before);
  bool ReceiveFrame(Frame* out, double skip_before);
  void SendNextPacket();
  // Seeks the demuxer to the keyframe at or before `seconds` (the stream start if
  // `seconds` is not positive) and resets the decoder.
  void SeekBefore(double seconds);
  // Seeks to the file's first byte (formats that allow byte seeks); false if it cannot.
  bool SeekToFirstByte();
  void Convert(Frame* out);
  double FrameSeconds() const;
};

std::int64_t VideoReader::Impl::SourceSize() const {
  if (memory) return static_cast<std::int64_t>(memory->size());
  struct stat status {};
  if (::fstat(fd, &status) != 0) return -1;
  return static_cast<std::int64_t>(status.st_size);
}

int VideoReader::Impl::Interrupted(void* opaque) {
  return static_cast<const VideoReader::Impl*>(opaque)->PastDeadline() ? 1 : 0;
}

int VideoReader::Impl::ReadMemory(void* opaque, std::uint8_t* buffer, int size) {
  auto* impl = static_cast<VideoReader::Impl*>(opaque);
  if (impl->PastDeadline()) return AVERROR_EXIT;
  if (!impl->memory) {
    while (true) {
      const ssize_t got = ::pread(impl->fd, buffer, static_cast<size_t>(size),
                                  static_cast<off_t>(impl->memory_position));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return AVERROR(errno);
      if (got == 0) return AVERROR_EOF;
      impl->memory_position += got;
      return static_cast<int>(got);
    }
  }
  const auto total = static_cast<std::int64_t>(impl->memory->size());
  const std::int64_t left = total - impl->memory_position;
  if (left <= 0) return AVERROR_EOF;
  const int count = static_cast<int>(std::min<std::int64_t>(left, size));
  std::memcpy(buffer, impl->memory->data() + impl->memory_position, count);
  impl->memory_position += count;
  return count;
}

std::int64_t VideoReader::Impl::SeekMemory(void* opaque, std::int64_t offset, int whence) {
  auto* impl = static_cast<VideoReader::Impl*>(opaque);
  const std::int64_t total = impl->SourceSize();
  if (total < 0) return AVERROR(EIO);
  if (whence & AVSEEK_SIZE) return total;
  std::int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = impl->memory_position + offset;
      break;
    case SEEK_END:
      target = total + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0 || target > total) return AVERROR(EINVAL);
  impl->memory_position = target;
  return target;
}

void VideoReader::Impl::Open() {
  libav::QuietLogs();

  // Always custom I/O (bytes in memory or a descriptor): FFmpeg never sees a URL, so no
  // protocol (file:, http:, concat:, subfile:, ...) can be reached from a file's content.
  constexpr int kBufferSize = 64 * 1024;
  auto* buffer = static_cast<std::uint8_t*>(av_malloc(kBufferSize));
  if (buffer == nullptr) Fail("cannot allocate I/O buffer", AVERROR(ENOMEM));
  avio.reset(avio_alloc_context(buffer, kBufferSize, 0, this, ReadMemory, nullptr, SeekMemory));
  if (!avio) {
    av_free(buffer);
    Fail("cannot allocate I/O context", AVERROR(ENOMEM));
  }
  AVFormatContext* raw_format = avformat_alloc_context();
  if (raw_format == nullptr) Fail("cannot allocate demuxer", AVERROR(ENOMEM));
  raw_format->pb = avio.get();
  raw_format->flags |= AVFMT_FLAG_CUSTOM_IO;
  raw_format->interrupt_callback = {&Impl::Interrupted, this};
  raw_format->probesize = kProbeBytes;
  raw_format->max_analyze_duration = kAnalyzeMicroseconds;
  raw_format->max_streams = kMaxStreams;
  AVDictionary* open_options = nullptr;
  if (options.allowlists) {
    av_dict_set(&open_options, "format_whitelist", kVideoFormatAllowlist, 0);
    av_dict_set(&open_options, "codec_whitelist", kCodecAllowlist, 0);
    // Demuxers that open further files or URLs by themselves (HLS, concat, image2, ...) are
    // outside the format list anyway; none may open anything.
    av_dict_set(&open_options, "protocol_whitelist", "", 0);
  }
  // On failure avformat_open_input frees the context itself and nulls the pointer.
  int ret = avformat_open_input(&raw_format, "", nullptr, &open_options);
  av_dict_free(&open_options);
  if (ret < 0) Fail("cannot open", ret);
  format.reset(raw_format);

  ret = avformat_find_stream_info(format.get(), nullptr);
  if (ret < 0) Fail("cannot read stream info", ret);

  const AVCodec* codec = nullptr;
  ret = av_find_best_stream(format.get(), AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
  if (ret < 0) {
    // A soundtrack, or cover art that is not a stream: nothing to look at, not damage.
    if (ret == AVERROR_STREAM_NOT_FOUND) {
      bool audio = false;
      for (unsigned i = 0; i < format->nb_streams; ++i) {
        audio = audio || format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO;
      }
      throw Error("no_video: " + path.string() + ": the file holds no video stream" +
                  (audio ? " (audio only)" : ""));
    }
    Fail("no decodable video stream", ret);
  }
  stream = format->streams[ret];
  if (stream->codecpar->width <= 0 || stream->codecpar->height <= 0) {
    Fail("video stream has no frame size", AVERROR_INVALIDDATA);
  }
  if (options.max_pixels > 0 &&
      static_cast<std::int64_t>(stream->codecpar->width) * stream->codecpar->height >
          options.max_pixels) {
    throw Error("too_large: video " + path.string() + ": frames of " +
                std::to_string(stream->codecpar->width) + "x" +
                std::to_string(stream->codecpar->height) + " pixels exceed the limit of " +
                std::to_string(options.max_pixels));
  }
  if (stream->start_time != AV_NOPTS_VALUE) start_pts = stream->start_time;
  // A display matrix (phones' portrait video): frames come out as a player shows them.
  if (const auto* matrix = reinterpret_cast<const std::int32_t*>(
          av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, nullptr))) {
    const double clockwise = -av_display_rotation_get(matrix);
    // A matrix that mirrors (negative determinant) is left alone: FFmpeg reads a flip as a
    // half turn, and the frames were matched as stored before display matrices were read.
    const double determinant =
        static_cast<double>(matrix[0]) * matrix[4] - static_cast<double>(matrix[1]) * matrix[3];
    if (std::isfinite(clockwise) && determinant > 0) {
      const long quarter = std::lround(clockwise / 90.0);
      rotation = static_cast<int>(((quarter % 4) + 4) % 4) * 90;
    }
  }

  decoder.reset(avcodec_alloc_context3(codec));
  if (!decoder) Fail("cannot allocate decoder", AVERROR(ENOMEM));
  ret = avcodec_parameters_to_context(decoder.get(), stream->codecpar);
  if (ret < 0) Fail("cannot configure decoder", ret);
  // best_effort_timestamp is only computed in stream units when the decoder knows them.
  decoder->pkt_timebase = stream->time_base;
#if defined(__SANITIZE_THREAD__)
  // ThreadSanitizer builds decode on the calling thread: FFmpeg's frame threads share
  // reference-counted buffers through atomics inside the uninstrumented libavutil, so TSan
  // reports every av_buffer_unref that frees a buffer a frame thread allocated. FFmpeg's
  // threading is not celtrace's (as OpenCV's, core/tsan_serial_opencv.cpp).
  decoder->thread_count = 1;
#else
  decoder->thread_count = options.threads;
#endif
  if (options.max_pixels > 0) decoder->max_pixels = options.max_pixels;
  AVDictionary* codec_options = nullptr;
  if (options.allowlists) av_dict_set(&codec_options, "codec_whitelist", kCodecAllowlist, 0);
  ret = avcodec_open2(decoder.get(), codec, &codec_options);
  av_dict_free(&codec_options);
  if (ret < 0) Fail(std::string("cannot open decoder ") + codec->name, ret);

  packet.reset(av_packet_alloc());
  frame.reset(av_frame_alloc());
  if (!packet || !frame) Fail("cannot allocate packet/frame", AVERROR(ENOMEM));
}

double VideoReader::Impl::FrameSeconds() const {
  std::int64_t ts = frame->best_effort_timestamp;
  if (ts == AV_NOPTS_VALUE) ts = frame->pts;
  if (ts == AV_NOPTS_VALUE) {
    // No timestamp at all (raw elementary streams): extrapolate one nominal frame from
    // the last real time rather than inventing a time from the frame index.
    const AVRational rate = stream->avg_frame_rate;
    if (frames_out == 0) return 0;
    return rate.num > 0 && rate.den > 0 ? last_seconds + av_q2d(av_inv_q(rate)) : last_seconds;
  }
  return static_cast<double>(ts - start_pts) * stream->time_base.num / stream->time_base.den;
}

void VideoReader::Impl::Convert(Frame* out) {
  const int src_w = frame->width;
  const int src_h = frame->height;
  int dst_w = src_w;
  int dst_h = src_h;
  int flags = kNativeSwsFlags;
  const int longer = std::max(src_w, src_h);
  if (options.max_side > 0 && longer > options.max_side) {
    const double scale = static_cast<double>(options.max_side) / longer;
    dst_w = src_w >= src_h ? options.max_side
                           : std::max(1, static_cast<int>(std::lround(src_w * scale)));
    dst_h = src_h > src_w ? options.max_side
                          : std::max(1, static_cast<int>(std::lround(src_h * scale)));
    flags = kShrinkSwsFlags;
  }
  if (options.square_side > 0 && longer > options.square_side) {
    dst_w = dst_h = options.square_side;
    flags = kShrinkSwsFlags;
  }

  sws.reset(sws_getCachedContext(sws.release(), src_w, src_h,
                                 static_cast<AVPixelFormat>(frame->format), dst_w, dst_h,
                                 options.luma_only ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_BGR24,
                                 options.luma_only ? SWS_AREA : flags, nullptr, nullptr, nullptr));
  if (!sws) Fail("cannot convert frame to BGR", AVERROR(EINVAL));

  // A fresh Mat every time: callers may keep earlier frames, which must not be overwritten.
  cv::Mat image(dst_h, dst_w, options.luma_only ? CV_8UC1 : CV_8UC3);
  std::uint8_t* dst_data[4] = {image.data, nullptr, nullptr, nullptr};
  int dst_linesize[4] = {static_cast<int>(image.step[0]), 0, 0, 0};
  const int rows =
      sws_scale(sws.get(), frame->data, frame->linesize, 0, src_h, dst_data, dst_linesize);
  if (rows != dst_h) Fail("cannot convert frame to BGR", rows < 0 ? rows : AVERROR_BUG);

  out->image = Rotated(std::move(image));
  out->colour.release();
  if (options.colour_width > 0) {
    const int colour_w = options.colour_width;
    const int colour_h =
        std::max(1, static_cast<int>(std::lround(static_cast<double>(src_h) * colour_w / src_w)));
    colour_sws.reset(sws_getCachedContext(
        colour_sws.release(), src_w, src_h, static_cast<AVPixelFormat>(frame->format), colour_w,
        colour_h, AV_PIX_FMT_BGR24, SWS_AREA, nullptr, nullptr, nullptr));
    if (!colour_sws) Fail("cannot convert frame to BGR", AVERROR(EINVAL));
    cv::Mat colour(colour_h, colour_w, CV_8UC3);
    std::uint8_t* colour_data[4] = {colour.data, nullptr, nullptr, nullptr};
    int colour_linesize[4] = {static_cast<int>(colour.step[0]), 0, 0, 0};
    const int colour_rows = sws_scale(colour_sws.get(), frame->data, frame->linesize, 0, src_h,
                                      colour_data, colour_linesize);
    if (colour_rows != colour_h) {
      Fail("cannot convert frame to BGR", colour_rows < 0 ? colour_rows : AVERROR_BUG);
    }
    out->colour = Rotated(std::move(colour));
  }
  out->seconds = FrameSeconds();
  out->index = frames_out;
  last_seconds = out->seconds;
  ++frames_out;
}

// Returns true with *out filled, or false when the decoder needs input or has finished.
bool VideoReader::Impl::ReceiveFrame(Frame* out, double skip_before) {
  while (true) {
    const int ret = avcodec_receive_frame(decoder.get(), frame.get());
    if (ret == 0) {
      const double seconds = FrameSeconds();
      if (seeking) {
        seeking = false;
        seek_landed = seconds;
      }
      if (seconds < skip_before) {
        // Decoded only to reach a seek target: no conversion.
        last_seconds = seconds;
        ++frames_out;
        av_frame_unref(frame.get());
        continue;
      }
      Convert(out);
      av_frame_unref(frame.get());
      return true;
    }
    if (ret == AVERROR(EAGAIN)) return false;
    if (ret == AVERROR_EOF) {
      finished = true;
      return false;
    }
    if (ret != AVERROR_INVALIDDATA) Fail("decode error", ret);
    // A damaged frame is dropped; the decoder carries on with the next one.
    ++skipped_errors;
    last_error = ret;
    if (frames_out == 0 && skipped_errors >= kMaxErrorsBeforeFirstFrame) {
      Fail("nothing decodes", ret);
    }
  }
}

void VideoReader::Impl::SendNextPacket() {
  while (true) {
    int ret = av_read_frame(format.get(), packet.get());
    // Damaged container data after good frames is treated as the end of the file, as the
    // ffmpeg tool does: truncated downloads still yield every frame before the damage.
    const bool damaged_tail = ret == AVERROR_INVALIDDATA && frames_out > 0;
    if (damaged_tail) {
      ++skipped_errors;
      last_error = ret;
      damaged_end = true;
    }
    if (ret == AVERROR_EOF || damaged_tail) {
      // An empty packet puts the decoder in draining mode so its delayed frames come out.
      ret = avcodec_send_packet(decoder.get(), nullptr);
      if (ret < 0 && ret != AVERROR_EOF) Fail("cannot flush decoder", ret);
      flush_sent = true;
      return;
    }
    if (ret < 0) Fail("cannot read packet", ret);

    const bool ours = packet->stream_index == stream->index;
    if (ours) ret = avcodec_send_packet(decoder.get(), packet.get());
    av_packet_unref(packet.get());
    if (!ours) continue;
    if (ret == 0) return;
    if (ret != AVERROR_INVALIDDATA) Fail("decode error", ret);
    ++skipped_errors;
    last_error = ret;
    if (frames_out == 0 && skipped_errors >= kMaxErrorsBeforeFirstFrame) {
      Fail("nothing decodes", ret);
    }
  }
}

VideoReader::VideoReader(const std::filesystem::path& path, VideoReaderOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = options;
  impl_->fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (impl_->fd < 0) impl_->Fail("cannot open", AVERROR(errno));
  impl_->Open();
}

VideoReader::VideoReader(int fd, std::string label, VideoReaderOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = std::move(label);
  impl_->options = options;
  impl_->fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (impl_->fd < 0) impl_->Fail("cannot duplicate the descriptor", AVERROR(errno));
  impl_->Open();
}

VideoReader::VideoReader(std::shared_ptr<const std::vector<std::uint8_t>> bytes, std::string label,
                         VideoReaderOptions options)
    : impl_(std::make_unique<Impl>()) {
  if (!bytes) throw Error("video " + label + ": no data");
  impl_->path = std::move(label);
  impl_->options = options;
  impl_->memory = std::move(bytes);
  impl_->Open();
}

VideoReader::~VideoReader() = default;

bool VideoReader::Impl::Next(Frame* out, double skip_before) {
  while (!finished) {
    if (ReceiveFrame(out, skip_before)) return true;
    if (finished) break;
    if (flush_sent) {
      // Draining decoders must end with AVERROR_EOF; EAGAIN here would loop forever.
      finished = true;
      break;
    }
    SendNextPacket();
  }
  if (frames_out == 0 && skipped_errors > 0) Fail("nothing decodes", last_error);
  return false;
}

bool VideoReader::Impl::SeekToFirstByte() {
  if (format->iformat->flags & AVFMT_NO_BYTE_SEEK) return false;
  if (av_seek_frame(format.get(), -1, 0, AVSEEK_FLAG_BYTE) < 0) return false;
  avcodec_flush_buffers(decoder.get());
  flush_sent = false;
  finished = false;
  seeking = true;
  return true;
}

void VideoReader::Impl::SeekBefore(double seconds) {
  const std::int64_t target =
      seconds > 0
          ? start_pts + static_cast<std::int64_t>(std::floor(seconds / av_q2d(stream->time_base)))
          : start_pts;
  int ret = av_seek_frame(format.get(), stream->index, target, AVSEEK_FLAG_BACKWARD);
  if (ret < 0 && seconds <= 0) {
    // Some demuxers refuse a backward seek to the very first timestamp; any frame will do.
    ret = av_seek_frame(format.get(), stream->index, target, AVSEEK_FLAG_ANY);
  }
  if (ret < 0) Fail("cannot seek to " + std::to_string(seconds) + " s", ret);
  avcodec_flush_buffers(decoder.get());
  flush_sent = false;
  finished = false;
  seeking = true;
}

bool VideoReader::Read(Frame* frame) {
  if (impl_->pending) {
    *frame = std::move(*impl_->pending);
    impl_->pending.reset();
    return true;
  }
  return impl_->Next(frame, -std::numeric_limits<double>::infinity());
}

bool VideoReader::SeekTo(double seconds) {
  Impl& impl = *impl_;
  impl.pending.reset();
  const double rate = frame_rate();
  const double target = seconds - (rate > 0 ? 0.5 / rate : 0.0);
  Frame found;
  const bool ahead = impl.frames_out > 0 && !impl.finished && target > impl.last_seconds &&
                     target - impl.last_seconds <= kForwardDecodeSeconds;
  if (ahead) {
    if (!impl.Next(&found, target)) return false;
    impl.pending = std::move(found);
    return true;
  }
  for (const double backoff : kSeekBackoffSeconds) {
    const bool from_start = target - backoff <= 0;
    impl.SeekBefore(target - backoff);
    if (!impl.Next(&found, target)) {
      // Frames decoded, none late enough: the target lies past the end. Nothing decoded at
      // all: the seek itself went past the end, so go back further.
      if (from_start || !impl.seeking) return false;
      continue;
    }
    // A first frame later than the target means the keyframe index led past it: go back.
    if (impl.seek_landed <= target) {
      impl.pending = std::move(found);
      return true;
    }
    if (from_start) {
      // Even a seek to the stream's start led past the target: MPEG-TS seeks by timestamp
      // to the keyframe after the first packet's decode time (3.1 s into a clip whose first
      // frame is at 0). The file's first byte is the start for certain.
      if (impl.SeekToFirstByte() && impl.Next(&found, target)) {
        impl.pending = std::move(found);
        return true;
      }
      impl.SeekBefore(target - backoff);
      if (!impl.Next(&found, target)) return false;
      impl.pending = std::move(found);
      return true;
    }
  }
  impl.SeekBefore(0);
  if (!impl.Next(&found, target)) return false;
  impl.pending = std::move(found);
  return true;
}

int VideoReader::width() const { return impl_->stream->codecpar->width; }

int VideoReader::height() const { return impl_->stream->codecpar->height; }

int VideoReader::rotation() const { return impl_->rotation; }

bool VideoReader::attached_picture() const {
  return (impl_->stream->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0;
}

bool VideoReader::ended_at_damage() const { return impl_->damaged_end; }

double VideoReader::last_seconds() const { return impl_->last_seconds; }

double VideoReader::duration_seconds() const {
  const AVStream* stream = impl_->stream;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    return static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  }
  const AVFormatContext* format = impl_->format.get();
  if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
    return static_cast<double>(format->duration) / AV_TIME_BASE;
  }
  return 0;
}

double VideoReader::stream_duration_seconds() const {
  const AVStream* stream = impl_->stream;
  if (stream->duration != AV_NOPTS_VALUE && stream->duration > 0) {
    return static_cast<double>(stream->duration) * av_q2d(stream->time_base);
  }
  // Matroska declares only the file's: the video's when no other stream could set it.
  const AVFormatContext* format = impl_->format.get();
  return format->nb_streams == 1 && format->duration != AV_NOPTS_VALUE && format->duration > 0
             ? static_cast<double>(format->duration) / AV_TIME_BASE
             : 0;
}

double VideoReader::frame_rate() const {
  const AVRational rate = impl_->stream->avg_frame_rate;
  return rate.num > 0 && rate.den > 0 ? av_q2d(rate) : 0;
}

}  // namespace celtrace
