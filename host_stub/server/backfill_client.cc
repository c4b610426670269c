// `wfp-host backfill`: builds the route's request from the command line, sends it over plain HTTP
// (a Beast client with one deadline for the whole exchange) and prints the answer as a table.
#include "server/backfill_client.h"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "server/page_link.h"
#include "server/server.h"
#include "wfp_text/strict_json.h"
#include "wfp_version.h"

namespace wfp::host {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

bool IsDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int ToInt(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// Reads "yyyy-MM-dd" at the start of `s`, checking the date exists.
bool ReadDate(std::string_view s, int* y, int* m, int* d) {
  if (s.size() < 10 || s[4] != '-' || s[7] != '-' || !IsDigits(s.substr(0, 4)) ||
      !IsDigits(s.substr(5, 2)) || !IsDigits(s.substr(8, 2)))
    return false;
  *y = ToInt(s.substr(0, 4));
  *m = ToInt(s.substr(5, 2));
  *d = ToInt(s.substr(8, 2));
  const cctz::civil_day day(*y, *m, *d);
  return day.year() == *y && day.month() == *m && day.day() == *d;
}

// Reads "HH:mm:ss" at the start of `s`.
bool ReadTime(std::string_view s, int* hh, int* mm, int* ss) {
  if (s.size() < 8 || s[2] != ':' || s[5] != ':' || !IsDigits(s.substr(0, 2)) ||
      !IsDigits(s.substr(3, 2)) || !IsDigits(s.substr(6, 2)))
    return false;
  *hh = ToInt(s.substr(0, 2));
  *mm = ToInt(s.substr(3, 2));
  *ss = ToInt(s.substr(6, 2));
  return *hh < 24 && *mm < 60 && *ss < 60;
}

// An IANA zone, UTC, or a fixed offset (+09:00, -0530), as workflows name their zones.
bool LoadZone(std::string_view tz, cctz::time_zone* zone) {
  if (tz.empty() || tz == "UTC" || tz == "Z") {
    *zone = cctz::utc_time_zone();
    return true;
  }
  if (tz[0] == '+' || tz[0] == '-') {
    std::string digits;
    for (char c : tz.substr(1))
      if (c != ':') digits += c;
    if ((digits.size() != 2 && digits.size() != 4) || !IsDigits(digits)) return false;
    const int hours = ToInt(digits.substr(0, 2));
    const int minutes = digits.size() == 4 ? ToInt(digits.substr(2)) : 0;
    if (hours > 18 || minutes > 59) return false;
    *zone = cctz::fixed_time_zone(
        std::chrono::seconds((tz[0] == '-' ? -1 : 1) * (hours * 3600 + minutes * 60)));
    return true;
  }
  return cctz::load_time_zone(std::string(tz), zone);
}

struct Exchange {
  bool reached = false;  // false: could not resolve, connect, or got no complete answer
  bool sent = false;     // connected and began sending
  int status = 0;
  std::string body;
  std::string etag;
  std::string error;
};

// One request over a fresh connection; the whole exchange must end within `timeout`.
Exchange Send(const HttpUrl& url, http::request<http::string_body> req,
              std::chrono::seconds timeout) {
  Exchange result;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  std::string step = "resolve";
  auto fail = [&](beast::error_code ec) {
    result.error = fmt::format("{} failed: {}", step,
                               ec == beast::error::timeout ? "timed out" : ec.message());
  };
  stream.expires_after(timeout);
  resolver.async_resolve(
      url.host, std::to_string(url.port),
      [&](beast::error_code ec, tcp::resolver::results_type endpoints) {
        if (ec) return fail(ec);
        step = "connect";
        stream.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return fail(ec);
          step = "send";
          result.sent = true;
          http::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) return fail(ec);
            step = "read";
            http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
              if (ec) return fail(ec);
              result.reached = true;
              result.status = parser.get().result_int();
              result.body = std::move(parser.get().body());
              result.etag = std::string(parser.get()[http::field::etag]);
              beast::error_code ignored;
              stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
          });
        });
      });
  ioc.run();
  return result;
}

