/* Answers with a wfp_response whose struct_size (8) does not cover the fields of ABI 1.0: the host
 * must refuse it (respond returns WFP_ERR_INVALID_ARGUMENT) and answer 500 itself. */
#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  wfp_response response;
  (void)user_data;
  (void)request;
  memset(&response, 0, sizeof response);
  response.struct_size = 8;
  response.status = 200;
  return g_host->respond(call, &response) == WFP_OK ? 0 : 1;
}

FAULT_PLUGIN("short_response")
