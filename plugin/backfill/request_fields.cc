#include "backfill/request_fields.h"

#include <cctype>
#include <charconv>
#include <climits>

#include "backfill/plugin_state.h"

namespace wfp::backfill {
namespace {

constexpr std::string_view kJson = "application/json";

// One If-Match field line: "*" or a list of entity tags.
bool IfMatchListAccepts(std::string_view header, std::string_view etag) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    std::string_view tag =
        header.substr(pos, comma == std::string_view::npos ? header.npos : comma - pos);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*" || tag == etag) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
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

bool IfMatchAccepts(const wfp_request& r, std::string_view etag) {
  for (size_t i = 0; i < r.header_count; ++i)
    if (View(r.headers[i].name) == "if-match" && IfMatchListAccepts(View(r.headers[i].value), etag))
      return true;
  return false;
}

}  // namespace wfp::backfill
