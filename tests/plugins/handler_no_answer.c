/* GET /fault returns 0 without calling respond: the host answers 500. */
#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  (void)call;
  return 0;
}

FAULT_PLUGIN("handler_no_answer")
