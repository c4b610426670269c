#include "server/access_log.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>

#include "common/log_line.h"

namespace wfp::host {
namespace {

// The current time as RFC 3339 UTC with milliseconds.
std::string NowUtc() {
  const auto now = std::chrono::system_clock::now();
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", std::chrono::floor<std::chrono::seconds>(now),
                     static_cast<int>(ms));
}

std::string_view LevelName(ServerNoteLevel level) {
  switch (level) {
    case ServerNoteLevel::kInfo:
      return "info";
    case ServerNoteLevel::kWarn:
      return "warn";
    case ServerNoteLevel::kError:
      break;
  }
  return "error";
}

boost::json::value OrNull(std::string_view s) {
  if (s.empty()) return nullptr;
  return boost::json::string(s);
}

}  // namespace

std::string FormatAccessLine(const AccessRecord& r, AccessLogFormat format) {
  if (format == AccessLogFormat::kText) {
    std::string line = fmt::format("{} {} {} {}ms", r.method, r.path, r.status,
                                   static_cast<long long>(r.seconds * 1000));
    if (!r.request_id.empty()) line += fmt::format(" request={}", r.request_id);
    return line;
  }
  boost::json::object o;
  o["time"] = NowUtc();
  o["request_id"] = OrNull(r.request_id);
  o["method"] = r.method;
  o["path"] = r.path;
  o["route"] = OrNull(r.route);
  o["status"] = r.status;
  // duration_ms written by hand, as a plain decimal with 3 digits after the point (3.112):
  // boost::json writes a double in exponent form (3.112E0).
  std::string line = boost::json::serialize(o);  // escapes control characters: one line
  line.pop_back();                               // the closing brace
  const long long micros = std::llround(std::max(0.0, r.seconds) * 1e6);
  const boost::json::value site =
      r.site_id > 0 ? boost::json::value(r.site_id) : boost::json::value(nullptr);
  line += fmt::format(",\"duration_ms\":{}.{:03},\"site\":{}}}", micros / 1000, micros % 1000,
                      boost::json::serialize(site));
  return line;
}

std::string FormatServerNote(ServerNoteLevel level, std::string_view message,
                             AccessLogFormat format) {
  if (format == AccessLogFormat::kText) return "wfp-host: " + EscapeControls(message);
  return JsonLogLine(NowUtc(), LevelName(level), "server", "", message);
}

bool ParseAccessLogFormat(std::string_view text, AccessLogFormat* out) {
  if (text == "text")
    *out = AccessLogFormat::kText;
  else if (text == "json")
    *out = AccessLogFormat::kJson;
  else
    return false;
  return true;
}

}  // namespace wfp::host
