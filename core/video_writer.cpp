#include "celtrace/video_writer.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "celtrace/error.h"
#include "libav_handles.h"

extern "C" {
#include <libavutil/display.h>
#include <libavutil/mathematics.h>
#include <libavutil/pixdesc.h>
}

namespace celtrace {
namespace {

// MPEG-4 Part 2 stores the time base denominator in 16 bits and its encoder refuses
// larger ones (the default 1/90000 among them).
constexpr int kMpeg4MaxTimeBaseDen = (1 << 16) - 1;

// The encoder's time base: 1/time_base_den where the codec allows it. Otherwise the
// largest divisor of time_base_den that fits, so that rescaling to the stream's
// 1/time_base_den stays exact (90000 -> 45000); 1/65535 if no divisor is fine enough.
AVRational EncoderTimeBase(AVCodecID codec, int time_base_den) {
  if (codec != AV_CODEC_ID_MPEG4 || time_base_den <= kMpeg4MaxTimeBaseDen) {
    return AVRational{1, time_base_den};
  }
  constexpr int kFinestUsefulDen = 1000;  // below 1 ms the divisor would lose precision
  for (int factor = 2; time_base_den / factor >= kFinestUsefulDen; ++factor) {
    if (time_base_den % factor == 0 && time_base_den / factor <= kMpeg4MaxTimeBaseDen) {
      return AVRational{1, time_base_den / factor};
    }
  }
  return AVRational{1, kMpeg4MaxTimeBaseDen};
}

// YUV 4:2:0 is what every target encoder and player handles. The MJPEG encoder takes
// plain YUV420P only with full-range colour, which its YUVJ variant already implies.
AVPixelFormat EncoderPixelFormat(AVCodecID codec) {
  return codec == AV_CODEC_ID_MJPEG ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
}

}  // namespace

struct VideoWriter::Impl {
  std::filesystem::path path;
  VideoWriterOptions options;

  libav::OutputFormatPtr format;
  libav::CodecContextPtr encoder;
  libav::FramePtr frame;
  libav::PacketPtr packet;
  libav::SwsContextPtr sws;

  AVStream* stream = nullptr;  // owned by `format`
  std::int64_t last_pts = std::numeric_limits<std::int64_t>::min();
  bool closed = false;

  [[noreturn]] void Fail(const std::string& what, int error) const {
    throw Error("video " + path.string() + ": " + what + ": " + libav::ErrorText(error));
  }
  [[noreturn]] void Fail(const std::string& what) const {
    throw Error("video " + path.string() + ": " + what);
  }

  void Open();
  void Encode(const AVFrame* input);  // nullptr flushes
};

void VideoWriter::Impl::Open() {
  libav::QuietLogs();
  if (options.width <= 0 || options.height <= 0) Fail("frame size must be positive");
  if (options.time_base_den <= 0) Fail("time_base_den must be positive");
  if (!(options.frame_rate > 0) || !std::isfinite(options.frame_rate)) {
    Fail("frame_rate must be positive");
  }

  AVFormatContext* raw_format = nullptr;
  int ret = avformat_alloc_output_context2(&raw_format, nullptr, nullptr, path.c_str());
  if (ret < 0 || raw_format == nullptr) Fail("no container for this file extension", ret);
  format.reset(raw_format);
  // Same frames, same bytes: fixtures made twice are identical files (no random muxer ids).
  format->flags |= AVFMT_FLAG_BITEXACT;

  const AVCodec* codec = avcodec_find_encoder_by_name(options.codec.c_str());
  if (codec == nullptr) Fail("no encoder named '" + options.codec + "'");
  if (codec->type != AVMEDIA_TYPE_VIDEO) Fail("'" + options.codec + "' is not a video encoder");

  stream = avformat_new_stream(format.get(), nullptr);
  if (stream == nullptr) Fail("cannot add stream", AVERROR(ENOMEM));

  encoder.reset(avcodec_alloc_context3(codec));
  if (!encoder) Fail("cannot allocate encoder", AVERROR(ENOMEM));
  const AVRational frame_rate = av_d2q(options.frame_rate, 1 << 20);
  encoder->width = options.width;
  encoder->height = options.height;
  encoder->pix_fmt = EncoderPixelFormat(codec->id);
  encoder->time_base = EncoderTimeBase(codec->id, options.time_base_den);
  encoder->framerate = frame_rate;
  encoder->gop_size = 12;
  // Without B-frames packets leave the encoder in presentation order, so dts = pts.
  encoder->max_b_frames = 0;
  encoder->flags |= AV_CODEC_FLAG_QSCALE | AV_CODEC_FLAG_BITEXACT;
  encoder->global_quality = FF_QP2LAMBDA * options.quality;
  if (format->oformat->flags & AVFMT_GLOBALHEADER) {
    encoder->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  }
  ret = avcodec_open2(encoder.get(), codec, nullptr);
  if (ret < 0) Fail("cannot open encoder " + options.codec, ret);

  ret = avcodec_parameters_from_context(stream->codecpar, encoder.get());
  if (ret < 0) Fail("cannot configure stream", ret);
  stream->time_base = AVRational{1, options.time_base_den};
  stream->avg_frame_rate = frame_rate;
  stream->r_frame_rate = frame_rate;
  if (options.rotation % 360 != 0) {
    auto* matrix = reinterpret_cast<std::int32_t*>(
        av_stream_new_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(std::int32_t)));
    if (matrix == nullptr) Fail("cannot add a display matrix", AVERROR(ENOMEM));
    // FFmpeg's matrix takes a clockwise angle (and av_display_rotation_get gives it back
    // anticlockwise): ffprobe shows this as "rotation=-90" for 90, as for phone video.
    av_display_rotation_set(matrix, static_cast<double>(options.rotation));
  }

