// The libpq layer's connections (pg.h): connecting (blocking, or non-blocking and interruptible),
// reconnecting, and interrupting a statement (a cancel request, then the socket shut down).
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <future>
#include <thread>

#include "store/observer.h"
#include "store/pg/detail.h"
#include "store/pg/pg.h"

namespace wfp::host::pg {

using namespace detail;  // this file defines part of the layer's inside (detail.h)

namespace {

// Replaces every occurrence of `secret` in `text` with "***".
void Scrub(std::string* text, std::string_view secret) {
  if (secret.empty()) return;
  for (size_t at = text->find(secret); at != std::string::npos; at = text->find(secret, at + 3)) {
    text->replace(at, secret.size(), "***");
  }
}

// The parameters of every connection: defaults first, then the URL (expanded: its settings
// override them), then what we insist on.
struct ConnectParams {
  explicit ConnectParams(const std::string& url)
      : values{"10", "wfp-host", url.c_str(), "UTF8", nullptr} {}
  const char* const keywords[5] = {"connect_timeout", "fallback_application_name", "dbname",
                                   "client_encoding", nullptr};
  const char* const values[5];
};

// The error of a connect to `url` that failed: `why`, or else libpq's message.
Error ConnectFailure(PGconn* conn, const std::string& url, const std::string& why) {
  Error e = why.empty() ? ConnectionError(conn, "") : Error{"", why, ""};
  // libpq's message may quote part of a malformed connection string: never the password.
  if (PQconninfoOption* options = PQconninfoParse(url.c_str(), nullptr)) {
    for (PQconninfoOption* o = options; o->keyword; ++o) {
      if (o->val && (std::strcmp(o->keyword, "password") == 0 ||
                     std::strcmp(o->keyword, "sslpassword") == 0)) {
        Scrub(&e.message, o->val);
      }
    }
    PQconninfoFree(options);
  }
  e.message = fmt::format("cannot connect to the store {}: {}", RedactUrl(url), e.message);
  return e;
}

// The connect_timeout in effect on `conn`, as libpq reads it: none (0) when unset or not
// positive, else at least 2 s.
std::chrono::seconds ConnectTimeout(PGconn* conn) {
  int seconds = 0;
  if (PQconninfoOption* options = PQconninfo(conn)) {
    for (PQconninfoOption* o = options; o->keyword; ++o)
      if (o->val && std::strcmp(o->keyword, "connect_timeout") == 0) seconds = std::atoi(o->val);
    PQconninfoFree(options);
  }
  return std::chrono::seconds(seconds <= 0 ? 0 : std::max(seconds, 2));
}

// Drives a connect begun by PQconnectStartParams or PQresetStart through `poll_step`
// (PQconnectPoll or PQresetPoll), waiting for what it asks of the socket, and for
// `interrupt_fd`. True once connected; false when it failed (*why empty: libpq's message says
// why), was interrupted or ran out of time.
bool Drive(PGconn* conn, PostgresPollingStatusType (*poll_step)(PGconn*), int interrupt_fd,
           std::string* why) {
  using Clock = std::chrono::steady_clock;
  const std::chrono::seconds timeout = ConnectTimeout(conn);
  const Clock::time_point deadline = Clock::now() + timeout;
  // Before the first step, as if PQconnectPoll had answered "writing".
  for (PostgresPollingStatusType state = PGRES_POLLING_WRITING;;) {
    if (state == PGRES_POLLING_OK) return true;
    if (state == PGRES_POLLING_FAILED) return false;
    pollfd fds[2] = {
        {PQsocket(conn), static_cast<short>(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0},
        {interrupt_fd, POLLIN, 0}};
    int wait_ms = -1;
    if (timeout.count() > 0) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      wait_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
    }
    const int ready = ::poll(fds, 2, wait_ms);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) {
      *why = fmt::format("poll: {}", std::strerror(errno));
      return false;
    }
    if (fds[1].revents != 0) {
      *why = "interrupted";
      return false;
    }
    if (ready == 0) {
      *why = "timeout expired";
      return false;
    }
    state = poll_step(conn);
  }
}

// Sends a cancel request through `cancel`, waiting at most Connection::kCancelWait for it (see
// Connection::Interrupt). Nothing when no thread can be had.
void SendCancel(const std::shared_ptr<PGcancel>& cancel) noexcept {
  if (!cancel) return;
  try {
    auto sent = std::make_shared<std::promise<void>>();
    std::future<void> done = sent->get_future();
    std::thread sender([cancel, sent] {
      char ignored[256];
      PQcancel(cancel.get(), ignored, sizeof ignored);
      sent->set_value();
    });
    if (done.wait_for(Connection::kCancelWait) == std::future_status::ready) {
      sender.join();
    } else {
      sender.detach();
    }
  } catch (const std::exception&) {
    // The socket is shut down all the same: the backend stops when it next reads from it.
  }
}

std::shared_ptr<PGcancel> CancelOf(PGconn* conn) {
  return std::shared_ptr<PGcancel>(PQgetCancel(conn), PQfreeCancel);
}

}  // namespace

