// Prints, as one line of validate_response.mjs's input, the 200 answer the plugin gives when a real
// run was committed but its full answer could not be rendered (RenderCommittedSummary), so that
// openapi.committed_summary checks it against the document like every answer of a live host. (The
// failure itself cannot be caused from outside a running host; the body's writer is what the
// document describes.)
#include <boost/json.hpp>
#include <iostream>

#include "backfill/writer.h"

int main() {
  wfp::backfill::Plan plan;
  plan.items.resize(3);
  plan.items[1].action = wfp::backfill::Action::kReuseSession;
  plan.items[2].action = wfp::backfill::Action::kSkip;
  boost::json::object line;
  line["method"] = "POST";
  line["path"] = "/api/schedules/5/backfill";
  line["status"] = 200;
  line["headers"] = {{"content-type", "application/json"}};
  line["body"] = boost::json::parse(wfp::backfill::RenderCommittedSummary(5, plan));
  std::cout << boost::json::serialize(line) << "\n";
}
