#include "common/log_line.h"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace wfp::host {

std::string EscapeControls(std::string_view s, size_t limit) {
  std::string out;
  out.reserve(std::min(s.size(), limit));
  for (char c : s) {
    if (out.size() >= limit) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string JsonLogLine(std::string_view time, std::string_view level, std::string_view source,
                        std::string_view request_id, std::string_view message) {
  boost::json::object o;
  o["time"] = time;
  o["level"] = level;
  o["source"] = source;
  o["request_id"] =
      request_id.empty() ? boost::json::value(nullptr) : boost::json::value(request_id);
  o["message"] = message;
  return boost::json::serialize(o);
}

}  // namespace wfp::host
