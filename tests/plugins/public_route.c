/* Public routes (ABI 1.2, WFP_ROUTE_PUBLIC):
 *   GET /public/{name}   public: 200 {"site":N,"sawAuth":bool}
 *   GET /private         flags 0: authenticated like any route, same body
 *   GET /old-public      written as a 1.1 plugin would (struct_size without `flags`) with the
 *                        public bit in the memory after it: the host must not read it, so the
 *                        route is authenticated
 */
#include <stddef.h>
#include <stdio.h>

#include "test_plugin.h"

static const wfp_host_api *g_host;

static int has_header(const wfp_request *r, const char *name) {
  size_t i;
  for (i = 0; i < r->header_count; ++i)
    if (r->headers[i].name.size == strlen(name) &&
        memcmp(r->headers[i].name.data, name, r->headers[i].name.size) == 0)
      return 1;
  return 0;
}

static int32_t who(void *user_data, const wfp_request *r, wfp_call *call) {
  char body[128];
  (void)user_data;
  snprintf(body, sizeof body, "{\"site\":%lld,\"sawAuth\":%s}", (long long)r->site_id,
           has_header(r, "authorization") || has_header(r, "x-api-key") ? "true" : "false");
  return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1;
}

static int32_t init(const wfp_host_api *host, void **out_state) {
  wfp_route old;
  if (!host || !host->store) return 1;
  g_host = host;
  if (tp_route_flags(host, "GET", "/public/{name}", who, NULL, WFP_ROUTE_PUBLIC) != WFP_OK)
    return 1;
  if (tp_route_flags(host, "GET", "/private", who, NULL, 0) != WFP_OK) return 1;
  memset(&old, 0, sizeof old);
  old.struct_size = (uint32_t)offsetof(wfp_route, flags);
  old.method = tp_str("GET");
  old.path_template = tp_str("/old-public");
  old.handler = who;
  old.flags = WFP_ROUTE_PUBLIC; /* beyond struct_size: not part of what this plugin wrote */
  if (host->register_route(host->host, &old) != WFP_OK) return 1;
  *out_state = NULL;
  return 0;
}

static void shutdown_plugin(void *state) { (void)state; }

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 2, "public", "1.0.0", init, shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
