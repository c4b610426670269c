/* Keeps the host table and tries to register GET /later from its GET /late handler, after init:
 * the host answers WFP_ERR_STATE, which the handler reports as {"registerStatus":N}. */
#include <stdio.h>

#include "test_plugin.h"

static const wfp_host_api *g_host;

static int32_t later(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  return tp_respond_json(g_host, call, 200, "{\"later\":true}") == WFP_OK ? 0 : 1;
}

static int32_t late(void *user_data, const wfp_request *request, wfp_call *call) {
  char body[64];
  wfp_status st = tp_route(g_host, "GET", "/later", later, NULL);
  (void)user_data;
  (void)request;
  snprintf(body, sizeof body, "{\"registerStatus\":%d}", (int)st);
  return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1;
}

static int32_t init(const wfp_host_api *host, void **out_state) {
  g_host = host;
  *out_state = NULL;
  return tp_route(host, "GET", "/late", late, NULL) == WFP_OK ? 0 : 1;
}
/* Logs through the table, which stays valid until shutdown returns: tests count and order these. */
static void shutdown_plugin(void *state) {
  (void)state;
  g_host->log(g_host->host, WFP_LOG_INFO, tp_str("shutdown"));
}

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0, "route_outside_init", "1.0.0", init,
    shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
