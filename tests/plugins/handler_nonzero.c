/* GET /fault responds 200 and then returns non-zero: the host answers 500. */
#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  tp_respond_json(g_host, call, 200, "{\"ok\":true}");
  return 7;
}

FAULT_PLUGIN("handler_nonzero")
