// Serving a request: the OpenAPI document, admission from the head (route, method, credentials,
// key), the body's checks, then the handler (dispatch.cc); the host's log; the Host's interface.
// The loader is loader.cc, the host table given to plugins host_api.cc (see runtime/host_impl.h).
#include <fmt/format.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <chrono>
#include <exception>
#include <stdexcept>

#include "common/error_body.h"
#include "common/log_line.h"
#include "common/log_writer.h"
#include "common/media_type.h"
#include "common/time_text.h"
#include "runtime/clock.h"
#include "runtime/content_coding.h"
#include "runtime/host_impl.h"
#include "runtime/request_id.h"

namespace wfp::host {
using namespace runtime_internal;
namespace {

constexpr std::string_view kOpenApiPath = "/api/openapi.json";
// The router needs a handler; native routes are dispatched by owner and never call it.
int32_t NativeRouteMarker(void*, const wfp_request*, wfp_call*) { return 1; }

// The id of the request this thread is serving (set around a handler call), for the plugin's log
// lines: the host's log function adds it without the plugin passing it.
thread_local const std::string* t_request_id = nullptr;

class CurrentRequest {
 public:
  explicit CurrentRequest(const std::string* id) : previous_(t_request_id) { t_request_id = id; }
  ~CurrentRequest() { t_request_id = previous_; }
  CurrentRequest(const CurrentRequest&) = delete;
  CurrentRequest& operator=(const CurrentRequest&) = delete;

