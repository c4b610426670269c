/* A shared library that is no wfp plugin: it exports a function, but not wfp_plugin_entry_v1. */
#include <wfp/plugin_abi.h>

WFP_EXPORT int wfp_plugin_entry(void);
WFP_EXPORT int wfp_plugin_entry(void) { return 1; }
