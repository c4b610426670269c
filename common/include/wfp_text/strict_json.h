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

// Parses `text` into *out. False with *problem (if given) when the text is not JSON, breaks
// `options` (depth, ...), or has an object with a key twice.
bool ParseStrictJson(std::string_view text, boost::json::value* out, JsonProblem* problem,
                     const boost::json::parse_options& options = {});

// Only the checks of ParseStrictJson, without building the value.
bool CheckStrictJson(std::string_view text, JsonProblem* problem,
                     const boost::json::parse_options& options = {});

// "duplicate key 'k' in $.x" or the syntax message: for messages that have no better wording.
std::string Describe(const JsonProblem& problem);

}  // namespace wfp::text

#endif  // WFP_TEXT_STRICT_JSON_H_
