// The backfill client's side of the route's JSON: the request body, the attempt name, reading the
// answers (schedules, projects, the 200's table, an error's message).
#include <fmt/format.h>

#include <algorithm>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <random>
#include <string>
#include <vector>

#include "client/internal.h"
#include "wfp_text/strict_json.h"

namespace wfp::host {
namespace json = boost::json;
namespace http = boost::beast::http;

namespace client_detail {

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

std::string Str(const json::object& o, std::string_view key, std::string_view absent) {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string(absent);
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

// The first project's id in a `{"projects": [...]}` answer.
bool ProjectIdOfAnswer(std::string_view body, std::string* id) {
  json::value v;
  if (!wfp::text::ParseStrictJson(body, &v, nullptr) || !v.is_object()) return false;
  const json::value* list = v.get_object().if_contains("projects");
  if (!list || !list->is_array() || list->get_array().empty()) return false;
  const json::value& first = list->get_array().front();
  if (!first.is_object() || !first.get_object().if_contains("id")) return false;
  *id = Str(first.get_object(), "id");
  return IsDigits(*id);
}

}  // namespace client_detail

namespace {

using client_detail::IsDigits;
using client_detail::Str;

void Table(const std::vector<std::vector<std::string>>& rows, std::string* out) {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line = " ";
    for (size_t i = 0; i < row.size(); ++i) {
      line += ' ';
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 1, ' ');
    }
    *out += line + "\n";
  }
}

std::string Plural(size_t n, std::string_view word) {
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

}  // namespace

std::string BuildBackfillBody(const BackfillArgs& args,
                              const std::optional<std::string>& from_iso) {
  json::object body;
  if (from_iso) body["fromTime"] = *from_iso;
  if (args.name) body["attemptName"] = *args.name;
  if (args.count) body["count"] = *args.count;
  if (args.skip_existing) body["skipExisting"] = true;
  if (args.advance) body["advanceSchedule"] = true;
  body["dryRun"] = args.dry_run;
  return json::serialize(body);
}

Result<std::string> RenderBackfillResult(std::string_view body, bool dry_run) {
  json::value parsed;
  wfp::text::JsonProblem problem;
  if (!wfp::text::ParseStrictJson(body, &parsed, &problem)) {
    return Status::InvalidArgument(
        fmt::format("the server's answer is not valid JSON: {}", wfp::text::Describe(problem)));
  }
  if (!parsed.is_object()) {
    return Status::InvalidArgument("the server's answer is not a JSON object");
  }
  const json::object& root = parsed.get_object();
  const json::value* attempts = root.if_contains("attempts");
  const json::value* skipped = root.if_contains("skipped");
  if (!attempts || !attempts->is_array() || (skipped && !skipped->is_array())) {
    return Status::InvalidArgument("the server's answer has no \"attempts\" list");
  }
  std::string text;
  std::string project = "-", workflow = "-";
  if (const auto* p = root.if_contains("project"); p && p->is_object())
    project = Str(p->get_object(), "name");
  if (const auto* w = root.if_contains("workflow"); w && w->is_object())
    workflow = Str(w->get_object(), "name");
  text += fmt::format("schedule {}: project {}, workflow {}\n", Str(root, "id"), project, workflow);

  size_t attempt_count = 0;
  std::vector<std::vector<std::string>> rows = {
      {"session time", "attempt name", "index", "status", "session id"}};
  for (const json::value& a : attempts->get_array()) {
    if (!a.is_object()) continue;
    const json::object& o = a.get_object();
    std::string session_id = Str(o, "sessionId");
    if (session_id == "0") session_id = "(new)";
    rows.push_back({Str(o, "sessionTime"), Str(o, "retryAttemptName"), Str(o, "index"),
                    Str(o, "status"), session_id});
    ++attempt_count;
  }
  text += dry_run ? "attempts that would be created:\n" : "attempts created:\n";
  if (attempt_count == 0)
    text += "  (none)\n";
  else
    Table(rows, &text);

  size_t skipped_count = 0;
  if (skipped && !skipped->get_array().empty()) {
    std::vector<std::vector<std::string>> skip_rows = {{"session time", "session id", "reason"}};
    for (const json::value& s : skipped->get_array()) {
      if (!s.is_object()) continue;
      const json::object& o = s.get_object();
      skip_rows.push_back({Str(o, "sessionTime"), Str(o, "sessionId"), Str(o, "reason")});
      ++skipped_count;
    }
    text += "skipped (sessions that already exist):\n";
    Table(skip_rows, &text);
  }
  text += fmt::format("schedule's next session time: {}{}\n", Str(root, "nextScheduleTime"),
                      dry_run ? " (after this backfill)" : "");
  text += fmt::format("schedule's next run time:     {}\n", Str(root, "nextRunTime"));
  if (dry_run)
    text += fmt::format("dry run: {} would be created, {} skipped; nothing was changed\n",
                        Plural(attempt_count, "attempt"), skipped_count);
  else
    text +=
        fmt::format("{} created, {} skipped\n", Plural(attempt_count, "attempt"), skipped_count);
  return text;
}

std::string ErrorMessageOf(int status, std::string_view body) {
  json::value parsed;
  if (wfp::text::ParseStrictJson(body, &parsed, nullptr) && parsed.is_object()) {
    if (const auto* m = parsed.get_object().if_contains("message"); m && m->is_string())
      return std::string(m->get_string());
  }
  std::string_view trimmed = body;
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front())))
    trimmed.remove_prefix(1);
  while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.back())))
    trimmed.remove_suffix(1);
  if (!trimmed.empty()) {
    std::string message(trimmed.substr(0, 500));
    for (char& c : message)
      if (static_cast<unsigned char>(c) < 0x20) c = ' ';
    return message;
  }
  return std::string(http::obsolete_reason(static_cast<http::status>(status)));
}

