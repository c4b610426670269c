// The route's request body: parsing and validation, per the field table of
// docs/route.md. Pure; thread-safe.
#ifndef WFP_PLUGIN_BACKFILL_REQUEST_H_
#define WFP_PLUGIN_BACKFILL_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "backfill/time_format.h"

namespace wfp::backfill {

// Why the backfill core refuses a request, in the core's own terms; the glue maps each reason to
// the route's HTTP status (answer.h, HttpStatus). `message` is the text the client is shown.
struct Refusal {
  enum Reason {
    kInvalid,   // the request, or what it asks of the schedule, breaks a rule (400)
    kTooLarge,  // the request body is over the size limit (413)
    kConflict,  // an attempt of that name already exists (409)
  };
  Reason reason = kInvalid;
  std::string message;
};

struct BackfillRequest {
  bool dry_run = false;
  std::optional<ParsedInstant> from_time;
  std::optional<std::string> attempt_name;
  std::optional<uint64_t> count;
  bool skip_existing = false;
  bool advance_schedule = false;
};

inline constexpr size_t kMaxBodyBytes = 64 * 1024;
// The largest count: 2^53 - 1, the largest integer every JSON reader holds exactly (I-JSON).
inline constexpr uint64_t kMaxCount = (uint64_t{1} << 53) - 1;

// Parses and validates a body. Every rule violation is a 400 whose message names the field and the
// rule; an unknown field suggests the closest known name.
std::variant<BackfillRequest, Refusal> ParseBackfillRequest(std::string_view body);

// The known field closest to `name` by edit distance, or empty when none is close.
std::string ClosestField(std::string_view name);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_REQUEST_H_