 private:
  const std::string* previous_;
};

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
std::string_view LevelName(wfp_log_level level) {
  switch (level) {
    case WFP_LOG_DEBUG:
      return "DEBUG";
    case WFP_LOG_INFO:
      return "INFO";
    case WFP_LOG_WARN:
      return "WARN";
    case WFP_LOG_ERROR:
      return "ERROR";
    default:
      return "LOG";
  }
}

constexpr std::string_view kHowToSendAKey =
    "send the key as 'Authorization: Bearer KEY' or as 'X-API-Key: KEY'";

// The API key a request carries, or why it cannot be used. A request is refused rather than
// guessed at when its credentials are ambiguous: a header given twice, or both headers naming
// different keys (400); or malformed: an Authorization that is not "Bearer KEY" (401).
struct Credentials {
  std::optional<std::string_view> key;
  int refusal = 0;  // 400 or 401 when the credentials are refused
  std::string message;
};

Credentials ReadCredentials(const HttpRequest& r) {
  Credentials c;
  std::vector<std::string_view> bearer, api_key;
  for (const auto& [name, value] : r.headers) {
    if (IEquals(name, "authorization")) bearer.push_back(Trim(value));
    if (IEquals(name, "x-api-key")) api_key.push_back(Trim(value));
  }
  auto refuse = [&c](int status, std::string message) {
    c.refusal = status;
    c.message = std::move(message);
    return c;
  };
  if (bearer.size() > 1 || api_key.size() > 1)
    return refuse(400, fmt::format("the {} header is given {} times; {}, once",
                                   bearer.size() > 1 ? "Authorization" : "X-API-Key",
                                   std::max(bearer.size(), api_key.size()), kHowToSendAKey));
  std::optional<std::string_view> from_bearer, from_api_key;
  if (!bearer.empty()) {
    const std::string_view v = bearer.front();
    const size_t space = v.find_first_of(" \t");
    const std::string_view token = space == v.npos ? std::string_view() : Trim(v.substr(space));
    if (space != 6 || !IEquals(v.substr(0, 6), "bearer") || token.empty() ||
        token.find_first_of(" \t") != token.npos)
      return refuse(401, fmt::format("malformed Authorization header: {}", kHowToSendAKey));
    from_bearer = token;
  }
  if (!api_key.empty()) {
    if (api_key.front().empty())
      return refuse(401, fmt::format("the X-API-Key header is empty: {}", kHowToSendAKey));
    from_api_key = api_key.front();
  }
  if (from_bearer && from_api_key && *from_bearer != *from_api_key)
    return refuse(400, "Authorization and X-API-Key name different keys; send one key");
  c.key = from_bearer ? from_bearer : from_api_key;
  return c;
}

// The store table of a host without a store.
wfp_status NoBegin(wfp_call*, wfp_txn**) { return WFP_ERR_UNSUPPORTED; }
wfp_status NoCommit(wfp_txn*) { return WFP_ERR_UNSUPPORTED; }
void NoRollback(wfp_txn*) {}
wfp_status NoLoad(wfp_txn*, int64_t, int64_t, wfp_schedule_info*) { return WFP_ERR_UNSUPPORTED; }
wfp_status NoList(wfp_txn*, int64_t, wfp_str, wfp_epoch_seconds, wfp_epoch_seconds,
                  wfp_session_visitor, void*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoLatest(wfp_txn*, int64_t, wfp_str, wfp_epoch_seconds, int32_t*, wfp_epoch_seconds*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoSessions(wfp_txn*, const wfp_new_session*, size_t, int64_t*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoAttempts(wfp_txn*, const wfp_new_attempt*, size_t, int64_t*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status NoMove(wfp_txn*, int64_t, const wfp_schedule_pointer*) { return WFP_ERR_UNSUPPORTED; }

const wfp_store_api kNoStore = {sizeof(wfp_store_api),
                                NoBegin,
                                NoCommit,
                                NoRollback,
                                NoLoad,
                                NoList,
                                NoLatest,
                                NoSessions,
                                NoAttempts,
                                NoMove,
                                NoBegin,
                                nullptr};

}  // namespace

namespace runtime_internal {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// One log line: control characters escaped so that a message cannot forge other lines.
}  // namespace runtime_internal

Host::Impl::Impl(HostOptions o) : options(std::move(o)) {
  store = options.store ? options.store : &kNoStore;
  for (HostOptions::NativeRoute& r : options.native_routes) {
    const Status added = router.Add(r.method, r.path_template, NativeRouteMarker, &r, kNativeOwner);
    if (!added.ok())
      throw std::invalid_argument(
          fmt::format("host route {} {}: {}", r.method, r.path_template, added.message()));
  }
}

void Host::Impl::Log(wfp_log_level level, std::string_view source, std::string_view message) {
  const std::string_view id = t_request_id ? std::string_view(*t_request_id) : "";
  std::string line;
  // A text line gets the request's id unless the message names it already (a plugin that writes
  // wfp_request.request_id into its lines, as the ABI means it to); a JSON line always has its
  // field.
  if (options.json_logs)
    line = JsonLogLine(FormatInstantUtc(RealNowMicros() / 1000000), Lower(LevelName(level)),
                       source.substr(0, 128), id, message.substr(0, 4096));
  else if (id.empty() || message.find(id) != std::string_view::npos)
    line = fmt::format("[{}] {}: {}", LevelName(level), Sanitize(source, 128), Sanitize(message));
  else
    line = fmt::format("[{}] {}: {} (request {})", LevelName(level), Sanitize(source, 128),
                       Sanitize(message), id);
  if (!options.log_sink) return WriteLogLine(STDERR_FILENO, line);
  std::lock_guard lock(log_mu);  // a sink gets one line at a time
  options.log_sink(line);
}

HttpResponse ErrorResponse(int status, std::string_view message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("content-type", "application/json");
  r.body = ErrorBody(status, message);
  return r;
}

// GET (and HEAD) /api/openapi.json: public, answered before authentication, whatever the key.
std::optional<HttpResponse> Host::Impl::ServeDocument(const HttpRequest& request,
                                                      std::string_view path) const {
  if (options.openapi_document.empty() || path != kOpenApiPath) return std::nullopt;
  if (request.method != "GET" && request.method != "HEAD") {
    HttpResponse r = ErrorResponse(405, "Method not allowed");
    r.headers.emplace_back("allow", "GET, HEAD");
    return r;
  }
  HttpResponse r;
  r.status = 200;
  r.headers.emplace_back("content-type", "application/json");
  r.body = std::string(options.openapi_document);
  return r;
}

// What can be decided from the request's head alone (so before its body is read): the route, the
// method, the credentials and the key. Either a refusal, or the route and the caller's site.
Host::Impl::Admission Host::Impl::Admit(const HttpRequest& request, std::string_view path) const {
  Admission a;
  // HEAD is served wherever GET is (the server sends the head of GET's answer).
  const std::string_view method =
      request.method == "HEAD" ? std::string_view("GET") : std::string_view(request.method);
  a.match = router.Find(method, path);
  if (a.match.kind == Router::MatchKind::kNoPath) return a.Refuse(ErrorResponse(404, "Not found"));
  if (a.match.kind == Router::MatchKind::kNoMethod) {
    HttpResponse r = ErrorResponse(405, "Method not allowed");
    const bool get = (", " + a.match.allow + ",").find(", GET,") != std::string::npos;
    r.headers.emplace_back("allow", get ? a.match.allow + ", HEAD" : a.match.allow);
    return a.Refuse(std::move(r));
  }

  // Authentication comes before anything the plugin sees, except on a public route (site 0: no
  // caller; its credentials are not looked at). Keys are never logged.
  if (a.match.route->is_public) return a;  // site 0
  const Credentials credentials = ReadCredentials(request);
  if (credentials.refusal) {
    HttpResponse r = ErrorResponse(credentials.refusal, credentials.message);
    if (credentials.refusal == 401)
      r.headers.emplace_back("www-authenticate",
                             R"(Bearer realm="wfp-host", error="invalid_request")");
    return a.Refuse(std::move(r));
  }
  const std::optional<std::string_view> key = credentials.key;
  HostOptions::Authentication auth;
  if (key && options.authenticate) auth = options.authenticate(*key);
  if (auth.unavailable) {
    HttpResponse r = ErrorResponse(503, "The store is unavailable; try again later");
    r.headers.emplace_back("retry-after", "1");
    return a.Refuse(std::move(r));
  }
  if (!auth.site) {
    HttpResponse r = ErrorResponse(
        401, key ? "Invalid API key" : fmt::format("Missing API key: {}", kHowToSendAKey));
    r.headers.emplace_back(
        "www-authenticate",
        key ? R"(Bearer realm="wfp-host", error="invalid_token")" : R"(Bearer realm="wfp-host")");
    return a.Refuse(std::move(r));
  }
  a.site = *auth.site;
  return a;
}

// The body's checks, once it is read: its coding (gzip and deflate are decoded in place), its
// size once decoded (413), its media type (415).
std::optional<HttpResponse> Host::Impl::CheckBody(HttpRequest& request) const {
  if (auto refusal = DecodeContentCoding(&request, options.body_limit))
    return ErrorResponse(refusal->status, refusal->message);
  if (request.body.size() > options.body_limit)
    return ErrorResponse(
        413, fmt::format("Request body is too large (limit {} bytes)", options.body_limit));
  if (!request.body.empty()) {
    const std::string* ct = nullptr;
    for (const auto& [name, value] : request.headers)
      if (IEquals(name, "content-type")) ct = &value;
    if (!ct || !IsApplicationJson(*ct))
      return ErrorResponse(415, "Content-Type must be application/json");
  }
  return std::nullopt;
}

std::optional<HttpResponse> Host::Impl::Precheck(const HttpRequest& head) const {
  const std::string_view target = head.target;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (ServeDocument(head, path)) return std::nullopt;
  Admission admission = Admit(head, path);
  if (admission.refusal) admission.refusal->route = admission.match.path_template();
  return std::move(admission.refusal);
}

void Host::Impl::Identify(HttpResponse* response, std::string request_id) const {
  if (options.echo_request_id && !request_id.empty() &&
      !FindHeader(response->headers, "x-request-id"))
    response->headers.emplace_back("x-request-id", request_id);
  response->request_id = std::move(request_id);
}

HttpResponse Host::Impl::Serve(HttpRequest& request, ResponseStream* stream,
                               const std::string& request_id, Served* served) {
  const std::string_view target = request.target;
  const std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (auto document = ServeDocument(request, path)) {
    served->route = kOpenApiPath;
    return std::move(*document);
  }
  Admission admission = Admit(request, path);
  served->route = admission.match.path_template();  // a 405's too: the path's route
  if (admission.refusal) return std::move(*admission.refusal);
  served->site_id = admission.site;
  if (auto refusal = CheckBody(request)) return std::move(*refusal);
  return Dispatch(request, admission, stream, request_id);
}

Host::Host(HostOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Host::~Host() { Shutdown(); }

void Host::Log(wfp_log_level level, std::string_view source, std::string_view message) {
  impl_->Log(level, source, message);
}

size_t Host::plugin_count() const { return impl_->plugins.size(); }
size_t Host::route_count() const { return impl_->router.size(); }

std::vector<PluginInfo> Host::plugins() const {
  std::vector<PluginInfo> out;
  out.reserve(impl_->plugins.size());
  for (const auto& p : impl_->plugins) {
    std::lock_guard lock(impl_->settings_mu);
    out.push_back(PluginInfo{p->path,
                             p->name,
                             p->version,
                             p->descriptor->abi_major,
                             p->descriptor->abi_minor,
                             p->routes,
                             {p->settings_read.begin(), p->settings_read.end()}});
  }
  return out;
}

Status Host::CheckSettings() const {
  std::set<std::string, std::less<>> known;
  {
    std::lock_guard lock(impl_->settings_mu);
    for (const auto& p : impl_->plugins)
      known.insert(p->settings_read.begin(), p->settings_read.end());
  }
  std::string unknown;
  for (const auto& [key, value] : impl_->options.settings)
    if (!known.contains(key)) unknown += fmt::format("{}'{}'", unknown.empty() ? "" : ", ", key);
  if (unknown.empty()) return Status::Ok();
  std::string names;
  for (const std::string& k : known) names += (names.empty() ? "" : ", ") + k;
  return Status::InvalidArgument(fmt::format("unknown setting {}: the loaded plugins read {}",
                                             unknown, names.empty() ? "no settings" : names));
}

std::optional<HttpResponse> Host::Precheck(const HttpRequest& head) const {
  try {
    std::optional<HttpResponse> refusal = impl_->Precheck(head);
    if (refusal) impl_->Identify(&*refusal, RequestIdFor(head.headers));
    return refusal;
  } catch (...) {
    return std::nullopt;  // Handle meets the same fault and answers it
  }
}

HttpResponse Host::Handle(HttpRequest&& request, ResponseStream* stream) {
  const auto start = std::chrono::steady_clock::now();
  HttpResponse response;
  Impl::Served served;
  std::string request_id;
  try {
    request_id = RequestIdFor(request.headers);
    const CurrentRequest current(&request_id);
    response = impl_->Serve(request, stream, request_id, &served);
  } catch (const std::exception& e) {
    impl_->Log(WFP_LOG_ERROR, "host", fmt::format("request failed inside the host: {}", e.what()));
    response = ErrorResponse(500, kInternalError);
  } catch (...) {
    impl_->Log(WFP_LOG_ERROR, "host", "request failed inside the host");
    response = ErrorResponse(500, kInternalError);
  }
  response.route = std::move(served.route);
  response.site_id = served.site_id;
  impl_->Identify(&response, std::move(request_id));
  if (impl_->options.access_log) {
    try {
      const std::string_view target = request.target;
      const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::steady_clock::now() - start)
                              .count();
      impl_->Log(WFP_LOG_INFO, "access",
                 fmt::format("{} {} {} {:.3f}ms", Sanitize(request.method, 32),
                             Sanitize(target.substr(0, target.find_first_of("?#")), 512),
                             response.status, micros / 1000.0));
    } catch (...) {
    }
  }
  return response;
}

}  // namespace wfp::host
