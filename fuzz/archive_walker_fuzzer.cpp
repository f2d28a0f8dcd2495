// libFuzzer entry point for celtrace::fuzz::WalkArchive (fuzz_targets.h). Build with the `fuzz`
// preset; README "Hostile inputs" gives the commands and the figures of longer runs.
#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return celtrace::fuzz::WalkArchive(data, size);
}
