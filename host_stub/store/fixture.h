// The fixture format of wfp-host (Store::Seed and Store::Dump), inside the store: the fixture as
// read (plain structs), the reader of its shape and types, and the steps that the seed and the
// dump are made of. fixture_read.cc reads, fixture_check.cc checks ids and references and assigns
// omitted ids, fixture_seed.cc writes (Store::Seed), fixture_dump.cc dumps (Store::Dump). Written
// once for every backend against store_internal::SqlSession (portable SQL).
#ifndef WFP_HOST_STORE_FIXTURE_H_
#define WFP_HOST_STORE_FIXTURE_H_

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time_text.h"
#include "store/internal.h"

namespace wfp::host::fixture {

namespace json = boost::json;
using store_internal::kStateBlocked;
using store_internal::kStateQueued;
using store_internal::kStateRunning;
using wfp::host::ParseStoredInstant;

// ---- attempt status <-> stored flags ----------------------------------------------------------

struct Flags {
  int done;
  int success;
  int cancel_requested;
  int state;
};

inline constexpr std::array<std::pair<std::string_view, Flags>, 7> kStatuses = {{
    {"success", {1, 1, 0, kStateRunning}},
    {"killed", {1, 0, 1, kStateRunning}},
    {"error", {1, 0, 0, kStateRunning}},
    {"canceling", {0, 0, 1, kStateRunning}},
    {"blocked", {0, 0, 0, kStateBlocked}},
    {"running", {0, 0, 0, kStateRunning}},
    {"queued", {0, 0, 0, kStateQueued}},
}};

// The route's status of an attempt from its flags (spec/backfill-route.md).
inline std::string_view StatusOf(const Flags& f) {
  if (f.success) return "success";
  if (f.done) return f.cancel_requested ? "killed" : "error";
  if (f.cancel_requested) return "canceling";
  if (f.state == kStateBlocked) return "blocked";
  if (f.state == kStateRunning) return "running";
  return "queued";
}

// ---- the fixture as read ----------------------------------------------------------------------

struct SiteIn {
  std::string path;
  std::optional<int64_t> id;
  std::vector<std::string> keys;
};
struct ProjectIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t site_id = 0;
  std::string name;
};
struct WorkflowIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t project_id = 0;
  std::string name;
  std::string timezone;
  std::optional<std::string> schedule;  // JSON text
  std::optional<std::string> pool_id;
};
struct ScheduleIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t workflow_id = 0;
  int64_t next_schedule_time = 0;
  int64_t next_run_time = 0;
  std::optional<int64_t> last_session_time;
  std::optional<int64_t> disabled_at;
};
struct AttemptIn {
  std::string path;
  std::optional<int64_t> id;
  int32_t index = 0;
  std::optional<std::string> name;
  Flags flags{};
  std::string params;  // JSON text of an object
  int64_t created_at = 0;
  std::optional<int64_t> finished_at;
  std::optional<std::string> pool_id;
  std::optional<int64_t> depends_on_session_id;
};
struct SessionIn {
  std::string path;
  std::optional<int64_t> id;
  int64_t project_id = 0;
  std::string workflow_name;
  int64_t session_time = 0;
  std::optional<std::string> uuid;
  std::vector<AttemptIn> attempts;
};
struct FixtureIn {
  std::vector<SiteIn> sites;
  std::vector<ProjectIn> projects;
  std::vector<WorkflowIn> workflows;
  std::vector<ScheduleIn> schedules;
  std::vector<SessionIn> sessions;
};

// Whether a field may be absent or null.
enum class Need { kRequired, kOptional };

// Reads the fixture's shape and types, and records the first problem found, with its JSON path,
// for the steps below (which answer it as their Status). Its readers return false once a problem
// is recorded.
class Reader {
 public:
  // The first problem ("$.projects[0].siteId: missing"); ok() while there is none.
  const Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

