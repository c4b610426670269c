// How wfp-host writes a log line to stderr, whichever room writes it (the server's access log and
// notes, the host's and its plugins' lines, the store's): one line, newline included, in one
// write(2) where the system keeps that whole, so that the writers need no lock around it and no
// line lands inside another.
#ifndef WFP_HOST_STUB_COMMON_LOG_WRITER_H_
#define WFP_HOST_STUB_COMMON_LOG_WRITER_H_

#include <string_view>

namespace wfp::host {

// Writes `line` and a newline to `fd` (stderr in the server), however many write(2) calls it takes
// (a partial write goes on with the rest; EINTR is retried; a non-blocking descriptor that is full
// is waited for, at most a second at a time, and the line is dropped when it stays full or on any
// other error). A line of at most PIPE_BUF bytes (with its newline) is written by one call, which
// Linux keeps whole on a pipe and on a regular file (no other write lands inside it): such lines
// only share a lock (a reader's: no futex call unless a longer line is being written), never wait
// for one another. A longer line, which a pipe may split, holds that lock alone while it is
// written. Thread-safe; the lock is per process, since every writer writes to the same stderr.
void WriteLogLine(int fd, std::string_view line);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_LOG_WRITER_H_
