#include "cli/call_output.h"

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "common/media_type.h"

namespace wfp::host {
namespace {

// A boost::json parse handler that builds nothing: the parser only checks the syntax.
struct JsonValidator {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec = boost::json::error_code;
  bool on_document_begin(ec&) { return true; }
  bool on_document_end(ec&) { return true; }
  bool on_object_begin(ec&) { return true; }
  bool on_object_end(std::size_t, ec&) { return true; }
  bool on_array_begin(ec&) { return true; }
  bool on_array_end(std::size_t, ec&) { return true; }
  bool on_key_part(boost::json::string_view, std::size_t, ec&) { return true; }
  bool on_key(boost::json::string_view, std::size_t, ec&) { return true; }
  bool on_string_part(boost::json::string_view, std::size_t, ec&) { return true; }
  bool on_string(boost::json::string_view, std::size_t, ec&) { return true; }
  bool on_number_part(boost::json::string_view, ec&) { return true; }
  bool on_int64(std::int64_t, boost::json::string_view, ec&) { return true; }
  bool on_uint64(std::uint64_t, boost::json::string_view, ec&) { return true; }
  bool on_double(double, boost::json::string_view, ec&) { return true; }
  bool on_bool(bool, ec&) { return true; }
  bool on_null(ec&) { return true; }
  bool on_comment_part(boost::json::string_view, ec&) { return true; }
  bool on_comment(boost::json::string_view, ec&) { return true; }
};

// {"status": N, "headers": {...}, "body": , laid out as the spec writes it. Repeated headers are
// joined with ", ".
std::string Head(const HttpResponse& r, bool with_length) {
  boost::json::object headers;
  for (const auto& [name, value] : r.headers) {
    if (auto* existing = headers.if_contains(name))
      *existing = boost::json::string(std::string(existing->as_string()) + ", " + value);
    else
      headers[name] = value;
  }
  if (with_length && !headers.contains("content-length"))
    headers["content-length"] = std::to_string(r.body.size());
  std::string head = fmt::format("{{\"status\": {}, \"headers\": {{", r.status);
  bool first = true;
  for (const auto& [name, value] : headers) {
    head +=
        fmt::format("{}{}: {}", first ? "" : ", ", boost::json::serialize(boost::json::value(name)),
                    boost::json::serialize(value));
    first = false;
  }
  head += "}, \"body\": ";
  return head;
}

// Whether a body is printed as the JSON it is: its Content-Type mentions JSON.
bool IsJsonMedia(const std::string* content_type) {
  return content_type && MediaTypeMentionsJson(*content_type);
}

// `s` escaped for the inside of a JSON string (no quotes).
std::string EscapedInner(std::string_view s) {
  std::string quoted = boost::json::serialize(boost::json::string_view(s.data(), s.size()));
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

bool IsValidJson(std::string_view text) {
  boost::json::basic_parser<JsonValidator> parser{boost::json::parse_options{}};
  boost::json::error_code ec;
  const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  return !ec && n == text.size() && parser.done();
}

void WriteCallOutput(std::ostream& os, const HttpResponse& r, bool head_only) {
  os << Head(r, /*with_length=*/true);
  if (head_only)
    os << "\"\"";
  else if (IsJsonMedia(FindHeader(r.headers, "content-type")) && IsValidJson(r.body))
    os.write(r.body.data(), static_cast<std::streamsize>(r.body.size()));
  else
    os << boost::json::serialize(boost::json::string(r.body));
  os << "}\n";
}

bool CallOutputStream::Begin(HttpResponse&& head) {
  begun_ = true;
  as_string_ = head_only_ || !IsJsonMedia(FindHeader(head.headers, "content-type"));
  os_ << Head(head, /*with_length=*/false);
  if (as_string_) os_ << '"';
  return Write(head.body);
}

bool CallOutputStream::Write(std::string_view piece) {
  body_bytes_ += piece.size();
  if (head_only_) return static_cast<bool>(os_);
  if (as_string_) {
    const std::string escaped = EscapedInner(piece);
    os_.write(escaped.data(), static_cast<std::streamsize>(escaped.size()));
  } else {
    os_.write(piece.data(), static_cast<std::streamsize>(piece.size()));
  }
  return static_cast<bool>(os_);
}

void CallOutputStream::Finish() {
  if (as_string_) os_ << '"';
  os_ << "}\n";
}

void CallOutputStream::Abort() {
  cut_off_ = true;
  os_.flush();
}

}  // namespace wfp::host