std::unique_ptr<Connection> Connection::Open(const std::string& url, Error* error,
                                             int interrupt_fd) {
  const ConnectParams params(url);
  PGconn* conn = nullptr;
  std::string why;
  if (interrupt_fd < 0) {
    conn = PQconnectdbParams(params.keywords, params.values, /*expand_dbname=*/1);
  } else {
    conn = PQconnectStartParams(params.keywords, params.values, /*expand_dbname=*/1);
    if (conn && PQstatus(conn) != CONNECTION_BAD) Drive(conn, PQconnectPoll, interrupt_fd, &why);
  }
  if (!conn || PQstatus(conn) != CONNECTION_OK) {
    Set(error, ConnectFailure(conn, url, why));
    PQfinish(conn);
    return nullptr;
  }
  // Notices ("relation ... already exists, skipping") are not for stderr.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  CountStoreConnection(+1);
  std::unique_ptr<Connection> c(new Connection(conn));
  c->interrupt_fd_ = interrupt_fd;
  return c;
}

Connection::Connection(pg_conn* conn)
    : conn_(conn), socket_(PQsocket(conn)), cancel_(CancelOf(conn)) {}

Connection::~Connection() {
  PQfinish(conn_);
  CountStoreConnection(-1);
}

void Connection::Interrupt() {
  std::lock_guard lock(interrupt_mu_);
  interrupted_ = true;
  if (socket_ < 0) return;  // Reset reconnects: it looks at interrupted_ when done
  SendCancel(cancel_);
  ::shutdown(socket_, SHUT_RDWR);
}

bool Connection::Reset() {
  {
    std::lock_guard lock(interrupt_mu_);
    if (interrupted_) return false;
    socket_ = -1;
  }
  unread_ = false;  // the reconnection drops whatever the old connection still had to answer
  if (interrupt_fd_ < 0) {
    PQreset(conn_);
  } else if (PQresetStart(conn_)) {
    std::string ignored;  // PQerrorMessage says why
    Drive(conn_, PQresetPoll, interrupt_fd_, &ignored);
  }
  statements_.clear();
  std::shared_ptr<PGcancel> cancel = Healthy() ? CancelOf(conn_) : nullptr;
  {
    std::lock_guard lock(interrupt_mu_);
    cancel_ = std::move(cancel);
    socket_ = PQsocket(conn_);
    if (interrupted_) {
      if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);
      return false;
    }
  }
  if (!Healthy()) return false;
  PQsetNoticeProcessor(
      conn_, [](void*, const char*) {}, nullptr);
  if (lock_timeout_set_) {
    Error ignored;
    SetLockTimeout(lock_timeout_, &ignored);
  }
  return Healthy();
}

}  // namespace wfp::host::pg
