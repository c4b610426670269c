/* Registers a route, then fails its init: the host refuses it, drops the route and must not call
 * shutdown (which aborts). */
#include <stdlib.h>

#include "test_plugin.h"

static const wfp_host_api *g_host;

static int32_t handler(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  return tp_respond_json(g_host, call, 200, "{\"served\":true}") == WFP_OK ? 0 : 1;
}

static int32_t init(const wfp_host_api *host, void **out_state) {
  g_host = host;
  (void)out_state;
  tp_route(host, "GET", "/init-fails", handler, NULL);
  host->log(host->host, WFP_LOG_ERROR, tp_str("init_fails: refusing to start"));
  return 3;
}
static void shutdown_plugin(void *state) {
  (void)state;
  abort();
}

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0, "init_fails", "1.0.0", init, shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
