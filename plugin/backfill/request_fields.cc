#include "backfill/request_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>

#include "backfill/plugin_state.h"
#include "wfp_text/utf8.h"

namespace wfp::backfill {
namespace {

constexpr std::string_view kJson = "application/json";

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The value of the parameter at ct[*i] (just past its '='): a token, or a quoted-string without
// its quotes and escapes. Leaves *i at the next ';' (npos at the end).
std::string ParameterValue(std::string_view ct, size_t* i) {
  size_t p = *i;
  while (p < ct.size() && IsOws(ct[p])) ++p;
  if (p == ct.size() || ct[p] != '"') {
    *i = ct.find(';', p);
    return std::string(TrimOws(ct.substr(p, *i == ct.npos ? ct.npos : *i - p)));
  }
  std::string value;
  for (++p; p < ct.size() && ct[p] != '"'; ++p) {
    if (ct[p] == '\\' && p + 1 < ct.size()) ++p;
    value += ct[p];
  }
  *i = ct.find(';', p);
  return value;
}

// The first charset parameter of a Content-Type that is not utf-8, or nullopt.
std::optional<std::string> NonUtf8Charset(std::string_view ct) {
  for (size_t i = ct.find(';'); i != ct.npos;) {
    const size_t eq = ct.find_first_of("=;", i + 1);
    if (eq == ct.npos) break;
    const std::string_view name = TrimOws(ct.substr(i + 1, eq - i - 1));
    i = eq;
    if (ct[eq] == ';') continue;
    ++i;
    const std::string value = ParameterValue(ct, &i);
    if (IEquals(name, "charset") && !IEquals(value, "utf-8")) return value;
  }
  return std::nullopt;
}

// etagc (RFC 9110 8.8.3): %x21 / %x23-7E / obs-text.
bool IsEtagChar(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == 0x21 || (c >= 0x23 && c != 0x7F);
}

// Reads `"*" / #entity-tag` into *out; false when the text is not that (nothing but commas and
// whitespace included: a list must have an element).
bool ParseIfMatchList(std::string_view s, IfMatch* out) {
  size_t i = 0, elements = 0;
  while (true) {
    while (i < s.size() && (IsOws(s[i]) || s[i] == ',')) ++i;  // empty elements
    if (i == s.size()) break;
    const size_t start = i;
    if (s[i] == '*') {
      out->any = true;
      ++i;
    } else {
      if (s.substr(i, 2) == "W/") i += 2;
      if (i == s.size() || s[i] != '"') return false;
      ++i;
      while (i < s.size() && IsEtagChar(s[i])) ++i;
      if (i == s.size() || s[i] != '"') return false;
      ++i;
      out->tags.emplace_back(s.substr(start, i - start));
    }
    ++elements;
    while (i < s.size() && IsOws(s[i])) ++i;
    if (i < s.size() && s[i] != ',') return false;
  }
  return elements > 0 && !(out->any && elements > 1);  // "*" stands alone
}

}  // namespace

std::string_view Header(const wfp_request& r, std::string_view name) {
  for (size_t i = 0; i < r.header_count; ++i)
    if (View(r.headers[i].name) == name) return View(r.headers[i].value);
  return {};
}

std::string_view PathParam(const wfp_request& r, std::string_view name) {
  for (size_t i = 0; i < r.path_param_count; ++i)
    if (View(r.path_params[i].name) == name) return View(r.path_params[i].value);
  return {};
}

std::optional<int64_t> ParseScheduleId(std::string_view s) {
  if (s.empty() || s.size() > 10 || s[0] == '0') return std::nullopt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > INT32_MAX) return std::nullopt;
  return v;
}

bool IsJsonContentType(std::string_view ct) {
  return IEquals(TrimOws(ct.substr(0, ct.find(';'))), kJson);
}

std::string ContentTypeRefusal(std::string_view ct) {
  if (!IsJsonContentType(ct)) return "Content-Type must be application/json";
  if (const auto charset = NonUtf8Charset(ct))
    return fmt::format(
        "Content-Type has charset={}: the body must be UTF-8 JSON (send application/json, with "
        "charset=utf-8 or no charset)",
        text::Excerpt(*charset, 64));
  return {};
}

bool IfMatch::Accepts(std::string_view etag) const {
  return any || std::find(tags.begin(), tags.end(), etag) != tags.end();
}

std::variant<IfMatch, std::string> ReadIfMatch(const wfp_request& r) {
  IfMatch m;
  bool blank = true;
  for (size_t i = 0; i < r.header_count; ++i) {
    if (View(r.headers[i].name) != "if-match") continue;
    const std::string_view line = View(r.headers[i].value);
    if (m.present) m.shown += ", ";
    m.present = true;
    m.shown += line;
    blank = blank && std::all_of(line.begin(), line.end(), IsOws);
  }
  if (!m.present) return m;
  if (blank)
    return std::string("If-Match is empty: give the dry run's ETag, or leave the header out");
  if (!ParseIfMatchList(m.shown, &m))
    return fmt::format(
        "If-Match must be a comma-separated list of quoted entity tags such as \"3f2a...\", or *; "
        "not '{}'",
        text::Excerpt(m.shown, 80));
  return m;
}

}  // namespace wfp::backfill
