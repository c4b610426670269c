// JSON as wfp reads it from outside (request bodies, fixture files, answers of a server): standard
// JSON, with one more rule: an object must not have the same key twice. RFC 8259 leaves duplicates
// to each parser (Boost.JSON keeps the last, others keep the first), so a body such as
// {"dryRun":true,"dryRun":false} means different things to different readers; wfp refuses it.
// Pure; thread-safe.
#ifndef WFP_TEXT_STRICT_JSON_H_
#define WFP_TEXT_STRICT_JSON_H_

#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wfp::text {

// Why a text is not strict JSON.
struct JsonProblem {
  // A duplicate key: its name (an excerpt, valid UTF-8) and the JSON path of the object holding
  // it ("$", "$.sessions[2]"). Empty for any other problem.
  std::string duplicate_key;
  std::string object_path;
  // Boost.JSON's message for a syntax error (empty for a duplicate key).
  std::string syntax;
};

// The numbers of a text that are read as doubles (with a fraction or an exponent, or an integer
// past 64 bits), as they were sent, each with the JSON path of its place ("$.count", "$.a[2].b";
// keys as they are): a double cannot say what was sent (1e-400 reads as 0, a 30-digit integer
// loses its digits, a longer one is inf). In the order of the text.
using NumberTexts = std::vector<std::pair<std::string, std::string>>;

// Parses `text` into *out. False with *problem (if given) when the text is not JSON, breaks
// `options` (depth, ...), or has an object with a key twice. With `doubles`, adds the text of each
// number read as a double to it.
bool ParseStrictJson(std::string_view text, boost::json::value* out, JsonProblem* problem,
                     const boost::json::parse_options& options = {},
                     NumberTexts* doubles = nullptr);

// Only the checks of ParseStrictJson, without building the value.
bool CheckStrictJson(std::string_view text, JsonProblem* problem,
                     const boost::json::parse_options& options = {});

// "duplicate key 'k' in $.x" or the syntax message: for messages that have no better wording.
std::string Describe(const JsonProblem& problem);

}  // namespace wfp::text

#endif  // WFP_TEXT_STRICT_JSON_H_
