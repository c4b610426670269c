/* GET /fault responds status 99 (outside 100..599, refused with WFP_ERR_INVALID_ARGUMENT): the
 * host answers 500. */
#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  tp_respond_json(g_host, call, 99, "{\"bad\":true}");
  return 0;
}

FAULT_PLUGIN("handler_bad_status")