std::string Str(const json::object& o, std::string_view key, std::string_view absent = "-") {
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return std::string(absent);
  if (v->is_string()) return std::string(v->get_string());
  return json::serialize(*v);
}

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

bool IsScheduleId(std::string_view s) {
  return IsDigits(s) && s.size() <= 10 && std::stoll(std::string(s)) > 0 &&
         std::stoll(std::string(s)) <= 2147483647;
}

// PROJECT WORKFLOW, --schedule ID, or a lone numeric id (the older form).
bool CheckTarget(const std::vector<std::string>& positionals, bool have_schedule,
                 BackfillArgs* args, std::string* error) {
  if (have_schedule && !positionals.empty()) {
    *error =
        fmt::format("unexpected argument '{}': give PROJECT WORKFLOW or --schedule ID, not both",
                    positionals[0]);
    return false;
  }
  if (!have_schedule && positionals.size() == 1 && IsDigits(positionals[0])) {
    args->schedule_id = positionals[0];
    have_schedule = true;
  } else if (positionals.size() == 2) {
    args->project = positionals[0];
    args->workflow = positionals[1];
  } else if (!have_schedule) {
    *error =
        positionals.size() > 2
            ? fmt::format("unexpected argument '{}': expected PROJECT WORKFLOW", positionals[2])
            : "missing PROJECT WORKFLOW (or --schedule ID; see --help)";
    return false;
  }
  if (have_schedule && !IsScheduleId(args->schedule_id)) {
    *error = fmt::format("--schedule must be a positive integer, not '{}'", args->schedule_id);
    return false;
  }
  return true;
}

bool CheckCombination(const BackfillArgs& args, std::string* error) {
  if (args.api_key.empty()) {
    *error = "missing --api-key (or $WFP_API_KEY)";
  } else if (!args.from && !args.advance) {
    *error = "missing --from (it is optional only with --advance)";
  } else if (args.advance && !args.skip_existing) {
    *error = "--advance requires --skip-existing (sessions that ran already are skipped)";
  } else if (args.advance && args.name) {
    *error = "--name cannot be used with --advance (catching up creates unnamed attempts)";
  } else if (args.name && (args.name->empty() || args.name->size() > 255 ||
                           std::any_of(args.name->begin(), args.name->end(), [](char c) {
                             return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
                           }))) {
    *error = "--name must be 1 to 255 characters, without control characters";
  } else {
    return true;
  }
  return false;
}

}  // namespace

std::string BackfillUsage() {
  return R"(usage: wfp-host backfill PROJECT WORKFLOW [--from TIME] [options]
       wfp-host backfill --schedule ID [--from TIME] [options]

Creates sessions, each with a new attempt, for past schedule times of a workflow's schedule, as
`digdag backfill` does, and prints what was created (POST /api/schedules/ID/backfill).

  PROJECT WORKFLOW   the project and workflow names; their schedule is looked up on the server
  --schedule ID      or the schedule's id instead (GET /api/schedules lists them)
  --from TIME        the first session wanted: the first one whose run time is at or after TIME.
                     "yyyy-MM-dd" or "yyyy-MM-dd HH:mm:ss" is read in the workflow's time zone
                     (fetched from the server, as Digdag does); an ISO-8601 time with an offset
                     (2024-01-08T00:00:00+09:00, 2024-01-07T15:00:00Z) is taken as it is.
                     Required, except with --advance (which then starts at the schedule's next
                     session).
  --count N          only the first N sessions (default: all until the schedule's next time)
  --name NAME        the attempt name (default: a generated one, printed first); not with --advance
  --skip-existing    skip sessions that already have an attempt instead of failing
  --advance          catch up: sessions up to now, then move the schedule's next time past them
                     (requires --skip-existing)
  --dry-run          show what would be created and change nothing; prints the plan's ETag
  --if-match PLAN    apply only if the plan is still PLAN (the ETag a dry run printed)
  --server URL       the server, http:// only (default http://127.0.0.1:8080)
  --api-key KEY      the API key (default: $WFP_API_KEY); sent as "Authorization: Bearer KEY"
  --tz ZONE          read a --from without an offset in ZONE (e.g. Asia/Tokyo) instead of the
                     workflow's zone. In either zone, as Digdag reads it, a time in a
                     spring-forward gap moves forward by the gap (02:30 -> 03:30) and one in a
                     fall-back overlap is the earlier instant.
  --timeout SECONDS  give up on each request after this long (default 60)
  --help             this text

Exit status: 0 done, 1 usage error or an error answer (printed as "error: STATUS: MESSAGE"),
2 the server could not be reached.
)";
}

