/* A descriptor whose struct_size is smaller than the v1 descriptor: refused before init. */
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
    8, WFP_ABI_VERSION_MAJOR, 0, "short_descriptor", "1.0.0", init, shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
