// WriteLogLine (common/log_writer.h) against real pipes: lines written at once by several threads,
// short and longer than PIPE_BUF, arrive whole and one per line; a full non-blocking pipe is waited
// for, the line written on from where a partial write stopped.
#include "common/log_writer.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "runtime/host.h"

namespace wfp::host {
namespace {

// Reads `fd` to its end on a thread; the text once joined.
class PipeReader {
 public:
  PipeReader(int fd, std::chrono::microseconds pause) {
    thread_ = std::thread([this, fd, pause] {
      char chunk[4096];
      for (;;) {
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n <= 0) break;
        text_.append(chunk, static_cast<size_t>(n));
        if (pause.count() > 0) std::this_thread::sleep_for(pause);
      }
    });
  }
  const std::string& Join() {
    thread_.join();
    return text_;
  }

 private:
  std::thread thread_;
  std::string text_;
};

// Thread t's line i: "t:i:" then its letter, short, or (every 10th) longer than PIPE_BUF.
std::string LineOf(int t, int i) {
  const size_t length = i % 10 == 0 ? 3 * PIPE_BUF : 60;
  return std::to_string(t) + ":" + std::to_string(i) + ":" +
         std::string(length, static_cast<char>('a' + t));
}

TEST(LogWriter, LinesFromSeveralThreadsArriveWholeOnePerLine) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  PipeReader reader(fds[0], std::chrono::microseconds(0));
  constexpr int kThreads = 4, kLines = 300;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t)
    writers.emplace_back([t, fd = fds[1]] {
      for (int i = 0; i < kLines; ++i) WriteLogLine(fd, LineOf(t, i));
    });
  for (auto& w : writers) w.join();
  ::close(fds[1]);
  const std::string& text = reader.Join();
  ::close(fds[0]);
  std::map<std::string, int> seen;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    ++seen[text.substr(start, end - start)];
  EXPECT_EQ(start, text.size());  // ends with a newline
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kLines; ++i) EXPECT_EQ(seen[LineOf(t, i)], 1) << t << ":" << i;
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kLines));  // nothing else: no torn line
}

TEST(LogWriter, AFullNonBlockingPipeIsWaitedForAndTheLineGoesOnWhereItStopped) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::fcntl(fds[1], F_SETPIPE_SZ, 4096);
  ASSERT_EQ(::fcntl(fds[1], F_SETFL, ::fcntl(fds[1], F_GETFL) | O_NONBLOCK), 0);
  std::string line;
  for (int i = 0; line.size() < 256 * 1024; ++i) line += std::to_string(i) + ",";
  PipeReader reader(fds[0], std::chrono::microseconds(200));  // slower than the writer
  WriteLogLine(fds[1], line);
  ::close(fds[1]);
  const std::string& text = reader.Join();
  ::close(fds[0]);
  EXPECT_EQ(text.size(), line.size() + 1);
  EXPECT_TRUE(text == line + "\n");
}

// Points stderr at a pipe while it lives (the pipe's write end closed after), then back.
class StderrToPipe {
 public:
  explicit StderrToPipe(int write_end) : saved_(::dup(STDERR_FILENO)) {
    ::dup2(write_end, STDERR_FILENO);
    ::close(write_end);
  }
  ~StderrToPipe() {
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }

 private:
  int saved_;
};

// Two threads log through the host (no sink: stderr), lines longer than PIPE_BUF; two write short
// lines as the server does; a slow reader keeps the pipe full, so that a long write waits for room
// partway, when another writer's line could land inside it.
TEST(HostLog, ALineLongerThanPipeBufIsNotCutByTheServersLines) {
  HostOptions options;
  options.fixed_now_micros = 0;
  Host host(std::move(options));
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::fcntl(fds[1], F_SETPIPE_SZ, 4096);
  constexpr int kLines = 40;
  std::string text;
  {
    PipeReader reader(fds[0], std::chrono::microseconds(300));
    {
      StderrToPipe redirected(fds[1]);
      std::vector<std::thread> writers;
      for (int t = 0; t < 2; ++t)
        writers.emplace_back([&host, t] {
          const std::string message(4096, static_cast<char>('a' + t));
          for (int i = 0; i < kLines; ++i) host.Log(WFP_LOG_INFO, "h" + std::to_string(t), message);
        });
      for (int t = 2; t < 4; ++t)
        writers.emplace_back([t] {
          for (int i = 0; i < 20 * kLines; ++i) WriteLogLine(STDERR_FILENO, LineOf(t, 1));
        });
      for (auto& w : writers) w.join();
    }  // the pipe's last write end closes: the reader ends
    text = reader.Join();
  }
  ::close(fds[0]);
  std::map<std::string, int> seen;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    ++seen[text.substr(start, end - start)];
  for (int t = 0; t < 2; ++t)
    EXPECT_EQ(seen["[INFO] h" + std::to_string(t) + ": " + std::string(4096, 'a' + t)], kLines);
  for (int t = 2; t < 4; ++t) EXPECT_EQ(seen[LineOf(t, 1)], 20 * kLines);
  EXPECT_EQ(seen.size(), 4u);  // nothing else: no line cut by another
}

}  // namespace
}  // namespace wfp::host
