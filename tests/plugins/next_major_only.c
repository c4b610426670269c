/* A plugin built for a future ABI major: it exports wfp_plugin_entry_v2 and no v1 entry point. */
#include <wfp/plugin_abi.h>

WFP_EXPORT const void *wfp_plugin_entry_v2(void);
WFP_EXPORT const void *wfp_plugin_entry_v2(void) { return 0; }
