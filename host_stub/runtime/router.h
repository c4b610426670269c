// Route table of the host: (method, path template) -> handler, and the match of a request path.
//
// Templates are "/"-separated segments, each either a literal ("api") or a parameter ("{id}", a
// name of letters, digits and '_', not starting with a digit). Two templates that differ only in
// their parameter names are the same route. A path matches a template when it has as many segments
// and each literal is equal; when several templates match, the one whose first differing segment is
// a literal wins. Parameter values are percent-decoded.
//
// Thread-safety: Add/RemoveOwner are not thread-safe; Find is const and may run concurrently with
// other Find calls once the table no longer changes (the host fills it while loading plugins,
// before serving).
#ifndef WFP_HOST_STUB_RUNTIME_ROUTER_H_
#define WFP_HOST_STUB_RUNTIME_ROUTER_H_

#include <wfp/plugin_abi.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace wfp::host {

struct RouteSegment {
  bool is_param = false;
  std::string text;  // the literal, or the parameter's name
};

struct Route {
  std::string method;
  std::string path_template;
  std::vector<RouteSegment> segments;
  wfp_handler_fn handler = nullptr;
  void* user_data = nullptr;
  size_t owner = 0;        // the plugin that registered it
  bool is_public = false;  // WFP_ROUTE_PUBLIC: served without authentication
};

// Parses a template into segments; InvalidArgument for a malformed one.
Result<std::vector<RouteSegment>> ParseRouteTemplate(std::string_view path_template);

// True for an HTTP method token ("GET", "POST", ...): 1 to 32 of A-Z, a-z, 0-9, '-', '_'.
bool IsValidMethod(std::string_view method);

class Router {
 public:
  enum class MatchKind { kFound, kNoPath, kNoMethod };

  struct Match {
    MatchKind kind = MatchKind::kNoPath;
    const Route* route = nullptr;                             // kFound
    std::vector<std::pair<std::string, std::string>> params;  // kFound: name, decoded value
    std::string allow;  // kNoMethod: the methods of the path, sorted, ", "-separated
    // kNoMethod: the most specific route of the path (of another method), which names it.
    const Route* path_route = nullptr;

    // The template of the route the path matched, whatever the method (the route label of the
    // metrics and the access log); "" when no route has the path.
    std::string_view path_template() const {
      const Route* named = route ? route : path_route;
      return named ? std::string_view(named->path_template) : std::string_view();
    }
  };

  // Adds a route. InvalidArgument for a bad method or template, Conflict when that method and
  // template shape exist already (*conflict_owner, when given, is then the owner of that route).
  Status Add(std::string_view method, std::string_view path_template, wfp_handler_fn handler,
             void* user_data, size_t owner, size_t* conflict_owner = nullptr,
             bool is_public = false);

  // Removes every route of `owner` (a refused plugin).
  void RemoveOwner(size_t owner);

  // Matches a path (without the query string).
  Match Find(std::string_view method, std::string_view path) const;

  size_t size() const { return routes_.size(); }

 private:
  std::vector<Route> routes_;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_ROUTER_H_
