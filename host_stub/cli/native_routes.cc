#include "cli/native_routes.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <span>
#include <stdexcept>

#include "common/time_text.h"
#include "store/store.h"
#include "wfp_text/utf8.h"

namespace wfp::host {
namespace {

namespace json = boost::json;
using NativeRequest = HostOptions::NativeRequest;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) return std::nullopt;
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// An id from a path or a query: 1 to 10 digits, from `min` to 2^31 - 1 (a path's is positive, as
// the backfill route takes them).
std::optional<int64_t> ParseId(std::string_view s, int64_t min = 1) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < min || v > 2147483647) return std::nullopt;
  return v;
}

// "Resource does not exist: schedule id=..." with the id as the backfill route shows it: an excerpt
// of 32 characters at most, invalid UTF-8 and control characters as U+FFFD (docs/http.md).
std::string Missing(std::string_view what, std::string_view raw_id) {
  return fmt::format("Resource does not exist: {} id={}", what, text::Excerpt(raw_id, 32));
}

std::string_view Param(const NativeRequest& r, std::string_view name) {
  for (const auto& [n, v] : r.params)
    if (n == name) return v;
  return {};
}

json::value Utc(const std::optional<int64_t>& t) {
  if (!t) return nullptr;
  return json::string(FormatInstantUtc(*t));
}

json::object ScheduleJson(const Store::ScheduleRecord& s) {
  json::object o;
  o["id"] = std::to_string(s.id);
  o["project"] = json::object{{"id", std::to_string(s.project_id)}, {"name", s.project_name}};
  o["workflow"] = json::object{{"id", std::to_string(s.workflow_id)}, {"name", s.workflow_name}};
  o["nextRunTime"] = Utc(s.next_run_time);
  o["nextScheduleTime"] = s.next_schedule_time
                              ? json::value(FormatInZone(*s.next_schedule_time, s.timezone))
                              : json::value(nullptr);
  o["disabledAt"] = Utc(s.disabled_at);
  o["timezone"] = s.timezone.empty() ? "UTC" : s.timezone;
  return o;
}

HttpResponse Json(json::value body) {
  HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("content-type", "application/json");
  r.body = json::serialize(body);
  return r;
}

[[noreturn]] HttpResponse StoreFailure(const Status& failure) {
  // The store's text goes to the host's log (Host answers a thrown handler with a generic 500).
  throw std::runtime_error(failure.message());
}

// Each route's query parameters, by name: values percent-decoded ('+' is a space).
using QueryValues = std::map<std::string, std::string, std::less<>>;

std::string KnownParameters(std::span<const std::string_view> known) {
  if (known.empty()) return "this route takes no query parameters";
  std::string names;
  for (size_t i = 0; i < known.size(); ++i)
    names += fmt::format("{}'{}'", i == 0 ? "" : i + 1 == known.size() ? " and " : ", ", known[i]);
  return fmt::format("this route takes {} only", names);
}

// The query string's parameters, or the 400 for one that is unknown (naming the known ones), given
// more than once, or not validly percent-encoded. An empty pair ("a=1&&b=2", a trailing '&') is
// nothing.
std::optional<HttpResponse> ParseQuery(std::string_view query,
                                       std::span<const std::string_view> known,
                                       QueryValues* values) {
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query.remove_prefix(amp == std::string_view::npos ? query.size() : amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::optional<std::string> name = PercentDecode(pair.substr(0, eq));
    if (!name)
      return ErrorResponse(400,
                           fmt::format("query parameter name '{}' is not validly percent-encoded",
                                       text::Excerpt(pair.substr(0, eq), 64)));
    if (std::find(known.begin(), known.end(), *name) == known.end())
      return ErrorResponse(400, fmt::format("unknown query parameter '{}': {}",
                                            text::Excerpt(*name, 64), KnownParameters(known)));
    if (values->contains(*name))
      return ErrorResponse(
          400, fmt::format("query parameter '{}' is given more than once; send it once", *name));
    std::optional<std::string> value =
        PercentDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    if (!value)
      return ErrorResponse(
          400, fmt::format("query parameter '{}' is not validly percent-encoded", *name));
    values->emplace(*name, std::move(*value));
  }
  return std::nullopt;
}

