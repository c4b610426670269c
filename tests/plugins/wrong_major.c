/* Exports the v1 entry point but describes itself as ABI major 2: the host must refuse it before
 * calling anything in it (init aborts to make a violation loud). */
#include <stdlib.h>
#include <wfp/plugin_abi.h>

static int32_t init(const wfp_host_api *host, void **out_state) {
  (void)host;
  (void)out_state;
  abort();
}
static void shutdown_plugin(void *state) {
  (void)state;
  abort();
}

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR + 1, 0, "wrong_major", "1.0.0", init,
    shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
