// The backfill client's HTTP: the --server URL, one request over a fresh connection (a Beast
// client with one deadline for the whole exchange).
#include <fmt/format.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>

#include "client/internal.h"
#include "wfp_version.h"

namespace wfp::host {
namespace client_detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// One request over a fresh connection; the whole exchange must end within `timeout`.
Exchange Send(const HttpUrl& url, http::request<http::string_body> req,
              std::chrono::seconds timeout) {
  Exchange result;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(std::uint64_t{1} << 30);
  std::string step = "resolve";
  auto fail = [&](beast::error_code ec) {
    result.error = fmt::format("{} failed: {}", step,
                               ec == beast::error::timeout ? "timed out" : ec.message());
  };
  stream.expires_after(timeout);
  resolver.async_resolve(
      url.host, std::to_string(url.port),
      [&](beast::error_code ec, tcp::resolver::results_type endpoints) {
        if (ec) return fail(ec);
        step = "connect";
        stream.async_connect(endpoints, [&](beast::error_code ec, const tcp::endpoint&) {
          if (ec) return fail(ec);
          step = "send";
          result.sent = true;
          http::async_write(stream, req, [&](beast::error_code ec, size_t) {
            if (ec) return fail(ec);
            step = "read";
            http::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
              if (ec) return fail(ec);
              result.reached = true;
              result.status = parser.get().result_int();
              result.body = std::move(parser.get().body());
              result.etag = std::string(parser.get()[http::field::etag]);
              beast::error_code ignored;
              stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
            });
          });
        });
      });
  ioc.run();
  return result;
}

http::request<http::string_body> MakeRequest(http::verb verb, const HttpUrl& url,
                                             const BackfillArgs& args, std::string target) {
  http::request<http::string_body> req;
  req.method(verb);
  req.target(url.base_path + target);
  req.version(11);
  const bool v6 = url.host.find(':') != std::string::npos;
  req.set(http::field::host, v6 ? fmt::format("[{}]:{}", url.host, url.port)
                                : fmt::format("{}:{}", url.host, url.port));
  req.set(http::field::user_agent, "wfp-host-backfill/" WFP_VERSION);
  req.set(http::field::authorization, "Bearer " + args.api_key);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  return req;
}

std::string Where(const HttpUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return v6 ? fmt::format("http://[{}]:{}", url.host, url.port)
            : fmt::format("http://{}:{}", url.host, url.port);
}

}  // namespace client_detail

using client_detail::IsDigits;
using client_detail::ToInt;

Result<HttpUrl> ParseHttpUrl(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.substr(0, kScheme.size()) != kScheme) {
    return Status::InvalidArgument(
        text.substr(0, 8) == "https://"
            ? fmt::format("--server '{}': https is not supported; use an http:// URL", text)
            : fmt::format("--server '{}': expected an http:// URL, e.g. http://127.0.0.1:8080",
                          text));
  }
  std::string_view rest = text.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("--server '{}': {}", text, why));
  };
  if (path.find_first_of("?#") != std::string_view::npos)
    return bad("no query or fragment, please");
  if (authority.find('@') != std::string_view::npos) return bad("no user in the URL, please");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return bad("bad port");
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return bad("missing host");
  HttpUrl url;
  url.host = std::string(host);
  url.port = 80;
  if (!port.empty() || authority.back() == ':') {
    if (!IsDigits(port) || port.size() > 5 || ToInt(port) > 65535 || ToInt(port) == 0)
      return bad("bad port");
    url.port = static_cast<uint16_t>(ToInt(port));
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

}  // namespace wfp::host
