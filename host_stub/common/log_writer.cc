#include "common/log_writer.h"

#include <limits.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <shared_mutex>
#include <string>

namespace wfp::host {
namespace {

// Shared by the lines written in one call, held alone by a longer line (see WriteLogLine).
std::shared_mutex g_long_line;

// Every byte of [data, data + size) to `fd`; false when it gave up (the rest is dropped).
bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n > 0) {
      data += n;
      size -= static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      int ready;
      do ready = ::poll(&p, 1, 1000);
      while (ready < 0 && errno == EINTR);
      if (ready > 0) continue;
    }
    return false;
  }
  return true;
}

}  // namespace

void WriteLogLine(int fd, std::string_view line) {
  std::string text;
  text.reserve(line.size() + 1);
  text.append(line);
  text.push_back('\n');
  if (text.size() <= PIPE_BUF) {
    std::shared_lock lock(g_long_line);
    WriteAll(fd, text.data(), text.size());
  } else {
    std::unique_lock lock(g_long_line);
    WriteAll(fd, text.data(), text.size());
  }
}

}  // namespace wfp::host
