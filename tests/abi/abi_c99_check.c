/* Compiled as strict C99 (-pedantic -Wstrict-prototypes -Werror): the ABI header needs nothing but
 * C. */
#include <wfp/plugin_abi.h>

static const wfp_plugin_v1 *entry(void) { return 0; }

int wfp_abi_c99_check_sizes(void);
int wfp_abi_c99_check_sizes(void) {
  wfp_request request;
  wfp_plugin_entry_v1_fn fn = entry;
  request.struct_size = (uint32_t)sizeof request;
  return WFP_HAS_FIELD(wfp_request, &request, request_id) && fn() == 0 &&
         sizeof(wfp_host_api) > 0 && sizeof(wfp_store_api) > 0;
}
