// What the connections of one RunServer share (internal to host_stub/server/): ServerCore, the
// options, the handler, the stop and drain state and the live sessions; and the sessions
// themselves (session.cc), started by the listener and stopped by RunServer.
#ifndef WFP_HOST_STUB_SERVER_SERVER_CORE_H_
#define WFP_HOST_STUB_SERVER_SERVER_CORE_H_

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/log_writer.h"
#include "server/server.h"

namespace wfp::host::server_detail {

using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

class Session;

// What every connection of one RunServer shares. Thread-safe.
class ServerCore {
 public:
  ServerCore(const ServerOptions& options, StreamingHandler handler)
      : options_(options), handler_(std::move(handler)) {}

  const ServerOptions& options() const { return options_; }
  const StreamingHandler& handler() const { return handler_; }
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  // Draining or stopping: responses close their connection.
  bool closing() const { return draining_.load(std::memory_order_acquire) || stopping(); }

  // One log line (the access log's or a note), to options.log_sink or stderr.
  void Log(std::string_view line) const {
    if (options_.log_sink) {
      options_.log_sink(line);
      return;
    }
    WriteLogLine(STDERR_FILENO, line);
  }

  // One of the server's own notes, in the log's format (FormatServerNote).
  void Note(ServerNoteLevel level, std::string_view message) const {
    Log(FormatServerNote(level, message, options_.access_log_format));
  }

  // `fd`: the connection's socket, which CutAll may shut down until Closing(session) is called.
  void Add(Session* session, std::weak_ptr<Session> weak, int fd) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.emplace(session, Live{std::move(weak), fd});
  }
  // The session is about to close its socket: CutAll must no longer touch its descriptor (which
  // the system may give to another file once it is closed).
  void Closing(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = sessions_.find(session); it != sessions_.end()) it->second.fd = -1;
  }
  void Remove(Session* session) {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_.erase(session);
    cv_.notify_all();
  }
  std::vector<std::shared_ptr<Session>> LiveSessions() {
    std::vector<std::shared_ptr<Session>> live;
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [ptr, entry] : sessions_)
      if (auto s = entry.session.lock()) live.push_back(std::move(s));
    return live;
  }
  // Shuts down (both ways) the socket of every connection still open, from any thread: a handler
  // streaming its answer sees its next write fail, a pending read or write ends with an error.
  // The close that follows resets the connection (SO_LINGER 0): the client sees the answer cut
  // now, not after reading what still sat in the buffers. The number of connections cut.
  size_t CutAll() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t cut = 0;
    const linger reset{1, 0};
    for (auto& [ptr, entry] : sessions_) {
      if (entry.fd < 0) continue;
      ::setsockopt(entry.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      if (::shutdown(entry.fd, SHUT_RDWR) == 0) ++cut;
    }
    return cut;
  }

  // `now`: skip the drain period (SIGINT). A second request during the drain ends it too.
  void RequestStop(bool now = false) {
    std::lock_guard<std::mutex> lock(mu_);
    stop_requests_ += now ? 2 : 1;
    cv_.notify_all();
  }
  void WaitForStopRequest() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return stop_requests_ > 0; });
  }
  // The drain period (see ServerOptions::drain_period): not ready, still serving.
  void Drain() {
    if (options_.drain_period.count() <= 0) return;
    draining_.store(true, std::memory_order_release);
    if (options_.on_drain) options_.on_drain();
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.drain_period, [&] { return stop_requests_ > 1; });
  }
  void MarkStopping() { stopping_.store(true, std::memory_order_release); }

  // The access-log line and the on_served hook of one answered request.
  void Served(const AccessRecord& record) const {
    Log(FormatAccessLine(record, options_.access_log_format));
    if (options_.on_served) options_.on_served(record);
  }
  enum class Wait { kNoSessions, kDeadline, kStopRequest };
  // Until every connection is gone, the deadline passes, or another stop request (a further
  // SIGTERM or SIGINT) comes.
  Wait WaitForNoSessions(Clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    const int requests = stop_requests_;
    if (cv_.wait_until(lock, deadline,
                       [&] { return sessions_.empty() || stop_requests_ > requests; }))
      return sessions_.empty() ? Wait::kNoSessions : Wait::kStopRequest;
    return Wait::kDeadline;
  }

 private:
  const ServerOptions options_;
  const StreamingHandler handler_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  struct Live {
    std::weak_ptr<Session> session;
    int fd = -1;  // -1 once the session closes its socket
  };
  int stop_requests_ = 0;                        // guarded by mu_
  std::unordered_map<Session*, Live> sessions_;  // guarded by mu_
};

// Starts serving one accepted connection (session.cc): it reads requests until it closes.
void StartSession(tcp::socket&& socket, std::shared_ptr<ServerCore> core);
// The server is stopping: closes each connection waiting for a request that has not begun; one
// with a request in flight finishes it and then closes.
void StopIdleSessions(ServerCore& core);

}  // namespace wfp::host::server_detail

#endif  // WFP_HOST_STUB_SERVER_SERVER_CORE_H_