std::optional<std::string> Value(const QueryValues& values, std::string_view name) {
  const auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

// last_id, Digdag's paging parameter: the id after which a list starts (0 when absent); or the 400
// for a value that is not a schedule id.
std::optional<HttpResponse> ReadLastId(const QueryValues& query, int64_t* last_id) {
  *last_id = 0;
  const std::optional<std::string> text = Value(query, "last_id");
  if (!text) return std::nullopt;
  const std::optional<int64_t> value = ParseId(*text, /*min=*/0);
  if (!value)
    return ErrorResponse(400, fmt::format("query parameter 'last_id' must be a schedule id (0 to "
                                          "2147483647), not '{}'",
                                          text::Excerpt(*text, 32)));
  *last_id = *value;
  return std::nullopt;
}

// The site's schedules that `filter` selects, with an id greater than `last_id`, in id order.
HttpResponse ListSchedules(Store* store, const NativeRequest& r, Store::ScheduleFilter filter,
                           int64_t last_id) {
  const Result<std::vector<Store::ScheduleRecord>> rows = store->ListSchedules(r.site_id, filter);
  if (!rows.ok()) return StoreFailure(rows.status());
  json::array list;
  for (const auto& s : *rows)
    if (s.id > last_id) list.push_back(ScheduleJson(s));
  return Json(json::object{{"schedules", std::move(list)}});
}

HttpResponse AllSchedules(Store* store, const NativeRequest& r) {
  static constexpr std::string_view kKnown[] = {"last_id"};
  QueryValues query;
  if (auto refusal = ParseQuery(r.query, kKnown, &query)) return std::move(*refusal);
  int64_t last_id = 0;
  if (auto refusal = ReadLastId(query, &last_id)) return std::move(*refusal);
  return ListSchedules(store, r, Store::ScheduleFilter{}, last_id);
}

HttpResponse GetSchedule(Store* store, const NativeRequest& r) {
  QueryValues query;
  if (auto refusal = ParseQuery(r.query, {}, &query)) return std::move(*refusal);
  const std::string_view raw = Param(r, "id");
  const std::optional<int64_t> id = ParseId(raw);
  const std::string missing = Missing("schedule", raw);
  if (!id) return ErrorResponse(404, missing);
  Store::ScheduleFilter filter;
  filter.schedule_id = id;
  const Result<std::vector<Store::ScheduleRecord>> rows = store->ListSchedules(r.site_id, filter);
  if (!rows.ok()) return StoreFailure(rows.status());
  if (rows->empty()) return ErrorResponse(404, missing);
  return Json(ScheduleJson(rows->front()));
}

HttpResponse ListProjects(Store* store, const NativeRequest& r) {
  static constexpr std::string_view kKnown[] = {"name"};
  QueryValues query;
  if (auto refusal = ParseQuery(r.query, kKnown, &query)) return std::move(*refusal);
  const Result<std::vector<Store::ProjectRecord>> rows =
      store->ListProjects(r.site_id, Value(query, "name"));
  if (!rows.ok()) return StoreFailure(rows.status());
  json::array list;
  for (const auto& p : *rows)
    list.push_back(json::object{{"id", std::to_string(p.id)}, {"name", p.name}});
  return Json(json::object{{"projects", std::move(list)}});
}

HttpResponse ProjectSchedules(Store* store, const NativeRequest& r) {
  static constexpr std::string_view kKnown[] = {"workflow", "last_id"};
  QueryValues query;
  if (auto refusal = ParseQuery(r.query, kKnown, &query)) return std::move(*refusal);
  int64_t last_id = 0;
  if (auto refusal = ReadLastId(query, &last_id)) return std::move(*refusal);
  const std::string_view raw = Param(r, "id");
  const std::optional<int64_t> id = ParseId(raw);
  const std::string missing = Missing("project", raw);
  if (!id) return ErrorResponse(404, missing);
  const Result<std::vector<Store::ProjectRecord>> projects =
      store->ListProjects(r.site_id, std::nullopt);
  if (!projects.ok()) return StoreFailure(projects.status());
  bool found = false;
  for (const auto& p : *projects) found = found || p.id == *id;
  if (!found) return ErrorResponse(404, missing);
  Store::ScheduleFilter filter;
  filter.project_id = id;
  filter.workflow_name = Value(query, "workflow");
  return ListSchedules(store, r, filter, last_id);
}

}  // namespace

std::string FormatInZone(int64_t t, std::string_view timezone) {
  cctz::time_zone zone;
  if (!LoadZone(timezone, &zone)) zone = cctz::utc_time_zone();
  return FormatWithOffset(t, zone);
}

std::vector<HostOptions::NativeRoute> NativeRoutes(Store* store) {
  std::vector<HostOptions::NativeRoute> routes;
  routes.push_back(
      {"GET", "/api/projects", [store](const NativeRequest& r) { return ListProjects(store, r); }});
  routes.push_back({"GET", "/api/projects/{id}/schedules",
                    [store](const NativeRequest& r) { return ProjectSchedules(store, r); }});
  routes.push_back({"GET", "/api/schedules",
                    [store](const NativeRequest& r) { return AllSchedules(store, r); }});
  routes.push_back({"GET", "/api/schedules/{id}",
                    [store](const NativeRequest& r) { return GetSchedule(store, r); }});
  return routes;
}

}  // namespace wfp::host
