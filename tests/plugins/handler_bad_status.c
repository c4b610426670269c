/* GET /fault responds status 99 (outside 100..599, refused with WFP_ERR_INVALID_ARGUMENT), then
 * tries again with a valid 200, as a plugin that handles the error might: the first refusal is
 * the fault, so the host answers 500 and refuses the second call too (WFP_ERR_STATE), which the
 * plugin logs as "then respond returned N". */
#include <stdio.h>

#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  char line[192];
  wfp_status second;
  (void)user_data;
  if (tp_respond_json(g_host, call, 99, "{\"bad\":true}") == WFP_OK) return 0;
  second = tp_respond_json(g_host, call, 200, "{\"good\":true}");
  /* With the request id, as wfp_request.request_id is meant for: the host does not repeat it. */
  snprintf(line, sizeof line, "request %.*s: then respond returned %d", (int)request->request_id.size,
           request->request_id.data, (int)second);
  g_host->log(g_host->host, WFP_LOG_INFO, tp_str(line));
  return 0;
}

FAULT_PLUGIN("handler_bad_status")
