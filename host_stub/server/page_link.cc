#include "server/page_link.h"

#include <fmt/format.h>

namespace wfp::host {

std::string PercentEncode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char c : s) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~' || c == ':';
    if (keep)
      out.push_back(c);
    else
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
  }
  return out;
}

std::string BackfillPageLink(std::string_view server, const PageLinkFields& f) {
  while (!server.empty() && server.back() == '/') server.remove_suffix(1);
  std::string link = fmt::format("{}{}#", server, kBackfillPagePath);
  if (!f.api_key.empty()) link += "apiKey=" + PercentEncode(f.api_key) + "&";
  link += "schedule=" + PercentEncode(f.schedule_id);
  if (!f.from_time.empty()) link += "&from=" + PercentEncode(f.from_time);
  if (f.attempt_name) link += "&name=" + PercentEncode(*f.attempt_name);
  if (f.count) link += fmt::format("&count={}", *f.count);
  if (f.skip_existing) link += "&skipExisting=1";
  if (f.advance) link += "&advance=1";
  return link;
}

}  // namespace wfp::host
