// Compiled into every program and test of a ThreadSanitizer build only (core/CMakeLists.txt).
// OpenCV's own parallel_for_ runs serially there: Debian's libopencv_core is not
// instrumented, and the oneTBB header code inlined into it (its task_arena, its
// task_group_context and its wait on the caller's stack) hides from TSan the order between
// a TBB worker's last access to those objects and the caller's next use of that memory.
// Every report of the sharded run over the instrumented oneTBB (scripts/tsan-tbb.sh) was of
// that kind. OpenCV's threading is not celtrace's; celtrace's own TBB work stays parallel
// and checked. (OPENCV_FOR_THREADS_NUM is read only by cv::setNumThreads(-1), so the
// environment cannot do this.)
#include <opencv2/core/utility.hpp>

namespace {

const bool kOpenCvSerial = [] {
  cv::setNumThreads(1);
  return true;
}();

}  // namespace
