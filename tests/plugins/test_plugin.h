/* Helpers shared by the tiny C test plugins (C99): string views and a JSON answer. Header-only. */
#ifndef WFP_TESTS_PLUGINS_TEST_PLUGIN_H_
#define WFP_TESTS_PLUGINS_TEST_PLUGIN_H_

#include <string.h>
#include <wfp/plugin_abi.h>

static inline wfp_str tp_str(const char *s) {
  wfp_str out;
  out.data = s;
  out.size = strlen(s);
  return out;
}

/* Answers `status` with a JSON body; returns respond's status. */
static inline wfp_status tp_respond_json(const wfp_host_api *host, wfp_call *call, int32_t status,
                                         const char *body) {
  wfp_header header;
  wfp_response response;
  header.name = tp_str("content-type");
  header.value = tp_str("application/json");
  response.struct_size = (uint32_t)sizeof response;
  response.status = status;
  response.headers = &header;
  response.header_count = 1;
  response.body = tp_str(body);
  return host->respond(call, &response);
}

/* Registers one route with WFP_ROUTE_* flags; returns register_route's status. */
static inline wfp_status tp_route_flags(const wfp_host_api *host, const char *method,
                                        const char *path, wfp_handler_fn handler, void *user_data,
                                        uint32_t flags) {
  wfp_route route;
  route.struct_size = (uint32_t)sizeof route;
  route.method = tp_str(method);
  route.path_template = tp_str(path);
  route.handler = handler;
  route.user_data = user_data;
  route.flags = flags;
  return host->register_route(host->host, &route);
}

/* Registers one route (authenticated); returns register_route's status. */
static inline wfp_status tp_route(const wfp_host_api *host, const char *method, const char *path,
                                  wfp_handler_fn handler, void *user_data) {
  return tp_route_flags(host, method, path, handler, user_data, 0);
}

#endif /* WFP_TESTS_PLUGINS_TEST_PLUGIN_H_ */
