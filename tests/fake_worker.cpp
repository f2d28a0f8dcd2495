// A test double of the sandbox worker (`celtrace-match --worker`): speaks the pool's
// protocol on descriptor 3 and misbehaves on request, chosen by the input's label:
//   "crash..."  raises SIGSEGV          "hang..."   sleeps forever
//   "alloc..."  allocates 8 GiB         "write:PATH" writes a byte to PATH
//   "session"   answers with its session id in `error`
// Anything else is answered with a no_match record whose sha256 is that of the bytes (or
// the descriptor) received, and whose error names how the content came ("bytes", "fd").
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "celtrace/checksum.h"
#include "result_record.h"
#include "sandbox.h"

using json = nlohmann::json;

int main() {
  constexpr int kChannel = 3;
  const auto ready = json::to_cbor(json{{"ready", true}});
  if (!celtrace::sandbox::SendFrame(kChannel, std::string(ready.begin(), ready.end()))) return 2;
  while (true) {
    std::string header_bytes, bytes;
    int fd = -1;
    if (!celtrace::sandbox::ReceiveFrame(kChannel, &header_bytes, &fd)) return 0;
    if (!celtrace::sandbox::ReceiveFrame(kChannel, &bytes)) return 2;
    const json header = json::from_cbor(header_bytes);
    const auto& raw_label = header.at("label").get_binary();
    const std::string label(raw_label.begin(), raw_label.end());
    celtrace::LimitWorkerItem(30, 30);
    celtrace::ResultRecord record;
    record.path = label;
    record.media = "image";
    record.status = "no_match";
    if (label.starts_with("crash")) {
      ::raise(SIGSEGV);
    } else if (label.starts_with("hang")) {
      while (true) ::pause();
    } else if (label.starts_with("alloc")) {
      void* block = std::malloc(8ull << 30);
      if (block != nullptr) std::memset(block, 1, 8ull << 30);
      record.status = "error";
      record.error = block == nullptr ? "too_large: allocation refused" : "allocated";
      std::free(block);
    } else if (label == "session") {
      record.error = std::to_string(::getsid(0));
    } else if (label.starts_with("write:")) {
      const int out = ::open(label.substr(6).c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0 && ::write(out, "x", 1) == 1) record.error = "wrote";
      if (out >= 0) ::close(out);
    } else if (fd >= 0) {
      record.sha256 = celtrace::Sha256Fd(fd, label);
      record.error = "fd";
    } else {
      record.sha256 = celtrace::Sha256(
          std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
      record.error = "bytes";
    }
    if (fd >= 0) ::close(fd);
    ::alarm(0);
    const std::vector<std::uint8_t> picture = {0xff, 0xd8, 0xff};
    const auto reply = json::to_cbor(
        json{{"record", celtrace::ToJsonLine(record)}, {"thumbnail", json::binary_t(picture)}});
    if (!celtrace::sandbox::SendFrame(kChannel, std::string(reply.begin(), reply.end()))) return 0;
  }
}
