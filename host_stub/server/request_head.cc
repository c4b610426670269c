#include "server/request_head.h"

#include <boost/beast/core/string.hpp>
#include <fmt/format.h>

#include "wfp_text/utf8.h"

namespace wfp::host {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// The first transfer coding that is not "chunked", or nullopt.
std::optional<std::string_view> UnsupportedCoding(const std::vector<std::string_view>& lines) {
  for (std::string_view line : lines) {
    while (true) {
      const size_t comma = line.find(',');
      const std::string_view item = Trim(line.substr(0, comma));
      // A coding may carry parameters ("gzip;q=1"): the name is what counts.
      const std::string_view name = Trim(item.substr(0, item.find(';')));
      if (!item.empty() && !boost::beast::iequals(name, "chunked")) return item;
      if (comma == std::string_view::npos) break;
      line.remove_prefix(comma + 1);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<HeadRefusal> CheckRequestHead(const RequestHead& head) {
  if (head.target.size() > kMaxRequestLine)
    return HeadRefusal{414, fmt::format("request target is longer than {} bytes", kMaxRequestLine)};
  if (head.host_fields > 1) return HeadRefusal{400, "the Host header is given more than once"};
  if (head.host_fields == 0 && head.version >= 11)
    return HeadRefusal{400, "an HTTP/1.1 request needs a Host header"};
  if (auto coding = UnsupportedCoding(head.transfer_codings))
    return HeadRefusal{501,
                       fmt::format("Transfer-Encoding '{}' is not implemented; send the body with "
                                   "Content-Length or Transfer-Encoding: chunked",
                                   text::Excerpt(*coding, 32))};
  return std::nullopt;
}

bool RequestLineTooLong(std::string_view received) {
  const size_t end = received.find("\r\n");
  return (end == std::string_view::npos ? received.size() : end) > kMaxRequestLine;
}

std::string OriginForm(std::string_view target) {
  if (target.empty() || target.front() == '/' || target == "*") return std::string(target);
  const size_t scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::string(target);
  const std::string_view scheme = target.substr(0, scheme_end);
  if (!boost::beast::iequals(scheme, "http") && !boost::beast::iequals(scheme, "https")) return std::string(target);
  const std::string_view rest = target.substr(scheme_end + 3);
  const size_t path = rest.find_first_of("/?");
  if (path == std::string_view::npos) return "/";
  if (rest[path] == '?') return "/" + std::string(rest.substr(path));
  return std::string(rest.substr(path));
}

}  // namespace wfp::host
