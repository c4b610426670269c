// What the backends share: choosing a backend from the location, time text, key hashing, the
// grouping of list_sessions rows, and the store's log.
#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include "store/backends.h"
#include "store/internal.h"
#include "store/store.h"

namespace wfp::host {

Store::Kind Store::KindOf(std::string_view location) {
  return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0
             ? Kind::kPostgres
             : Kind::kSqlite;
}

std::unique_ptr<Store> Store::Open(const std::string& location, std::string* error) {
  return Open(location, StoreOptions{}, error);
}

std::unique_ptr<Store> Store::Open(const std::string& location, const StoreOptions& options,
                                   std::string* error) {
  if (location.empty()) {
    *error = "the store path is empty";
    return nullptr;
  }
  if (KindOf(location) == Kind::kPostgres)
    return store_internal::OpenPostgres(location, options, error);
  return store_internal::OpenSqlite(location, options, error);
}

bool Store::Ping(std::string* error) {
  return RunInTransaction(
      /*write=*/false,
      [](store_internal::SqlSession& session, std::string* why) {
        return session.Run("SELECT 1", {}, why) == store_internal::SqlSession::Outcome::kOk;
      },
      error);
}

std::string Store::Redact(std::string_view location) {
  if (KindOf(location) == Kind::kPostgres) return store_internal::RedactPostgresUrl(location);
  return std::string(location);
}

void WriteStoreLogDefault(std::string_view message) {
  fmt::print(stderr, "wfp store: {}\n", message);
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

// ---- time text and keys -----------------------------------------------------------------------

// The instants a fixture can hold: UTC years 0000 to 9999, the ones "yyyy-MM-ddTHH:mm:ssZ" writes.
constexpr int64_t kFirstInstant = -62167219200;  // 0000-01-01T00:00:00Z
constexpr int64_t kLastInstant = 253402300799;   // 9999-12-31T23:59:59Z

std::string FormatUtc(int64_t epoch_seconds) {
  // Four digits for the year, always (cctz's %Y writes 976 for 976): Seed reads what Dump writes.
  const cctz::civil_second cs = cctz::civil_second(1970, 1, 1, 0, 0, 0) + epoch_seconds;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", cs.year(), cs.month(), cs.day(),
                     cs.hour(), cs.minute(), cs.second());
}

std::optional<int64_t> ParseInstant(std::string_view t) {
  // The shape first: cctz::parse alone also takes spaces, one-digit fields and a 60th second.
  auto digits = [&](size_t from, size_t n) {
    if (t.size() < from + n) return false;
    for (size_t i = from; i < from + n; ++i)
      if (t[i] < '0' || t[i] > '9') return false;
    return true;
  };
  if (!digits(0, 4) || t[4] != '-' || !digits(5, 2) || t[7] != '-' || !digits(8, 2) ||
      t[10] != 'T' || !digits(11, 2) || t[13] != ':' || !digits(14, 2) || t[16] != ':' ||
      !digits(17, 2) || t[17] > '5')
    return std::nullopt;
  size_t i = 19;
  if (i < t.size() && t[i] == '.') {
    size_t start = ++i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9') {
      if (t[i] != '0') return std::nullopt;  // the store keeps whole seconds only
      ++i;
    }
    if (i == start || i - start > 9) return std::nullopt;
  }
  std::string_view zone = t.substr(i);
  if (!(zone == "Z" || (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') &&
                        digits(i + 1, 2) && zone[3] == ':' && digits(i + 4, 2))))
    return std::nullopt;
  cctz::time_point<cctz::seconds> tp;
  if (!cctz::parse("%Y-%m-%dT%H:%M:%E*S%Ez", std::string(t), cctz::utc_time_zone(), &tp))
    return std::nullopt;
  const int64_t seconds = tp.time_since_epoch().count();
  // An offset can carry 0000-01-01 or 9999-12-31 past what FormatUtc can write back.
  if (seconds < kFirstInstant || seconds > kLastInstant) return std::nullopt;
  return seconds;
}

void WriteLog(const StoreLog& log, std::string_view message) {
  if (log) {
    log(message);
    return;
  }
  WriteStoreLogDefault(message);
}

std::array<unsigned char, 32> HashApiKey(std::string_view key) {
  std::array<unsigned char, 32> out{};
  unsigned int size = 0;
  EVP_Digest(key.data(), key.size(), out.data(), &size, EVP_sha256(), nullptr);
  return out;
}

}  // namespace store_internal
}  // namespace wfp::host
