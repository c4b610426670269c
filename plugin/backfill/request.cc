#include "backfill/request.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/value.hpp>
#include <cmath>
#include <vector>

#include "wfp_text/strict_json.h"
#include "wfp_text/utf8.h"

namespace wfp::backfill {
namespace {

constexpr std::array<std::string_view, 6> kFields = {"dryRun", "fromTime",     "attemptName",
                                                     "count",  "skipExisting", "advanceSchedule"};

Refusal Bad(std::string message) { return Refusal{Refusal::kInvalid, std::move(message)}; }

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (same ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

const char* TypeName(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::bool_:
      return "a boolean";
    case boost::json::kind::int64:
    case boost::json::kind::uint64:
      return "an integer";
    case boost::json::kind::double_:
      return "a number";
    case boost::json::kind::string:
      return "a string";
    case boost::json::kind::array:
      return "an array";
    case boost::json::kind::object:
      return "an object";
    case boost::json::kind::null:
      return "null";
  }
  return "a value";
}

// Counts code points of valid UTF-8 (Boost.JSON has validated it) and finds control characters
// (C0, DEL and C1).
bool HasControl(std::string_view s, size_t* code_points) {
  size_t n = 0;
  bool control = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) != 0x80) ++n;
    if (c < 0x20 || c == 0x7F) control = true;
    // U+0080..U+009F are C2 80..C2 9F in UTF-8.
    if (c == 0xC2 && i + 1 < s.size()) {
      const auto d = static_cast<unsigned char>(s[i + 1]);
      if (d >= 0x80 && d <= 0x9F) control = true;
    }
  }
  *code_points = n;
  return control;
}

// The exponent of a JSON number (after its 'e'), held at +-1e12 (far past any digits a body has).
int64_t Exponent(std::string_view e) {
  const bool negative = !e.empty() && e[0] == '-';
  if (!e.empty() && (e[0] == '-' || e[0] == '+')) e.remove_prefix(1);
  int64_t v = 0;
  for (const char c : e) v = std::min<int64_t>(v * 10 + (c - '0'), 1'000'000'000'000);
  return negative ? -v : v;
}

// A count from the text of a JSON number read as a double (a fraction, an exponent, or an integer
// past 64 bits), decided by its digits: 1e-400 is a fraction (a double makes it 0), a 30-digit
// integer is too large (a double rounds it), and every message shows the number as sent.
std::variant<uint64_t, Refusal> CountFromText(std::string_view text) {
  const std::string shown = text::Excerpt(text, 32);
  const bool negative = !text.empty() && text[0] == '-';
  const std::string_view t = text.substr(negative ? 1 : 0);
  const size_t e = t.find_first_of("eE");
  const std::string_view mantissa = t.substr(0, e);
  const size_t dot = std::min(mantissa.find('.'), mantissa.size());
  // The value is 0.<digits> times 10^point.
  std::string digits(mantissa.substr(0, dot));
  if (dot < mantissa.size()) digits += mantissa.substr(dot + 1);
  int64_t point =
      static_cast<int64_t>(dot) + (e == std::string_view::npos ? 0 : Exponent(t.substr(e + 1)));
  const size_t lead = digits.find_first_not_of('0');
  if (lead == std::string::npos) return uint64_t{0};  // zero, whatever its sign and exponent
  digits.erase(0, lead);
  point -= static_cast<int64_t>(lead);
  digits.erase(digits.find_last_not_of('0') + 1);
  if (negative) return Bad(fmt::format("count must be 0 or more, not {}", shown));
  // The whole part, when it has at most 16 digits (kMaxCount has 16).
  uint64_t whole = 0;
  for (int64_t i = 0; i < std::min<int64_t>(point, 17); ++i)
    whole = whole * 10 + (i < static_cast<int64_t>(digits.size()) ? digits[i] - '0' : 0);
  if (point > 16 || whole > kMaxCount)
    return Bad(fmt::format("count must be at most {} (2^53 - 1), not {}", kMaxCount, shown));
  if (point < static_cast<int64_t>(digits.size()))
    return Bad(fmt::format("count must be a whole number of sessions, not {}", shown));
  return whole;
}

// count: a whole number from 0 to kMaxCount, in any JSON notation of one (1000, 1e3, 1000.0 are
// the same number, as JSON Schema's "integer" says); a fraction or a larger number is a 400 that
// says so. `text`: the number as sent, when it was read as a double.
std::variant<uint64_t, Refusal> ParseCount(const boost::json::value& v, std::string_view text) {
  if (v.is_int64() && v.get_int64() < 0)
    return Bad(fmt::format("count must be 0 or more, not {}", v.get_int64()));
  if (v.is_int64() || v.is_uint64()) {
    const uint64_t n = v.is_int64() ? static_cast<uint64_t>(v.get_int64()) : v.get_uint64();
    if (n > kMaxCount)
      return Bad(fmt::format("count must be at most {} (2^53 - 1), not {}", kMaxCount, n));
    return n;
  }
  if (!v.is_double())
    return Bad(fmt::format("count must be an integer (0 or more), not {}", TypeName(v)));
  return CountFromText(text);
}

}  // namespace

