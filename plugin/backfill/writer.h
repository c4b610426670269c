// The writer: one backfill request from the host's request to the answer. It parses and checks the
// request (request.cc), opens the store transaction through the host's store table, loads and
// locks the schedule, reads the sessions in range, has the backfill planned (planner.cc), writes
// the plan in batches (sessions, then attempts), moves the schedule's pointer, commits, and answers
// (render.cc, answer.h). A dry run writes nothing and holds one batch of its plan at a time: it
// plans in batches, and streams its answer from its read snapshot in a second pass (writer_dry_run.cc).
// plugin.cc is the ABI glue around it; the tests run it against a fake store table
// (tests/backfill/writer_test.cc).
//
// Compiled against the ABI header of each build of the plugin (the ABI matrix builds the plugin
// against older and newer headers), so it is a library of its own, wfp_backfill_writer, next to
// the pure wfp_backfill_core.
#ifndef WFP_PLUGIN_BACKFILL_WRITER_H_
#define WFP_PLUGIN_BACKFILL_WRITER_H_

#include <wfp/plugin_abi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backfill/answer.h"
#include "backfill/plugin_state.h"
#include "backfill/render.h"

namespace wfp::backfill {

// Renders the 200 answer in pieces (render.h); the writer is given it so that tests can make it
// fail.
using ResponseRenderer = void (*)(const schedule::Schedule&, const ResponseContext&, const Plan&,
                                  size_t, const RenderSink&);

// Handles POST /api/schedules/{id}/backfill. A 200 is handed to the host here (streamed, `sent`
// set); any other answer is returned for the glue to send. `render` renders a real run's answer,
// and a dry run's that is one batch (PluginState::plan_batch). Faults of the store are answered
// (503 when busy, else 500) and logged through the host. Once a real backfill has committed, its
// answer is a 200 whatever happens while rendering it (docs/route.md, "When the answer cannot be
// rendered"); other exceptions propagate (the glue answers 500; an open transaction is rolled back
// first).
Answer Backfill(const PluginState& state, const wfp_request& r, wfp_call* call,
                ResponseRenderer render = RenderBackfillResponse);

// The 200 body of a committed backfill whose full answer could not be rendered: the schedule's id,
// how many attempts were created and how many candidates skipped.
std::string RenderCommittedSummary(int64_t schedule_id, const Plan& plan);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_WRITER_H_
