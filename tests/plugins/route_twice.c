/* Registers GET /twice twice and ignores the WFP_ERR_CONFLICT: the host refuses the plugin. */
#include "test_plugin.h"

static const wfp_host_api *g_host;

static int32_t handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  return tp_respond_json(g_host, call, 200, "{\"served\":true}") == WFP_OK ? 0 : 1;
}

static int32_t init(const wfp_host_api *host, void **out_state) {
  g_host = host;
  *out_state = NULL;
  tp_route(host, "GET", "/twice", handler, NULL);
  tp_route(host, "GET", "/twice", handler, NULL); /* WFP_ERR_CONFLICT, ignored */
  return 0;
}
/* Logs through the table, which stays valid until shutdown returns: tests count and order these. */
static void shutdown_plugin(void *state) {
  (void)state;
  g_host->log(g_host->host, WFP_LOG_INFO, tp_str("shutdown"));
}

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0, "route_twice", "1.0.0", init, shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