bool ParseBackfillArgs(int argc, const char* const* argv, const char* api_key_env,
                       BackfillArgs* args, std::string* error) {
  *args = BackfillArgs{};
  if (api_key_env) args->api_key = api_key_env;
  bool have_schedule = false;
  std::vector<std::string> positionals;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args->help = true;
      return true;
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg.size() > 2 && arg.substr(0, 2) == "--") {
      std::string_view name = arg, inline_value;
      bool has_inline = false;
      if (size_t eq = arg.find('='); eq != std::string_view::npos) {
        name = arg.substr(0, eq);
        inline_value = arg.substr(eq + 1);
        has_inline = true;
      }
      auto value = [&](std::string* out) {
        if (has_inline) {
          *out = std::string(inline_value);
          return true;
        }
        if (i + 1 >= argc) {
          *error = fmt::format("{} needs a value", name);
          return false;
        }
        *out = argv[++i];
        return true;
      };
      auto flag = [&](bool* out) {
        if (has_inline) {
          *error = fmt::format("{} takes no value", name);
          return false;
        }
        *out = true;
        return true;
      };
      std::string v;
      if (name == "--server") {
        if (!value(&args->server)) return false;
      } else if (name == "--api-key") {
        if (!value(&args->api_key)) return false;
        args->api_key_given = true;
      } else if (name == "--from") {
        if (!value(&v)) return false;
        args->from = v;
      } else if (name == "--tz") {
        if (!value(&v)) return false;
        args->tz = v;
      } else if (name == "--schedule") {
        if (!value(&args->schedule_id)) return false;
        have_schedule = true;
      } else if (name == "--count") {
        if (!value(&v)) return false;
        if (!IsDigits(v) || v.size() > 9) {
          *error = fmt::format("--count must be a whole number from 0 to 999999999, not '{}'", v);
          return false;
        }
        args->count = std::stoll(v);
      } else if (name == "--name") {
        if (!value(&v)) return false;
        args->name = v;
      } else if (name == "--if-match") {
        if (!value(&v)) return false;
        args->if_match = v;
      } else if (name == "--timeout") {
        if (!value(&v)) return false;
        if (!IsDigits(v) || v.size() > 6 || std::stoi(v) == 0) {
          *error = fmt::format("--timeout must be a positive number of seconds, not '{}'", v);
          return false;
        }
        args->timeout = std::chrono::seconds(std::stoi(v));
      } else if (name == "--skip-existing") {
        if (!flag(&args->skip_existing)) return false;
      } else if (name == "--advance") {
        if (!flag(&args->advance)) return false;
      } else if (name == "--dry-run") {
        if (!flag(&args->dry_run)) return false;
      } else {
        *error = fmt::format("unknown option {} (see --help)", name);
        return false;
      }
      continue;
    }
    if (arg.size() > 1 && arg[0] == '-') {
      *error = fmt::format("unknown option {} (see --help)", arg);
      return false;
    }
    positionals.emplace_back(arg);
  }
  return CheckTarget(positionals, have_schedule, args, error) && CheckCombination(*args, error);
}

