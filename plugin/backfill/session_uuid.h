// The UUIDs of a backfill's new sessions. Each is derived from a per-request random seed and the
// session's position in the plan, so a plan of a million new sessions keeps 16 bytes of seed
// instead of a million strings: the writer and the renderer compute the same UUID for the same
// item, and a dry run computes only those it shows. Pure; thread-safe.
#ifndef WFP_PLUGIN_BACKFILL_SESSION_UUID_H_
#define WFP_PLUGIN_BACKFILL_SESSION_UUID_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace wfp::backfill {

// A version-4 (random) UUID in its 36-character text form, for position `ordinal` under `seed`.
// Two seeds drawn at random give unrelated UUIDs; one seed gives a different UUID at each position
// (each half is a bijective mix of seed and position; only the 6 version and variant bits are
// fixed).
std::string NewSessionUuid(const uint64_t (&seed)[2], size_t ordinal);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_SESSION_UUID_H_
