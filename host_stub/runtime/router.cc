#include "runtime/router.h"

#include <algorithm>
#include <set>

namespace wfp::host {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  if (path.empty() || path[0] != '/') return out;
  if (path == "/") return out;
  size_t pos = 1;
  while (true) {
    const size_t slash = path.find('/', pos);
    out.push_back(path.substr(pos, slash == std::string_view::npos ? path.npos : slash - pos));
    if (slash == std::string_view::npos) break;
    pos = slash + 1;
  }
  return out;
}

bool IsNameChar(char c, bool first) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  return !first && c >= '0' && c <= '9';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX; an invalid escape is kept as is.
std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

bool SameShape(const std::vector<RouteSegment>& a, const std::vector<RouteSegment>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].is_param != b[i].is_param) return false;
    if (!a[i].is_param && a[i].text != b[i].text) return false;
  }
  return true;
}

bool Matches(const std::vector<RouteSegment>& t, const std::vector<std::string_view>& path) {
  if (t.size() != path.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].is_param) {
      if (path[i].empty()) return false;
    } else if (t[i].text != path[i]) {
      return false;
    }
  }
  return true;
}

// True when `a` is more specific than `b` (both match the same path).
bool MoreSpecific(const std::vector<RouteSegment>& a, const std::vector<RouteSegment>& b) {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i)
    if (a[i].is_param != b[i].is_param) return !a[i].is_param;
  return false;
}

}  // namespace

bool IsValidMethod(std::string_view method) {
  if (method.empty() || method.size() > 32) return false;
  for (char c : method) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

Result<std::vector<RouteSegment>> ParseRouteTemplate(std::string_view path_template) {
  std::vector<RouteSegment> out;
  if (path_template.empty() || path_template[0] != '/') {
    return Status::InvalidArgument("a path template must start with '/'");
  }
  if (path_template.size() > 1024) {
    return Status::InvalidArgument("a path template is at most 1024 characters");
  }
  std::set<std::string, std::less<>> names;
  for (std::string_view seg : SplitPath(path_template)) {
    if (seg.empty()) {
      return Status::InvalidArgument(
          "a path template has no empty segment (no '//' and no trailing '/')");
    }
    if (seg.front() == '{' && seg.back() == '}' && seg.size() >= 3) {
      const std::string_view name = seg.substr(1, seg.size() - 2);
      for (size_t i = 0; i < name.size(); ++i) {
        if (!IsNameChar(name[i], i == 0)) {
          return Status::InvalidArgument(
              "a parameter segment is '{name}' with a name of letters, digits and '_'");
        }
      }
      if (!names.emplace(name).second) {
        return Status::InvalidArgument("parameter '" + std::string(name) + "' appears twice");
      }
      out.push_back(RouteSegment{true, std::string(name)});
      continue;
    }
    for (char c : seg) {
      if (c == '{' || c == '}' || c == '?' || c == '#' || c == '%' ||
          static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        return Status::InvalidArgument(
            "segment '" + std::string(seg) +
            "' is neither a literal (no braces, '?', '#', '%', spaces or controls) nor "
            "'{name}'");
      }
    }
    out.push_back(RouteSegment{false, std::string(seg)});
  }
  return out;
}

Status Router::Add(std::string_view method, std::string_view path_template, wfp_handler_fn handler,
                   void* user_data, size_t owner, size_t* conflict_owner, bool is_public) {
  if (!IsValidMethod(method)) {
    return Status::InvalidArgument("invalid method '" + std::string(method) + "'");
  }
  if (!handler) {
    return Status::InvalidArgument("the handler is null");
  }
  Route route;
  Result<std::vector<RouteSegment>> segments = ParseRouteTemplate(path_template);
  if (!segments.ok()) return segments.status();
  route.segments = std::move(*segments);
  for (const Route& r : routes_) {
    if (r.method == method && SameShape(r.segments, route.segments)) {
      if (conflict_owner) *conflict_owner = r.owner;
      return Status::Conflict("route " + std::string(method) + " " + std::string(path_template) +
                              " is registered already (as " + r.path_template + ")");
    }
  }
  route.method = std::string(method);
  route.path_template = std::string(path_template);
  route.handler = handler;
  route.user_data = user_data;
  route.owner = owner;
  route.is_public = is_public;
  routes_.push_back(std::move(route));
  return Status::Ok();
}

void Router::RemoveOwner(size_t owner) {
  std::erase_if(routes_, [owner](const Route& r) { return r.owner == owner; });
}

Router::Match Router::Find(std::string_view method, std::string_view path) const {
  Match m;
  const std::vector<std::string_view> segs = SplitPath(path);
  if (path.empty() || path[0] != '/') return m;
  const Route* best = nullptr;
  const Route* best_of_path = nullptr;  // whatever its method
  std::set<std::string> methods;
  for (const Route& r : routes_) {
    if (!Matches(r.segments, segs)) continue;
    methods.insert(r.method);
    if (!best_of_path || MoreSpecific(r.segments, best_of_path->segments)) best_of_path = &r;
    if (r.method != method) continue;
    if (!best || MoreSpecific(r.segments, best->segments)) best = &r;
  }
  if (best) {
    m.kind = MatchKind::kFound;
    m.route = best;
    for (size_t i = 0; i < best->segments.size(); ++i)
      if (best->segments[i].is_param)
        m.params.emplace_back(best->segments[i].text, PercentDecode(segs[i]));
    return m;
  }
  if (!methods.empty()) {
    m.kind = MatchKind::kNoMethod;
    m.path_route = best_of_path;
    for (const std::string& s : methods) {
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += s;
    }
  }
  return m;
}

}  // namespace wfp::host
