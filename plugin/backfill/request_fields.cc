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
  const size_t semi = ct.find(';');
  std::string_view media = ct.substr(0, semi);
  while (!media.empty() && (media.back() == ' ' || media.back() == '\t')) media.remove_suffix(1);
  while (!media.empty() && (media.front() == ' ' || media.front() == '\t')) media.remove_prefix(1);
  if (media.size() != kJson.size()) return false;
  for (size_t i = 0; i < media.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(media[i])) != kJson[i]) return false;
  return true;
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