bool ConvertFromTime(std::string_view text, std::string_view tz, std::string* iso,
                     std::string* error) {
  auto bad = [&] {
    *error = fmt::format(
        "bad --from '{}': expected an ISO-8601 time with an offset "
        "(2024-01-08T00:00:00+09:00) or yyyy-MM-dd[ HH:mm:ss]",
        text);
    return false;
  };
  int y, mo, d, h = 0, mi = 0, s = 0;
  if (!ReadDate(text, &y, &mo, &d)) return bad();
  std::string_view rest = text.substr(10);
  std::string fraction;
  if (!rest.empty()) {
    if (rest[0] != 'T' && rest[0] != ' ') return bad();
    if (!ReadTime(rest.substr(1), &h, &mi, &s)) return bad();
    rest = rest.substr(9);
    if (!rest.empty() && rest[0] == '.') {
      size_t n = 1;
      while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
      if (n == 1 || n > 10) return bad();
      fraction = std::string(rest.substr(0, n));
      rest = rest.substr(n);
    }
  }
  const std::string wall =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", y, mo, d, h, mi, s, fraction);
  if (!rest.empty()) {  // an offset: the instant is already fixed
    if (rest == "Z") {
      *iso = wall + "Z";
      return true;
    }
    if (rest[0] != '+' && rest[0] != '-') return bad();
    std::string_view digits = rest.substr(1);
    std::string_view oh, om;
    if (digits.size() == 5 && digits[2] == ':') {
      oh = digits.substr(0, 2);
      om = digits.substr(3, 2);
    } else if (digits.size() == 4 || digits.size() == 2) {
      oh = digits.substr(0, 2);
      om = digits.size() == 4 ? digits.substr(2, 2) : "00";
    } else {
      return bad();
    }
    if (!IsDigits(oh) || !IsDigits(om) || ToInt(oh) > 18 || ToInt(om) > 59) return bad();
    *iso = fmt::format("{}{}{}:{}", wall, rest[0], oh, om);
    return true;
  }
  cctz::time_zone zone;
  if (!LoadZone(tz, &zone)) {
    *error = fmt::format("unknown time zone '{}' (e.g. UTC, Asia/Tokyo, +09:00)", tz);
    return false;
  }
  const cctz::civil_second civil(y, mo, d, h, mi, s);
  const cctz::time_zone::civil_lookup found = zone.lookup(civil);
  // As java.time's LocalDateTime.atZone, which `digdag backfill` uses: UNIQUE: pre == post.
  // SKIPPED: pre uses the offset before the gap, so it lands past the gap by the gap's length.
  // REPEATED: pre is the earlier instant (the offset before the transition).
  const auto instant = found.pre;
  std::string formatted = cctz::format("%Y-%m-%dT%H:%M:%S%Ez", instant, zone);
  if (!fraction.empty()) formatted.insert(19, fraction);
  *iso = std::move(formatted);
  return true;
}

