// Private to core/: owning handles for the FFmpeg (libav*) objects the video reader and
// writer use. Every libav handle in celtrace lives in one of these unique_ptr types so
// that early returns and exceptions cannot leak or double-free them; raw pointers are only
// borrowed (`.get()`) for the duration of a libav call.
#pragma once

#include <memory>
#include <mutex>
#include <string>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libswscale/swscale.h>
}

namespace celtrace::libav {

// A demuxer context from avformat_open_input(); it owns its AVIOContext.
struct InputFormatDeleter {
  void operator()(AVFormatContext* context) const noexcept { avformat_close_input(&context); }
};
using InputFormatPtr = std::unique_ptr<AVFormatContext, InputFormatDeleter>;

// A muxer context from avformat_alloc_output_context2(). avformat_free_context() does not
// close the file the caller opened into `pb`, so the deleter does, for the error paths
// that never reach VideoWriter::Close().
struct OutputFormatDeleter {
  void operator()(AVFormatContext* context) const noexcept {
    if (context == nullptr) return;
    if (context->oformat != nullptr && (context->oformat->flags & AVFMT_NOFILE) == 0) {
      avio_closep(&context->pb);
    }
    avformat_free_context(context);
  }
};
using OutputFormatPtr = std::unique_ptr<AVFormatContext, OutputFormatDeleter>;

struct CodecContextDeleter {
  void operator()(AVCodecContext* context) const noexcept { avcodec_free_context(&context); }
};
using CodecContextPtr = std::unique_ptr<AVCodecContext, CodecContextDeleter>;

struct FrameDeleter {
  void operator()(AVFrame* frame) const noexcept { av_frame_free(&frame); }
};
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;

struct PacketDeleter {
  void operator()(AVPacket* packet) const noexcept { av_packet_free(&packet); }
};
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;

// sws_getCachedContext() frees the context it is given whenever it returns another one
// (or fails), so hand it `ptr.release()` and `reset()` with the result.
struct SwsContextDeleter {
  void operator()(SwsContext* context) const noexcept { sws_freeContext(context); }
};
using SwsContextPtr = std::unique_ptr<SwsContext, SwsContextDeleter>;

// A custom-I/O context from avio_alloc_context(); frees its (possibly reallocated) buffer
// too. Demuxers opened over it do not own it, so it must outlive them.
struct AvioDeleter {
  void operator()(AVIOContext* context) const noexcept {
    if (context == nullptr) return;
    av_freep(&context->buffer);
    avio_context_free(&context);
  }
};
using AvioPtr = std::unique_ptr<AVIOContext, AvioDeleter>;

// Returns FFmpeg's text for an AVERROR code.
inline std::string ErrorText(int error) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  if (av_strerror(error, text, sizeof(text)) < 0) {
    return "unknown FFmpeg error " + std::to_string(error);
  }
  return text;
}

// libav logs every damaged macroblock and container oddity at warning level, which would
// bury a batch job's own messages; only errors get through. The log level is global to
// the process, so it is set once.
inline void QuietLogs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_ERROR); });
}

}  // namespace celtrace::libav