std::string ClosestField(std::string_view name) {
  std::string_view best;
  size_t best_distance = SIZE_MAX;
  for (std::string_view f : kFields) {
    const size_t d = EditDistance(name, f);
    if (d < best_distance) best_distance = d, best = f;
  }
  // Close enough to be a typo: at most a third of the name, and at least one edit allowed.
  if (best_distance <= std::max<size_t>(2, best.size() / 3)) return std::string(best);
  return {};
}

namespace {

// Every field of the body is a known one; an unknown one is named, with the nearest known name.
std::optional<Refusal> CheckFieldNames(const boost::json::object& obj) {
  for (const auto& kv : obj) {
    const std::string_view key = kv.key();
    if (std::find(kFields.begin(), kFields.end(), key) != kFields.end()) continue;
    const std::string near = ClosestField(key);
    const std::string shown = text::Excerpt(key, 64);
    if (!near.empty())
      return Bad(fmt::format("unknown field '{}'; did you mean '{}'?", shown, near));
    return Bad(
        fmt::format("unknown field '{}'; known fields are dryRun, fromTime, attemptName, count, "
                    "skipExisting, advanceSchedule",
                    shown));
  }
  return std::nullopt;
}

// The rules between fields.
std::optional<Refusal> CheckCombination(const BackfillRequest& r) {
  if (r.advance_schedule && !r.skip_existing)
    return Bad("advanceSchedule requires skipExisting: true");
  if (r.advance_schedule && r.attempt_name)
    return Bad("attemptName must not be given when advanceSchedule is true");
  if (!r.advance_schedule && !r.from_time)
    return Bad("fromTime is required unless advanceSchedule is true");
  if (!r.skip_existing && !r.attempt_name)
    return Bad("attemptName is required unless skipExisting is true");
  return std::nullopt;
}

}  // namespace

std::variant<BackfillRequest, Refusal> ParseBackfillRequest(std::string_view body) {
  if (body.size() > kMaxBodyBytes)
    return Refusal{Refusal::kTooLarge,
                   fmt::format("request body is larger than {} bytes", kMaxBodyBytes)};
  boost::json::parse_options options;
  options.max_depth = 16;
  boost::json::value doc;
  text::JsonProblem problem;
  text::NumberTexts doubles;
  if (!text::ParseStrictJson(body, &doc, &problem, options, &doubles)) {
    if (problem.object_path == "$")
      return Bad(
          fmt::format("field '{}' is given twice; send each field once", problem.duplicate_key));
    return Bad(fmt::format("request body is not valid JSON: {}", text::Describe(problem)));
  }
  if (!doc.is_object())
    return Bad(fmt::format("request body must be a JSON object, not {}", TypeName(doc)));
  const boost::json::object& obj = doc.get_object();

  if (auto e = CheckFieldNames(obj)) return *e;
  // null counts as absent.
  auto get = [&](std::string_view key) -> const boost::json::value* {
    const boost::json::value* v = obj.if_contains(key);
    return v && !v->is_null() ? v : nullptr;
  };
  auto boolean = [&](std::string_view key, bool* out) -> std::optional<Refusal> {
    if (const auto* v = get(key)) {
      if (!v->is_bool()) return Bad(fmt::format("{} must be a boolean, not {}", key, TypeName(*v)));
      *out = v->get_bool();
    }
    return std::nullopt;
  };

  BackfillRequest r;
  if (!get("dryRun")) return Bad("dryRun is required (true or false)");
  if (auto e = boolean("dryRun", &r.dry_run)) return *e;
  if (auto e = boolean("skipExisting", &r.skip_existing)) return *e;
  if (auto e = boolean("advanceSchedule", &r.advance_schedule)) return *e;

  if (const auto* v = get("fromTime")) {
    if (!v->is_string()) return Bad(fmt::format("fromTime must be a string, not {}", TypeName(*v)));
    std::string why;
    auto t = ParseIsoInstant(v->get_string(), &why);
    if (!t) return Bad(fmt::format("fromTime {}", why));
    r.from_time = *t;
  }
  if (const auto* v = get("attemptName")) {
    if (!v->is_string())
      return Bad(fmt::format("attemptName must be a string, not {}", TypeName(*v)));
    const std::string_view name = v->get_string();
    size_t length = 0;
    const bool control = HasControl(name, &length);
    if (length < 1 || length > 255)
      return Bad(fmt::format("attemptName must be 1 to 255 characters long, not {}", length));
    if (control) return Bad("attemptName must not contain control characters");
    r.attempt_name = std::string(name);
  }
  if (const auto* v = get("count")) {
    std::string_view text;
    for (const auto& [path, number] : doubles)
      if (path == "$.count") text = number;
    auto count = ParseCount(*v, text);
    if (auto* e = std::get_if<Refusal>(&count)) return *e;
    r.count = std::get<uint64_t>(count);
  }

  if (auto e = CheckCombination(r)) return *e;
  return r;
}

}  // namespace wfp::backfill
