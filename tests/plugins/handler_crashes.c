/* GET /fault writes through a null pointer (SIGSEGV): the host cannot survive it, and must say which
 * plugin, route and request it was in. With WFP_TP_CRASH_IN_INIT set, init crashes the same way. */
#include <stdlib.h>

#include "handler_faults.h"

static int *volatile g_nowhere; /* null, and the compiler cannot know it */

/* A real SIGSEGV even in a sanitizer's build: UBSan would report the null store and exit first,
 * and a host's crash note is about the signal. */
#if defined(__GNUC__) || defined(__clang__)
#define TP_REAL_CRASH __attribute__((no_sanitize("undefined")))
#else
#define TP_REAL_CRASH
#endif

TP_REAL_CRASH static int32_t fault_handler(void *user_data, const wfp_request *request,
                                            wfp_call *call) {
  (void)user_data;
  (void)request;
  (void)call;
  *g_nowhere = 1;
  return 0;
}

TP_REAL_CRASH static int32_t crashing_init(const wfp_host_api *host, void **out_state) {
  if (getenv("WFP_TP_CRASH_IN_INIT")) *g_nowhere = 1;
  return init(host, out_state);
}

static const wfp_plugin_v1 kDescriptor = {sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0,
                                          "handler_crashes", "1.0.0", crashing_init,
                                          shutdown_plugin};
WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
