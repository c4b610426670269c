// What the backends share: choosing a backend from the location, key hashing, the grouping of
// list_sessions rows, load_schedule_window made of the three reads, and the store's log. (Time
// text is common/time_text.h's.)
#include <fmt/format.h>
#include <openssl/evp.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

#include "common/log_line.h"
#include "common/log_writer.h"
#include "store/backends.h"
#include "store/internal.h"
#include "store/store.h"

namespace wfp::host {

namespace {

// libpq's keyword/value form ("host=db user=wfp ..."): it starts with one of libpq's keywords and
// '='. A file name that does ("user=a.db") is given with a directory ("./user=a.db").
bool IsLibpqKeywordValue(std::string_view location) {
  static constexpr std::string_view kKeywords[] = {"host",
                                                   "hostaddr",
                                                   "port",
                                                   "dbname",
                                                   "user",
                                                   "password",
                                                   "service",
                                                   "sslmode",
                                                   "options",
                                                   "passfile",
                                                   "application_name",
                                                   "connect_timeout",
                                                   "target_session_attrs"};
  const size_t start = location.find_first_not_of(' ');
  if (start == std::string_view::npos) return false;
  const std::string_view rest = location.substr(start);
  for (std::string_view keyword : kKeywords) {
    if (rest.substr(0, keyword.size()) != keyword) continue;
    const size_t eq = rest.find_first_not_of(' ', keyword.size());
    if (eq != std::string_view::npos && rest[eq] == '=') return true;
  }
  return false;
}

}  // namespace

Store::Kind Store::KindOf(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0 ||
                 IsLibpqKeywordValue(location)
             ? Kind::kPostgres
             : Kind::kSqlite;
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& location) {
  return Open(location, StoreOptions{});
}

Result<std::unique_ptr<Store>> Store::Open(const std::string& location,
                                           const StoreOptions& options) {
  if (location.empty()) return Status::InvalidArgument("the store path is empty");
  if (options.exclusive && !CanBeHeldAlone(location))
    return Status::InvalidArgument("only an SQLite file can be held for one process alone");
  if (KindOf(location) == Kind::kPostgres) return store_internal::OpenPostgres(location, options);
  return store_internal::OpenSqlite(location, options);
}

bool Store::CanBeHeldAlone(std::string_view location) {
  return KindOf(location) == Kind::kSqlite && location != ":memory:";
}

namespace store_internal {

// The readiness ping's connection and its one ping in flight, run by a thread of the store's.
struct PingState {
  std::mutex mu;
  std::condition_variable cv;
  // Fired by ~Store; declared before `connection`, which may keep its descriptor.
  PingInterrupt interrupt;
  // The ping's thread's while a ping runs (`running`); else guarded by mu.
  std::unique_ptr<StoreConnection> connection;
  bool running = false;  // guarded by mu
  uint64_t done = 0;     // pings finished; guarded by mu
  Status last;           // the last ping's outcome; guarded by mu
  // The thread of the ping running or last run; joined before the next starts, and by ~Store.
  std::thread thread;  // guarded by mu
};

PingInterrupt::PingInterrupt() : fd_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

PingInterrupt::~PingInterrupt() {
  if (fd_ >= 0) ::close(fd_);
}

void PingInterrupt::Fire() {
  std::lock_guard lock(mu_);
  fired_ = true;
  if (fd_ >= 0) (void)!::eventfd_write(fd_, 1);
  if (attached_) attached_->Interrupt();
}

AttachedConnection::AttachedConnection(PingInterrupt& interrupt, StoreConnection& connection)
    : interrupt_(interrupt) {
  std::lock_guard lock(interrupt.mu_);
  ok_ = !interrupt.fired_;
  if (ok_) interrupt.attached_ = &connection;
}

AttachedConnection::~AttachedConnection() {
  if (!ok_) return;
  std::lock_guard lock(interrupt_.mu_);  // waits for a Fire interrupting the connection
  interrupt_.attached_ = nullptr;
}

namespace {

thread_local const StoreConnection* t_interruptible = nullptr;

// One read-only transaction reading a schedule (none has id 0: the answer is "not found", read
// from the table all the same, under the database's read lock).
Status ReadOnce(StoreConnection& connection) {
  wfp_txn* raw = nullptr;
  if (const wfp_status begun = connection.BeginTransaction(/*read_only=*/true, &raw);
      begun != WFP_OK)
    return Status::Failure(begun, "the store did not begin a read transaction");
  std::unique_ptr<wfp_txn> txn(raw);
  txn->read_only = true;  // as StoreApi()'s begin_read marks it (no FOR UPDATE on PostgreSQL)
  wfp_schedule_info info{};
  info.struct_size = sizeof info;
  const wfp_status read = txn->LoadSchedule(0, 0, &info);
  txn->Rollback();
  if (read == WFP_OK || read == WFP_ERR_NOT_FOUND) return Status::Ok();
  return Status::Failure(read, fmt::format("the store did not answer a read: {}", txn->last_error));
}

// One ping on its thread: connects through `connect` when there is no connection yet, then reads.
Status PingOnce(PingState& state, const Store::PingConnector& connect) {
  if (!state.connection) {
    Result<std::unique_ptr<StoreConnection>> connected = connect(state.interrupt);
    if (!connected.ok()) return connected.status();
    state.connection = std::move(*connected);
  }
  const AttachedConnection attached(state.interrupt, *state.connection);
  if (!attached.ok()) return Status::Internal("the store's ping was interrupted");
  const InterruptScope interruptible(*state.connection);
  return ReadOnce(*state.connection);
}

void RunPing(PingState& state, const Store::PingConnector& connect) {
  Status answer;
  try {
    answer = PingOnce(state, connect);
  } catch (const std::exception& e) {
    answer = Status::Internal(fmt::format("the store did not answer a read: {}", e.what()));
  }
  std::lock_guard<std::mutex> lock(state.mu);
  if (!answer.ok()) state.connection.reset();  // the next ping connects again
  state.last = std::move(answer);
  state.running = false;
  ++state.done;
  state.cv.notify_all();
}

}  // namespace

InterruptScope::InterruptScope(const StoreConnection& connection) : outer_(t_interruptible) {
  t_interruptible = &connection;
}
InterruptScope::~InterruptScope() { t_interruptible = outer_; }
bool Interrupted() { return t_interruptible && t_interruptible->interrupted(); }

}  // namespace store_internal

Store::Store() : ping_(std::make_unique<store_internal::PingState>()) {}

Store::~Store() {
  store_internal::PingState& state = *ping_;
  state.interrupt.Fire();  // a connect or a read of a ping running ends at once
  std::unique_lock<std::mutex> lock(state.mu);
  std::thread thread = std::move(state.thread);
  lock.unlock();  // the thread takes mu to finish
  if (thread.joinable()) thread.join();
}

Store::PingConnector Store::ConnectForPing() {
  auto connected = std::make_shared<Result<std::unique_ptr<StoreConnection>>>(Connect());
  return [connected](store_internal::PingInterrupt&) { return std::move(*connected); };
}

Status Store::Ping() {
  store_internal::PingState& state = *ping_;
  std::unique_lock<std::mutex> lock(state.mu);
  if (!state.running) {
    // The last ping's thread has finished (it cleared `running` and needs mu no more).
    if (state.thread.joinable()) state.thread.join();
    PingConnector connect;
    if (!state.connection) connect = ConnectForPing();
    try {
      state.thread = std::thread(
          [&state, connect = std::move(connect)] { store_internal::RunPing(state, connect); });
    } catch (const std::system_error& e) {
      return Status::Internal(
          fmt::format("the store's ping could not start a thread: {}", e.what()));
    }
    state.running = true;  // before the thread can finish: it takes mu to do so
  }
  const uint64_t want = state.done + 1;
  if (!state.cv.wait_for(lock, kPingBound, [&] { return state.done >= want; }))
    return Status::Busy(
        fmt::format("the store did not answer a read within {} ms", kPingBound.count()));
  return state.last;
}

std::string Store::Redact(std::string_view location) {
  if (KindOf(location) == Kind::kPostgres) return store_internal::RedactPostgresUrl(location);
  return std::string(location);
}

void WriteStoreLogDefault(std::string_view message) {
  WriteLogLine(STDERR_FILENO, "wfp store: " + EscapeControls(message));
}

namespace store_internal {

// ---- SessionGrouper ---------------------------------------------------------------------------

bool SessionGrouper::Row(int64_t session_id, std::optional<std::string_view> uuid,
                         int64_t session_time, bool has_attempt,
                         std::optional<std::string_view> attempt_name, int32_t attempt_index) {
  if (stopped_) return false;
  if (!have_ || session_id != id_) {
    if (have_ && !Emit()) return false;
    have_ = true;
    id_ = session_id;
    time_ = session_time;
    uuid_ = uuid ? std::optional<std::string>(*uuid) : std::nullopt;
    names_.clear();
    indexes_.clear();
  }
  if (has_attempt) {
    names_.push_back(attempt_name ? std::optional<std::string>(*attempt_name) : std::nullopt);
    indexes_.push_back(attempt_index);
  }
  return true;
}

void SessionGrouper::Finish() {
  if (have_ && !stopped_) Emit();
  have_ = false;
}

bool SessionGrouper::Emit() {
  refs_.clear();
  for (size_t i = 0; i < names_.size(); ++i)
    refs_.push_back(wfp_attempt_ref{
        names_[i] ? wfp_str{names_[i]->data(), names_[i]->size()} : wfp_str{nullptr, 0},
        indexes_[i]});
  wfp_session_info info{};
  info.struct_size = sizeof info;
  info.session_id = id_;
  info.uuid = uuid_ ? wfp_str{uuid_->data(), uuid_->size()} : wfp_str{nullptr, 0};
  info.session_time = time_;
  info.attempts = refs_.empty() ? nullptr : refs_.data();
  info.attempt_count = refs_.size();
  if (visitor_(user_data_, &info) != 0) stopped_ = true;
  return !stopped_;
}

// ---- load_schedule_window ----------------------------------------------------------------------

int32_t WindowVisits::Visit(void* self, const wfp_session_info* session) {
  auto* w = static_cast<WindowVisits*>(self);
  if (w->left_ == 0 || w->visitor_(w->user_data_, session) != 0) {
    w->stopped_ = true;
    return 1;
  }
  --w->left_;
  return 0;
}

// ---- the log and keys ---------------------------------------------------------------------------

void WriteLog(const StoreLog& log, std::string_view message) {
  if (log) {
    log(message);
    return;
  }
  WriteStoreLogDefault(message);
}

std::array<unsigned char, 32> HashApiKey(std::string_view key) {
  // Fetched once: given EVP_sha256(), OpenSSL 3 looks the algorithm up again on every digest.
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), out.data(), &size, fetched ? fetched : EVP_sha256(), nullptr);
  return out;
}

}  // namespace store_internal
}  // namespace wfp::host

wfp_status wfp_txn::LoadScheduleWindow(int64_t site_id, int64_t schedule_id, wfp_schedule_info* out,
                                       wfp_session_window* window) {
  using wfp::host::store_internal::View;
  using wfp::host::store_internal::WindowVisits;
  wfp_status st = LoadSchedule(site_id, schedule_id, out);
  if (st != WFP_OK) return st;
  WindowVisits visits(*window);
  st = ListSessions(out->project_id, View(out->workflow_name), window->from, window->to,
                    WindowVisits::Visit, &visits);
  if (st != WFP_OK) return st;
  window->complete = visits.complete() ? 1 : 0;
  int32_t found = 0;
  int64_t time = 0;
  st = LatestSessionBefore(out->project_id, View(out->workflow_name), window->from, &found, &time);
  if (st != WFP_OK) return st;
  window->has_latest_before = found;
  window->latest_before = found ? time : 0;
  return WFP_OK;
}