namespace {

// The backfill page for the same request. The key goes into the link only when it was typed
// (--api-key); one from $WFP_API_KEY stays out of the output, and the page asks for it.
std::string PageLink(const BackfillArgs& args, const std::optional<std::string>& from_iso) {
  PageLinkFields f;
  if (args.api_key_given) f.api_key = args.api_key;
  f.schedule_id = args.schedule_id;
  f.from_time = from_iso.value_or("");
  f.attempt_name = args.name;
  if (args.count && *args.count >= 0) f.count = static_cast<uint64_t>(*args.count);
  f.skip_existing = args.skip_existing;
  f.advance = args.advance;
  return BackfillPageLink(args.server, f);
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

bool ParseHttpUrl(std::string_view text, HttpUrl* url, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    *error = text.substr(0, 8) == "https://"
                 ? fmt::format("--server '{}': https is not supported; use an http:// URL", text)
                 : fmt::format("--server '{}': expected an http:// URL, e.g. http://127.0.0.1:8080",
                               text);
    return false;
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  auto bad = [&](std::string_view why) {
    *error = fmt::format("--server '{}': {}", text, why);
    return false;
  };
  if (path.find_first_of("?#") != std::string_view::npos)
    return bad("no query or fragment, please");
  if (authority.find('@') != std::string_view::npos) return bad("no user in the URL, please");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("bad port");
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("missing host");
  url->host = std::string(host);
  url->port = 80;
  if (!port.empty() || authority.back() == ':') {
    if (!IsDigits(port) || port.size() > 5 || ToInt(port) > 65535 || ToInt(port) == 0)
      return bad("bad port");
    url->port = static_cast<uint16_t>(ToInt(port));
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url->base_path = std::string(path);
  return true;
}

bool RenderBackfillResult(std::string_view body, bool dry_run, std::string* out,
                          std::string* error) {
  json::value parsed;
  wfp::text::JsonProblem problem;
  if (!wfp::text::ParseStrictJson(body, &parsed, &problem)) {
    *error = fmt::format("the server's answer is not valid JSON: {}", wfp::text::Describe(problem));
    return false;
  }
  if (!parsed.is_object()) {
    *error = "the server's answer is not a JSON object";
    return false;
  }
  const json::object& root = parsed.get_object();
  const json::value* attempts = root.if_contains("attempts");
  const json::value* skipped = root.if_contains("skipped");
  if (!attempts || !attempts->is_array() || (skipped && !skipped->is_array())) {
    *error = "the server's answer has no \"attempts\" list";
    return false;
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
  *out = std::move(text);
  return true;
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

namespace {

http::request<http::string_body> MakeRequest(http::verb verb, const HttpUrl& url,
                                             const BackfillArgs& args, std::string target) {
  http::request<http::string_body> req;
  req.method(verb);
  req.target(url.base_path + target);
  req.version(11);
  const bool v6 = url.host.find(':') != std::string::npos;
  req.set(http::field::host, v6 ? fmt::format("[{}]:{}", url.host, url.port)
                                : fmt::format("{}:{}", url.host, url.port));
  req.set(http::field::user_agent, "wfp-host-backfill/" WFP_VERSION);
  req.set(http::field::authorization, "Bearer " + args.api_key);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  return req;
}

std::string Where(const HttpUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return v6 ? fmt::format("http://[{}]:{}", url.host, url.port)
            : fmt::format("http://{}:{}", url.host, url.port);
}

// The outcome of one step of the client: 0 to go on, else the exit status (message printed).
int Unreachable(const HttpUrl& url, const Exchange& answer) {
  std::fprintf(stderr, "error: %s %s: %s\n", answer.sent ? "no answer from" : "cannot reach",
               Where(url).c_str(), answer.error.c_str());
  return 2;
}

int ErrorAnswer(const Exchange& answer, std::string_view context = {}) {
  std::string message = InClientTerms(ErrorMessageOf(answer.status, answer.body));
  std::fprintf(stderr, "error: %d: %s%s\n", answer.status, std::string(context).c_str(),
               message.c_str());
  return 1;
}

// GET TARGET, expecting a 200 with JSON; fills *body. 0, or the exit status.
int FetchJson(const HttpUrl& url, const BackfillArgs& args, const std::string& target,
              std::string_view context, std::string* body) {
  Exchange answer = Send(url, MakeRequest(http::verb::get, url, args, target), args.timeout);
  if (!answer.reached) return Unreachable(url, answer);
  if (answer.status != 200) return ErrorAnswer(answer, context);
  *body = std::move(answer.body);
  return 0;
}

// The schedule the command line names, with its workflow's time zone (PROJECT WORKFLOW: looked
// up by name; --schedule: fetched only when the zone is needed). 0, or the exit status.
int FindSchedule(const HttpUrl& url, BackfillArgs* args, bool need_zone, std::string* zone) {
  std::string body;
  if (args->project.empty()) {
    if (!need_zone) return 0;
    const std::string context = fmt::format("schedule {}: ", args->schedule_id);
    if (int rc = FetchJson(url, *args, "/api/schedules/" + args->schedule_id, context, &body))
      return rc;
    std::string id;
    if (ScheduleOfAnswer(body, &id, zone)) return 0;
    std::fprintf(stderr, "error: the server's answer for schedule %s is not a schedule\n",
                 args->schedule_id.c_str());
    return 1;
  }
  if (int rc = FetchJson(url, *args, "/api/projects?name=" + PercentEncode(args->project),
                         "project lookup: ", &body))
    return rc;
  std::string project_id;
  if (!ProjectIdOfAnswer(body, &project_id)) {
    std::fprintf(stderr, "error: no project '%s' on %s for this API key\n", args->project.c_str(),
                 Where(url).c_str());
    return 1;
  }
  const std::string target = fmt::format("/api/projects/{}/schedules?workflow={}", project_id,
                                         PercentEncode(args->workflow));
  if (int rc = FetchJson(url, *args, target, "schedule lookup: ", &body)) return rc;
  if (!ScheduleOfAnswer(body, &args->schedule_id, zone)) {
    std::fprintf(stderr,
                 "error: workflow '%s' of project '%s' has no schedule (or no such workflow)\n",
                 args->workflow.c_str(), args->project.c_str());
    return 1;
  }
  return 0;
}

int PostBackfill(const HttpUrl& url, const BackfillArgs& args,
                 const std::optional<std::string>& from_iso) {
  auto req = MakeRequest(http::verb::post, url, args,
                         fmt::format("/api/schedules/{}/backfill", args.schedule_id));
  req.set(http::field::content_type, "application/json");
  if (args.if_match) req.set(http::field::if_match, *args.if_match);
  req.body() = BuildBackfillBody(args, from_iso);
  req.prepare_payload();
  Exchange answer = Send(url, std::move(req), args.timeout);
  if (!answer.reached) return Unreachable(url, answer);
  if (answer.status < 200 || answer.status > 299) return ErrorAnswer(answer);
  std::string text, error;
  if (!RenderBackfillResult(answer.body, args.dry_run, &text, &error)) {
    std::fprintf(stderr, "error: %d: %s\n", answer.status, error.c_str());
    return 1;
  }
  std::fputs(text.c_str(), stdout);
  if (args.dry_run && !answer.etag.empty())
    std::fprintf(stdout, "plan: %s (apply exactly this plan with --if-match '%s')\n",
                 answer.etag.c_str(), answer.etag.c_str());
  if (args.dry_run) std::fprintf(stdout, "see it: %s\n", PageLink(args, from_iso).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

bool FromTimeNeedsZone(std::string_view text) {
  if (text.size() <= 10) return true;
  const std::string_view rest = text.substr(10);
  return rest.back() != 'Z' && rest.find_first_of("+-") == std::string_view::npos;
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

int RunBackfillClient(int argc, char** argv) {
  BackfillArgs args;
  std::string error;
  if (!ParseBackfillArgs(argc, argv, std::getenv("WFP_API_KEY"), &args, &error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  if (args.help) {
    std::fputs(BackfillUsage().c_str(), stdout);
    return 0;
  }
  HttpUrl url;
  if (!ParseHttpUrl(args.server, &url, &error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  // Check --from's form before asking the server anything (the zone comes later).
  std::string checked;
  if (args.from && !ConvertFromTime(*args.from, "UTC", &checked, &error)) {
    std::fprintf(stderr, "error: %s\n", error.c_str());
    return 1;
  }
  const bool need_zone = args.from && FromTimeNeedsZone(*args.from) && !args.tz;
  std::string zone = args.tz.value_or("UTC");
  if (int rc = FindSchedule(url, &args, need_zone, &zone)) return rc;
  std::optional<std::string> from_iso;
  if (args.from) {
    std::string iso;
    if (!ConvertFromTime(*args.from, zone, &iso, &error)) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 1;
    }
    from_iso = std::move(iso);
  }
  if (!args.name && !args.advance) {
    args.name = GenerateAttemptName();
    std::fprintf(stdout, "attempt name: %s (generated; give --name to choose one)\n",
                 args.name->c_str());
  }
  if (from_iso && need_zone)
    std::fprintf(stdout, "from: %s (%s read in the workflow's time zone, %s)\n", from_iso->c_str(),
                 args.from->c_str(), zone.c_str());
  return PostBackfill(url, args, from_iso);
}

}  // namespace wfp::host