  if ((format->oformat->flags & AVFMT_NOFILE) == 0) {
    ret = avio_open(&format->pb, path.c_str(), AVIO_FLAG_WRITE);
    if (ret < 0) Fail("cannot create file", ret);
  }
  // The muxer may replace the stream time base here (Matroska: 1/1000), so packets are
  // rescaled to stream->time_base as it stands afterwards.
  ret = avformat_write_header(format.get(), nullptr);
  if (ret < 0) Fail("cannot write header", ret);

  frame.reset(av_frame_alloc());
  packet.reset(av_packet_alloc());
  if (!frame || !packet) Fail("cannot allocate frame/packet", AVERROR(ENOMEM));
  frame->format = encoder->pix_fmt;
  frame->width = encoder->width;
  frame->height = encoder->height;
  ret = av_frame_get_buffer(frame.get(), 0);
  if (ret < 0) Fail("cannot allocate frame buffer", ret);
}

void VideoWriter::Impl::Encode(const AVFrame* input) {
  int ret = avcodec_send_frame(encoder.get(), input);
  if (ret < 0) Fail(input ? "cannot encode frame" : "cannot flush encoder", ret);
  while (true) {
    ret = avcodec_receive_packet(encoder.get(), packet.get());
    if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return;
    if (ret < 0) Fail("cannot encode frame", ret);
    av_packet_rescale_ts(packet.get(), encoder->time_base, stream->time_base);
    packet->stream_index = stream->index;
    // Takes the packet's reference, leaving `packet` blank for the next round.
    ret = av_interleaved_write_frame(format.get(), packet.get());
    if (ret < 0) Fail("cannot write packet", ret);
  }
}

VideoWriter::VideoWriter(const std::filesystem::path& path, VideoWriterOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->path = path;
  impl_->options = std::move(options);
  impl_->Open();
}

VideoWriter::~VideoWriter() {
  try {
    Close();
  } catch (...) {
    // A destructor must not throw; callers who care call Close() themselves.
  }
}

void VideoWriter::Write(const cv::Mat& bgr, double seconds) {
  Impl& impl = *impl_;
  if (impl.closed) impl.Fail("Write() after Close()");
  if (bgr.empty() || bgr.type() != CV_8UC3) impl.Fail("frames must be non-empty CV_8UC3 BGR");
  if (!std::isfinite(seconds)) impl.Fail("frame time is not finite");

  const AVRational time_base = impl.encoder->time_base;
  const std::int64_t pts = std::llround(seconds * time_base.den / time_base.num);
  if (pts <= impl.last_pts) {
    impl.Fail("frame time " + std::to_string(seconds) + " s does not increase (time base 1/" +
              std::to_string(time_base.den) + ")");
  }

  impl.sws.reset(sws_getCachedContext(impl.sws.release(), bgr.cols, bgr.rows, AV_PIX_FMT_BGR24,
                                      impl.encoder->width, impl.encoder->height,
                                      impl.encoder->pix_fmt, SWS_BICUBIC | SWS_ACCURATE_RND,
                                      nullptr, nullptr, nullptr));
  if (!impl.sws) impl.Fail("cannot convert frame", AVERROR(EINVAL));

  // The encoder may still hold a reference to the buffer we filled last time.
  int ret = av_frame_make_writable(impl.frame.get());
  if (ret < 0) impl.Fail("cannot allocate frame buffer", ret);
  const std::uint8_t* src_data[4] = {bgr.data, nullptr, nullptr, nullptr};
  const int src_linesize[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
  ret = sws_scale(impl.sws.get(), src_data, src_linesize, 0, bgr.rows, impl.frame->data,
                  impl.frame->linesize);
  if (ret < 0) impl.Fail("cannot convert frame", ret);

  impl.frame->pts = pts;
  // mpegvideo encoders take a fixed qscale from the frame, not only from the context.
  impl.frame->quality = impl.encoder->global_quality;
  impl.Encode(impl.frame.get());
  impl.last_pts = pts;
}

void VideoWriter::Close() {
  Impl& impl = *impl_;
  if (impl.closed) return;
  impl.closed = true;

  // Finish the file as far as possible even if the encoder fails, then report the first
  // error: a trailer-less MP4 is unreadable.
  std::string first_error;
  try {
    impl.Encode(nullptr);
  } catch (const Error& e) {
    first_error = e.what();
  }
  const int trailer = av_write_trailer(impl.format.get());
  if (trailer < 0 && first_error.empty()) {
    first_error =
        "video " + impl.path.string() + ": cannot write trailer: " + libav::ErrorText(trailer);
  }
  if ((impl.format->oformat->flags & AVFMT_NOFILE) == 0) {
    const int closed = avio_closep(&impl.format->pb);
    if (closed < 0 && first_error.empty()) {
      first_error =
          "video " + impl.path.string() + ": cannot close file: " + libav::ErrorText(closed);
    }
  }
  impl.encoder.reset();
  impl.sws.reset();
  if (!first_error.empty()) throw Error(first_error);
}

}  // namespace celtrace
