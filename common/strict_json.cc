#include "wfp_text/strict_json.h"

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <unordered_set>
#include <vector>

#include "wfp_text/utf8.h"

namespace wfp::text {
namespace {

namespace json = boost::json;

// A basic_parser handler that builds nothing: it keeps, per open object, the keys seen so far,
// and per open array the index of the current element, and stops at the first key seen twice.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);
  using ec = json::error_code;

  bool on_document_begin(ec&) { return true; }
  bool on_document_end(ec&) { return true; }
  bool on_object_begin(ec&) { return Open(true); }
  bool on_object_end(std::size_t, ec&) { return Close(); }
  bool on_array_begin(ec&) { return Open(false); }
  bool on_array_end(std::size_t, ec&) { return Close(); }
  bool on_key_part(json::string_view s, std::size_t, ec&) { return key_.append(s), true; }
  bool on_key(json::string_view s, std::size_t, ec& e) {
    key_.append(s);
    Level& top = stack_.back();
    if (!top.keys.insert(key_).second) {
      duplicate_ = key_;
      found_ = true;
      e = json::error::syntax;  // stops the parser; the caller reads duplicate()
      return false;
    }
    top.key = std::move(key_);
    key_.clear();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, ec&) { return true; }
  bool on_string(json::string_view, std::size_t, ec&) { return Value(); }
  bool on_number_part(json::string_view s, ec&) {
    if (doubles_) number_.append(s);
    return true;
  }
  bool on_int64(std::int64_t, json::string_view, ec&) { return number_.clear(), Value(); }
  bool on_uint64(std::uint64_t, json::string_view, ec&) { return number_.clear(), Value(); }
  bool on_double(double, json::string_view s, ec&) {
    if (doubles_) {
      number_.append(s);
      doubles_->emplace_back(ValuePath(), std::move(number_));
      number_.clear();
    }
    return Value();
  }
  bool on_bool(bool, ec&) { return Value(); }
  bool on_null(ec&) { return Value(); }
  bool on_comment_part(json::string_view, ec&) { return true; }
  bool on_comment(json::string_view, ec&) { return true; }

  // Where the texts of numbers read as doubles go (none when null).
  void KeepDoubles(NumberTexts* doubles) { doubles_ = doubles; }

  bool found() const { return found_; }
  const std::string& duplicate() const { return duplicate_; }

  // "$", "$.sessions[2]", "$.a.b": the object holding the duplicate key.
  std::string ObjectPath() const {
    std::string path = "$";
    for (size_t i = 0; i + 1 < stack_.size(); ++i) {
      if (stack_[i].object)
        path += "." + Excerpt(stack_[i].key, 64);
      else
        path += fmt::format("[{}]", stack_[i].index);
    }
    return path;
  }

  // "$", "$.count", "$.a[2]": the place of the current value, keys as they are.
  std::string ValuePath() const {
    std::string path = "$";
    for (const Level& level : stack_) {
      if (level.object)
        path += "." + level.key;
      else
        path += fmt::format("[{}]", level.index);
    }
    return path;
  }

 private:
  struct Level {
    bool object = false;
    std::unordered_set<std::string> keys;
    std::string key;   // objects: the current key
    size_t index = 0;  // arrays: the current element
  };
  bool Open(bool object) {
    stack_.push_back(Level{object, {}, {}, 0});
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return Value();
  }
  // A value ended: in an array, the next one is the next element.
  bool Value() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
    return true;
  }

  std::vector<Level> stack_;
  std::string key_;
  std::string duplicate_;
  bool found_ = false;
  NumberTexts* doubles_ = nullptr;
  std::string number_;  // the parts of the current number so far, when doubles_ is set
};

// Why `text` is not JSON, and where: the parser stopped after `consumed` bytes. Bytes that are
// not UTF-8 (the parser says only "syntax error" for them) and a byte order mark are named.
std::string SyntaxProblem(std::string_view text, size_t consumed, const json::error_code& ec) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    return "the text starts with a byte order mark (U+FEFF): JSON is sent without one";
  if (const size_t bad = FirstInvalidUtf8(text); bad != std::string_view::npos && bad <= consumed)
    return fmt::format("invalid UTF-8 at byte {}", bad);
  return fmt::format("{} at byte {}", ec ? ec.message() : "extra data after the JSON value",
                     consumed);
}

// CheckStrictJson, and the texts of numbers read as doubles into *doubles when it is not null.
bool Check(std::string_view text, JsonProblem* problem, const json::parse_options& options,
           NumberTexts* doubles) {
  json::basic_parser<DuplicateKeyFinder> parser(options);
  parser.handler().KeepDoubles(doubles);
  json::error_code ec;
  const std::size_t n = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && n == text.size() && parser.done()) return true;
  if (problem) {
    *problem = {};
    if (parser.handler().found()) {
      problem->duplicate_key = Excerpt(parser.handler().duplicate(), 64);
      problem->object_path = parser.handler().ObjectPath();
    } else {
      problem->syntax = SyntaxProblem(text, n, ec);
    }
  }
  return false;
}

}  // namespace

bool CheckStrictJson(std::string_view text, JsonProblem* problem,
                     const json::parse_options& options) {
  return Check(text, problem, options, nullptr);
}

bool ParseStrictJson(std::string_view text, json::value* out, JsonProblem* problem,
                     const json::parse_options& options, NumberTexts* doubles) {
  if (!Check(text, problem, options, doubles)) return false;
  json::error_code ec;
  *out = json::parse(text, ec, {}, options);
  if (ec && problem) *problem = JsonProblem{{}, {}, ec.message()};
  return !ec;
}

std::string Describe(const JsonProblem& problem) {
  if (!problem.object_path.empty())
    return fmt::format("duplicate key '{}' in {}", problem.duplicate_key, problem.object_path);
  return problem.syntax;
}

}  // namespace wfp::text
