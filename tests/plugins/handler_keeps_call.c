/* GET /fault keeps its wfp_call past the handler, which the ABI forbids: the first request answers
 * 200 and keeps the pointer; each later one first tries to answer through the kept pointer, then
 * answers through its own, saying what the stale respond returned ({"staleRespond":N}). The host
 * must refuse the stale call (WFP_ERR_STATE) rather than let it answer the request now running. */
#include <stdio.h>

#include "handler_faults.h"

static wfp_call *g_kept;

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  char body[64];
  wfp_status stale;
  (void)user_data;
  (void)request;
  if (!g_kept) {
    g_kept = call;
    return tp_respond_json(g_host, call, 200, "{\"kept\":true}") == WFP_OK ? 0 : 1;
  }
  stale = tp_respond_json(g_host, g_kept, 201, "{\"stale\":true}");
  snprintf(body, sizeof body, "{\"staleRespond\":%d}", (int)stale);
  g_kept = call;
  return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1;
}

FAULT_PLUGIN("handler_keeps_call")
