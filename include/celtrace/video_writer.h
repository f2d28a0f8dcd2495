// VideoWriter encodes BGR frames with caller-chosen presentation times into a media file
// with FFmpeg's libav* libraries. It exists to make test fixtures, sample footage and
// evaluation sets in code (constant or variable frame rate). Not thread-safe.
#pragma once

#include <filesystem>
#include <memory>
#include <opencv2/core/mat.hpp>
#include <string>

namespace celtrace {

struct VideoWriterOptions {
  int width = 640;   // pixels; frames of another size are scaled to it
  int height = 360;  // pixels
  // Time base of the stored timestamps: 1/time_base_den seconds. Default 1/90000 (MPEG).
  int time_base_den = 90000;
  // Nominal frame rate written in the stream header (players use it; timestamps rule).
  double frame_rate = 24000.0 / 1001.0;
  // FFmpeg encoder name. Default "mpeg4" (always in Debian's libavcodec); "libx264" and
  // "mjpeg" also work if present.
  std::string codec = "mpeg4";
  // Constant quality for the encoder (mpeg4: qscale 1..31, lower is better). Default 3.
  int quality = 3;
  // Degrees clockwise a player turns the stored frames to show them (a display matrix in
  // the stream, as phones write for portrait video; MP4 and MOV keep it): 0, 90, 180, 270.
  int rotation = 0;
};

class VideoWriter {
 public:
  // Creates the file (container chosen by its extension: .mp4, .mkv, .avi, .mov). Throws
  // celtrace::Error if the container or encoder cannot be set up.
  VideoWriter(const std::filesystem::path& path, VideoWriterOptions options = {});
  // Finishes the file if Close() was not called (errors are swallowed there; call Close()
  // to see them).
  ~VideoWriter();
  VideoWriter(const VideoWriter&) = delete;
  VideoWriter& operator=(const VideoWriter&) = delete;

  // Encodes one BGR CV_8UC3 frame shown at `seconds` (must increase strictly). Throws
  // celtrace::Error on encoder failure or a non-increasing time.
  void Write(const cv::Mat& bgr, double seconds);

  // Flushes the encoder and writes the trailer. Throws celtrace::Error on failure.
  void Close();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace celtrace
