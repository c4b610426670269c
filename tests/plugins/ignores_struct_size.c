/* Declares ABI minor 0 (it runs on a 1.0 host) but calls respond_append, a 1.1 function, after
 * checking only that the pointer is not null, not that the host table's struct_size covers it: on a
 * 1.0 host the slot lies past the table, and whatever is there gets called. */
#include "handler_faults.h"

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  if (tp_respond_json(g_host, call, 200, "{\"part\":") != WFP_OK) return 1;
  if (g_host
          ->respond_append) /* the fault: no WFP_HAS_FIELD(wfp_host_api, g_host, respond_append) */
    g_host->respond_append(call, tp_str("1}"));
  return 0;
}

FAULT_PLUGIN("ignores_struct_size")
