/* The sizes of the ABI's sized structs in one header version, compiled once per frozen header
 * (tests/abi/frozen/1.<m>) with WFP_FROZEN_SIZES naming the array: frozen_sizes_test.cc compares
 * them with wfp-plugin-check's per-minor sizes (tools/plugin_check/minor_sizes.h). A struct a
 * header does not have yet (wfp_metric_desc before 1.3, wfp_session_window before 1.4) counts as size 0. C99. */
#include <wfp/plugin_abi.h>

extern const size_t WFP_FROZEN_SIZES[13];
const size_t WFP_FROZEN_SIZES[13] = {
    sizeof(wfp_host_api),         sizeof(wfp_store_api),   sizeof(wfp_request),
    sizeof(wfp_response),         sizeof(wfp_route),       sizeof(wfp_schedule_info),
    sizeof(wfp_session_info),     sizeof(wfp_new_session), sizeof(wfp_new_attempt),
    sizeof(wfp_schedule_pointer), sizeof(wfp_plugin_v1),
#if WFP_ABI_VERSION_MINOR >= 3
    sizeof(wfp_metric_desc),
#else
    0,
#endif
#if WFP_ABI_VERSION_MINOR >= 4
    sizeof(wfp_session_window)
#else
    0
#endif
};
