// How the HTTP server writes its log lines (internal to host_stub/server/): one line, newline
// included, in one write(2) where the system keeps that whole, so that the workers need no lock
// around it.
#ifndef WFP_HOST_STUB_SERVER_LOG_WRITER_H_
#define WFP_HOST_STUB_SERVER_LOG_WRITER_H_

#include <string_view>

namespace wfp::host::server_detail {

// Writes `line` and a newline to `fd` (stderr in the server), however many write(2) calls it takes
// (a partial write goes on with the rest; EINTR is retried; a non-blocking descriptor that is full
// is waited for, at most a second at a time, and the line is dropped when it stays full or on any
// other error). A line of at most PIPE_BUF bytes (with its newline) is written by one call, which
// Linux keeps whole on a pipe and on a regular file (no other write lands inside it): such lines
// only share a lock (a reader's: no futex call unless a longer line is being written), never wait
// for one another. A longer line, which a pipe may split, holds that lock alone while it is
// written. Thread-safe; the lock is per process, since every server writes to the same stderr.
void WriteLogLine(int fd, std::string_view line);

}  // namespace wfp::host::server_detail

#endif  // WFP_HOST_STUB_SERVER_LOG_WRITER_H_
