#include "runtime/content_coding.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>
#include <vector>

#include "wfp_text/utf8.h"

namespace wfp::host {
namespace {

constexpr size_t kPiece = 16 * 1024;  // inflated per step
constexpr size_t kMaxCodings = 4;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Every coding named by the Content-Encoding field lines, in the order they were applied.
std::vector<std::string> Codings(const HttpRequest& request) {
  std::vector<std::string> out;
  for (const auto& [name, value] : request.headers) {
    if (name != "content-encoding") continue;
    std::string_view rest = value;
    while (true) {
      const size_t comma = rest.find(',');
      const std::string_view item = Trim(rest.substr(0, comma));
      if (!item.empty()) out.push_back(Lower(item));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

CodingRefusal TooLarge(size_t limit) {
  return CodingRefusal{
      413, fmt::format("Request body is too large once decoded (limit {} bytes)", limit)};
}

// One zlib inflate run with the given window bits. nullopt on success; `*started` tells whether
// any output was produced (a deflate body is retried as raw deflate only if not).
std::optional<CodingRefusal> InflateWith(std::string_view data, int window_bits, size_t limit,
                                         std::string* out, bool* bad_header) {
  z_stream z{};
  if (inflateInit2(&z, window_bits) != Z_OK)
    return CodingRefusal{500, "the request body could not be decoded"};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  out->clear();
  int rc = Z_OK;
  std::optional<CodingRefusal> refusal;
  while (rc != Z_STREAM_END) {
    if (out->size() > limit) {
      refusal = TooLarge(limit);
      break;
    }
    const size_t before = out->size();
    out->resize(before + kPiece);
    z.next_out = reinterpret_cast<Bytef*>(out->data() + before);
    z.avail_out = static_cast<uInt>(kPiece);
    rc = inflate(&z, Z_NO_FLUSH);
    out->resize(before + (kPiece - z.avail_out));
    if (rc == Z_STREAM_END) break;
    if (rc == Z_OK) continue;
    if (rc == Z_DATA_ERROR && z.total_out == 0) *bad_header = true;
    refusal =
        CodingRefusal{400, rc == Z_BUF_ERROR ? "the compressed request body is truncated"
                                             : "the request body is not valid compressed data"};
    break;
  }
  if (!refusal && out->size() > limit) refusal = TooLarge(limit);
  if (!refusal && z.avail_in != 0)
    refusal = CodingRefusal{400, "the compressed request body has data after its end"};
  inflateEnd(&z);
  return refusal;
}

}  // namespace

std::optional<CodingRefusal> Inflate(std::string_view data, bool gzip, size_t limit,
                                     std::string* out) {
  bool bad_header = false;
  if (gzip) return InflateWith(data, 16 + MAX_WBITS, limit, out, &bad_header);
  // "deflate" is the zlib format (RFC 9110 8.4.1.2); some clients send raw deflate: accept both.
  auto refusal = InflateWith(data, MAX_WBITS, limit, out, &bad_header);
  if (refusal && bad_header) return InflateWith(data, -MAX_WBITS, limit, out, &bad_header);
  return refusal;
}

std::optional<CodingRefusal> DecodeContentCoding(HttpRequest* request, size_t limit) {
  const std::vector<std::string> codings = Codings(*request);
  if (codings.empty()) return std::nullopt;
  if (codings.size() > kMaxCodings)
    return CodingRefusal{415, fmt::format("at most {} content codings are accepted", kMaxCodings)};
  for (const std::string& coding : codings)
    if (coding != "gzip" && coding != "x-gzip" && coding != "deflate" && coding != "identity")
      return CodingRefusal{415, fmt::format("Content-Encoding '{}' is not supported; send the body "
                                            "as is, or with gzip or deflate",
                                            wfp::text::Excerpt(coding, 32))};
  std::string decoded;
  for (auto it = codings.rbegin(); it != codings.rend(); ++it) {  // the last applied goes first
    if (*it == "identity") continue;
    if (auto refusal = Inflate(request->body, *it != "deflate", limit, &decoded)) return refusal;
    request->body.swap(decoded);
  }
  std::erase_if(request->headers, [](const auto& h) { return h.first == "content-encoding"; });
  return std::nullopt;
}

}  // namespace wfp::host