std::string GenerateAttemptName() {
  std::random_device rd;
  std::mt19937_64 gen((static_cast<uint64_t>(rd()) << 32) ^ rd());
  const uint64_t hi = (gen() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  const uint64_t lo = (gen() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xffff,
                     hi & 0xffff, lo >> 48, lo & 0xffffffffffffULL);
}

std::string InClientTerms(std::string_view message) {
  static const std::pair<std::string_view, std::string_view> kTerms[] = {
      {"attemptName", "--name"},
      {"fromTime", "--from"},
      {"skipExisting", "--skip-existing"},
      {"advanceSchedule", "--advance"},
      {"dryRun", "--dry-run"},
      {"count", "--count"}};
  std::string out;
  size_t i = 0;
  auto is_word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  while (i < message.size()) {
    bool replaced = false;
    for (const auto& [field, flag] : kTerms) {
      if (message.substr(i, field.size()) != field) continue;
      const bool starts = i == 0 || !is_word(message[i - 1]);
      const size_t after = i + field.size();
      // "count is set to N but ..." is Digdag's sentence about the count, not the field name.
      const bool sentence = field == "count" && message.substr(after, 7) == " is set";
      if (starts && (after == message.size() || !is_word(message[after])) && !sentence) {
        out += flag;
        i = after;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += message[i++];
  }
  return out;
}

bool ScheduleOfAnswer(std::string_view body, std::string* id, std::string* timezone) {
  json::value v;
  if (!wfp::text::ParseStrictJson(body, &v, nullptr) || !v.is_object()) return false;
  const json::object* schedule = &v.get_object();
  if (const json::value* list = schedule->if_contains("schedules")) {
    if (!list->is_array() || list->get_array().empty() || !list->get_array()[0].is_object())
      return false;
    schedule = &list->get_array()[0].get_object();
  }
  const std::string found = Str(*schedule, "id", "");
  if (!IsDigits(found)) return false;
  *id = found;
  *timezone = Str(*schedule, "timezone", "UTC");
  return true;
}

}  // namespace wfp::host
