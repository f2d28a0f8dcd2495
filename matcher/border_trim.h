// Finds the picture inside uniform bars of any colour (letterbox, pillarbox, windowbox).
// Animation backgrounds are often one flat colour, so a trimmer also cuts real content at
// times; callers query both the trimmed and the untrimmed image. Pure, thread-safe.
#pragma once

#include <opencv2/core/mat.hpp>

namespace celtrace {

// Returns the rectangle of `image` left after removing uniform rows and columns from each
// edge, or the whole image when there are no bars (or trimming would leave less than 40%
// of a side, which means the image is mostly flat rather than barred).
cv::Rect FindContentRect(const cv::Mat& image);

}  // namespace celtrace
