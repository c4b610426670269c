/* GET /fault responds 200, then 201 (refused with WFP_ERR_STATE): the host answers 500. */
#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  if (tp_respond_json(g_host, call, 200, "{\"first\":true}") != WFP_OK) return 1;
  tp_respond_json(g_host, call, 201, "{\"second\":true}");
  return 0;
}

FAULT_PLUGIN("handler_answers_twice")
