// What the files of the backfill client share (internal to host_stub/client/): digit checks,
// reading a JSON field, and one HTTP exchange with the server.
#ifndef WFP_HOST_STUB_CLIENT_INTERNAL_H_
#define WFP_HOST_STUB_CLIENT_INTERNAL_H_

#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <string>
#include <string_view>

#include "client/backfill_client.h"

namespace wfp::host::client_detail {

namespace http = boost::beast::http;

// True for a non-empty run of ASCII digits.
bool IsDigits(std::string_view s);
// The value of digits (IsDigits), without overflow checks: callers bound the length.
int ToInt(std::string_view s);
// A field of a JSON object as text: a string as it is, another value serialized, `absent` when
// missing or null.
std::string Str(const boost::json::object& o, std::string_view key, std::string_view absent = "-");
// The first project's id in a `{"projects": [...]}` answer.
bool ProjectIdOfAnswer(std::string_view body, std::string* id);

struct Exchange {
  bool reached = false;  // false: could not resolve, connect, or got no complete answer
  bool sent = false;     // connected and began sending
  int status = 0;
  std::string body;
  std::string etag;
  std::string error;
};

// One request over a fresh connection; the whole exchange must end within `timeout`.
Exchange Send(const HttpUrl& url, http::request<http::string_body> req,
              std::chrono::seconds timeout);

// A request of the client: Host, User-Agent, the API key, `Connection: close`.
http::request<http::string_body> MakeRequest(http::verb verb, const HttpUrl& url,
                                             const BackfillArgs& args, std::string target);
// The server's address as the user reads it: http://HOST:PORT.
std::string Where(const HttpUrl& url);

}  // namespace wfp::host::client_detail

#endif  // WFP_HOST_STUB_CLIENT_INTERNAL_H_
