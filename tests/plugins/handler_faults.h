/* One route, GET /fault, whose handler is FAULT_HANDLER_BODY: shared by the handler_* test plugins,
 * each of which breaks the handler contract in one way. */
#ifndef WFP_TESTS_PLUGINS_HANDLER_FAULTS_H_
#define WFP_TESTS_PLUGINS_HANDLER_FAULTS_H_

#include "test_plugin.h"

static const wfp_host_api *g_host;

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call);

static int32_t init(const wfp_host_api *host, void **out_state) {
  g_host = host;
  *out_state = NULL;
  return tp_route(host, "GET", "/fault", fault_handler, NULL) == WFP_OK ? 0 : 1;
}
static void shutdown_plugin(void *state) { (void)state; }

#define FAULT_PLUGIN(NAME)                                                                    \
  static const wfp_plugin_v1 kDescriptor = {                                                  \
      sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0, NAME, "1.0.0", init, shutdown_plugin}; \
  WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }

#endif /* WFP_TESTS_PLUGINS_HANDLER_FAULTS_H_ */