  // A problem of the fixture itself: WFP_ERR_INVALID_ARGUMENT, or `code` (WFP_ERR_NOT_FOUND for a
  // reference to a row that does not exist, WFP_ERR_CONFLICT for a collision with the store).
  bool Fail(const std::string& path, std::string_view message,
            wfp_status code = WFP_ERR_INVALID_ARGUMENT) {
    if (status_.ok()) status_ = Status(code, fmt::format("{}: {}", path, message));
    return false;
  }
  // A failure of the store met at `path`, with its code.
  bool Fail(const std::string& path, const Status& failure) {
    return Fail(path, failure.message(), failure.code());
  }

  const json::object* Object(const json::value& v, const std::string& path,
                             std::initializer_list<std::string_view> allowed) {
    const json::object* o = v.if_object();
    if (!o) {
      Fail(path, "expected an object");
      return nullptr;
    }
    for (const auto& kv : *o) {
      if (std::find(allowed.begin(), allowed.end(), std::string_view(kv.key())) == allowed.end()) {
        Fail(path + "." + std::string(kv.key()), "unknown key");
        return nullptr;
      }
    }
    return o;
  }

  // The array at o[key] (absent or null: empty).
  const json::array* Array(const json::object& o, std::string_view key, const std::string& path) {
    static const json::array kEmpty;
    const json::value* v = o.if_contains(key);
    if (!v || v->is_null()) return &kEmpty;
    if (!v->is_array()) {
      Fail(Path(path, key), "expected an array");
      return nullptr;
    }
    return &v->get_array();
  }

  // A field that is present and not null, or an error when it must be; nullptr otherwise.
  const json::value* Value(const json::object& o, std::string_view key, const std::string& path,
                           Need need) {
    const json::value* v = o.if_contains(key);
    if (v && !v->is_null()) return v;
    if (need == Need::kRequired) Fail(Path(path, key), v ? "must not be null" : "missing");
    return nullptr;
  }

  bool Int(const json::object& o, std::string_view key, const std::string& path, Need need,
           std::optional<int64_t>* out) {
    *out = std::nullopt;
    const json::value* v = Value(o, key, path, need);
    if (!v) return ok();
    if (!v->is_int64()) return Fail(Path(path, key), "expected an integer");
    *out = v->get_int64();
    return true;
  }

  // An id or a reference to one: a positive integer.
  bool Id(const json::object& o, std::string_view key, const std::string& path, Need need,
          std::optional<int64_t>* out) {
    if (!Int(o, key, path, need, out)) return false;
    if (*out && **out <= 0) return Fail(Path(path, key), "expected a positive integer id");
    return true;
  }

  bool String(const json::object& o, std::string_view key, const std::string& path, Need need,
              std::optional<std::string>* out) {
    *out = std::nullopt;
    const json::value* v = Value(o, key, path, need);
    if (!v) return ok();
    if (!v->is_string()) return Fail(Path(path, key), "expected a string");
    *out = std::string(v->get_string());
    return true;
  }

  bool Time(const json::object& o, std::string_view key, const std::string& path, Need need,
            std::optional<int64_t>* out) {
    *out = std::nullopt;
    const json::value* v = Value(o, key, path, need);
    if (!v) return ok();
    if (!v->is_string()) return Fail(Path(path, key), "expected a time string");
    *out = ParseStoredInstant(v->get_string());
    if (!*out)
      return Fail(Path(path, key),
                  fmt::format("not an ISO-8601 instant with an offset in whole seconds: '{}'",
                              std::string_view(v->get_string())));
    return true;
  }

  static std::string Path(const std::string& path, std::string_view key) {
    return path + "." + std::string(key);
  }
  static std::string Index(const std::string& path, size_t i) {
    return fmt::format("{}[{}]", path, i);
  }

 private:
  Status status_;
};

// The steps. Each answers its first problem with the JSON path in its message.
// The fixture's shape and types, into *out.
Status ReadFixture(const json::value& fixture, FixtureIn* out);
// Ids and references against the fixture and what the store holds; assigns omitted ids.
Status Check(FixtureIn& f, store_internal::SqlSession& db);
// Every row, sessions before attempts.
Status Write(const FixtureIn& f, store_internal::SqlSession& db);
// The store as the fixture format (sites, projects, workflows, schedules, sessions).
Status DumpInto(store_internal::SqlSession& db, json::object& out);

}  // namespace wfp::host::fixture

#endif  // WFP_HOST_STORE_FIXTURE_H_
