/* Uses the 1.3 metric functions correctly as far as the host table goes (it reads them only when
 * WFP_HAS_FIELD says the table covers them and they are set), but records with the wrong number of
 * label values: one counter with the label "outcome", and metric_add with two values. On a host of
 * 1.2 or older the functions are not there and nothing is recorded, so nothing is broken. */
#include "handler_faults.h"

static wfp_metric *g_counter;

static int has_metrics(const wfp_host_api *host) {
  return WFP_HAS_FIELD(wfp_host_api, host, metric_observe) && host->register_metric &&
         host->metric_add;
}

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  wfp_str values[2];
  (void)user_data;
  (void)request;
  values[0] = tp_str("ok");
  values[1] = tp_str("extra"); /* the fault: the counter has one label name */
  if (g_counter) g_host->metric_add(g_counter, values, 2, 1.0);
  return tp_respond_json(g_host, call, 200, "{}") == WFP_OK ? 0 : 1;
}

static int32_t metric_init(const wfp_host_api *host, void **out_state) {
  if (init(host, out_state) != 0) return 1;
  if (has_metrics(host)) {
    wfp_str label = tp_str("outcome");
    wfp_metric_desc desc;
    memset(&desc, 0, sizeof desc);
    desc.struct_size = (uint32_t)sizeof desc;
    desc.kind = WFP_METRIC_COUNTER;
    desc.name = tp_str("tp_requests_total");
    desc.help = tp_str("Requests by outcome.");
    desc.label_names = &label;
    desc.label_count = 1;
    if (host->register_metric(host->host, &desc, &g_counter) != WFP_OK) g_counter = NULL;
  }
  return 0;
}

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0, "metric_misuse", "1.0.0", metric_init,
    shutdown_plugin};
WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
