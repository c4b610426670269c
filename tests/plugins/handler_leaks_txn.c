/* GET /fault begins a store transaction and answers 200 without finishing it: the host must roll
 * it back, log it, and answer 500 (the answer may claim work that was rolled back). */
#include <stdio.h>

#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  wfp_txn *txn = NULL;
  char body[64];
  wfp_status begin = g_host->store->begin(call, &txn);
  (void)user_data;
  (void)request;
  snprintf(body, sizeof body, "{\"begin\":%d}", (int)begin);
  return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1; /* txn deliberately open */
}

FAULT_PLUGIN("handler_leaks_txn")
