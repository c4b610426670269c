/* A well-behaved plugin exercising the whole host table:
 *   GET  /ping            200 {"pong":true}
 *   POST /echo/{name}     200 with what the host passed: site, path parameter, body size, a header,
 *                         whether credentials were visible, a setting, the clock, the request id
 *   GET  /store/{id}      begins a transaction, loads schedule {id} of the caller's site, rolls
 * back POST /leak            begins a transaction and answers without finishing it (the host rolls
 * back)
 */
#include <stdio.h>
#include <stdlib.h>

#include "test_plugin.h"

static const wfp_host_api *g_host;

/* Copies `s` into out as a JSON string body (no quotes), escaping what JSON needs. */
static void json_escape(wfp_str s, char *out, size_t cap) {
  size_t n = 0, i;
  for (i = 0; s.data && i < s.size && n + 7 < cap; ++i) {
    unsigned char c = (unsigned char)s.data[i];
    if (c == '"' || c == '\\') {
      out[n++] = '\\';
      out[n++] = (char)c;
    } else if (c < 0x20) {
      n += (size_t)sprintf(out + n, "\\u%04x", c);
    } else {
      out[n++] = (char)c;
    }
  }
  out[n] = '\0';
}

static wfp_str find_header(const wfp_request *r, const char *name) {
  size_t i;
  wfp_str none = {NULL, 0};
  for (i = 0; i < r->header_count; ++i)
    if (r->headers[i].name.size == strlen(name) &&
        memcmp(r->headers[i].name.data, name, r->headers[i].name.size) == 0)
      return r->headers[i].value;
  return none;
}

static int32_t ping(void *user_data, const wfp_request *request, wfp_call *call) {
  (void)user_data;
  (void)request;
  return tp_respond_json(g_host, call, 200, "{\"pong\":true}") == WFP_OK ? 0 : 1;
}

static int32_t echo(void *user_data, const wfp_request *r, wfp_call *call) {
  char name[256], x_test[256], greeting[256], request_id[128], body[2048];
  wfp_str setting = {NULL, 0};
  wfp_str empty = {NULL, 0};
  int saw_auth =
      find_header(r, "authorization").data != NULL || find_header(r, "x-api-key").data != NULL;
  (void)user_data;
  json_escape(r->path_param_count == 1 ? r->path_params[0].value : empty, name, sizeof name);
  json_escape(find_header(r, "x-test"), x_test, sizeof x_test);
  if (g_host->get_setting(g_host->host, tp_str("ok.greeting"), &setting) != WFP_OK)
    setting = tp_str("");
  json_escape(setting, greeting, sizeof greeting);
  json_escape(r->request_id, request_id, sizeof request_id);
  snprintf(body, sizeof body,
           "{\"site\":%lld,\"name\":\"%s\",\"bodySize\":%lu,\"xTest\":\"%s\",\"sawAuth\":%s,"
           "\"greeting\":\"%s\",\"nowMicros\":%lld,\"requestId\":\"%s\",\"params\":%lu}",
           (long long)r->site_id, name, (unsigned long)r->body.size, x_test,
           saw_auth ? "true" : "false", greeting, (long long)g_host->now_micros(g_host->host),
           request_id, (unsigned long)r->path_param_count);
  return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1;
}

static int32_t store(void *user_data, const wfp_request *r, wfp_call *call) {
  char body[1024];
  wfp_txn *txn = NULL;
  wfp_schedule_info info;
  wfp_status begin, load = -1;
  long long id = 0;
  char digits[32];
  (void)user_data;
  if (r->path_param_count == 1 && r->path_params[0].value.size < sizeof digits) {
    memcpy(digits, r->path_params[0].value.data, r->path_params[0].value.size);
    digits[r->path_params[0].value.size] = '\0';
    id = atoll(digits);
  }
  memset(&info, 0, sizeof info);
  info.struct_size = (uint32_t)sizeof info;
  begin = g_host->store->begin(call, &txn);
  if (begin == WFP_OK) {
    load = g_host->store->load_schedule(txn, r->site_id, id, &info);
    if (load == WFP_OK) {
      char project[256], workflow[256];
      json_escape(info.project_name, project, sizeof project);
      json_escape(info.workflow_name, workflow, sizeof workflow);
      snprintf(body, sizeof body,
               "{\"begin\":%d,\"load\":%d,\"project\":\"%s\",\"workflow\":\"%s\",\"site\":%lld}",
               (int)begin, (int)load, project, workflow, (long long)info.site_id);
      g_host->store->rollback(txn);
      return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1;
    }
    g_host->store->rollback(txn);
  }
  snprintf(body, sizeof body, "{\"begin\":%d,\"load\":%d}", (int)begin, (int)load);
  return tp_respond_json(g_host, call, 200, body) == WFP_OK ? 0 : 1;
}

static int32_t init(const wfp_host_api *host, void **out_state) {
  if (!host || host->struct_size < sizeof(wfp_host_api) || !host->store) return 1;
  g_host = host;
  /* wfp-host knows the settings a plugin asks for in init and refuses any other --setting; echo
   * reads this one per request, so ask for it once here. */
  {
    wfp_str greeting = {NULL, 0};
    (void)host->get_setting(host->host, tp_str("ok.greeting"), &greeting);
  }
  if (tp_route(host, "GET", "/ping", ping, NULL) != WFP_OK) return 1;
  if (tp_route(host, "POST", "/echo/{name}", echo, NULL) != WFP_OK) return 1;
  if (tp_route(host, "GET", "/store/{id}", store, NULL) != WFP_OK) return 1;
  host->log(host->host, WFP_LOG_INFO, tp_str("ok plugin ready"));
  *out_state = NULL;
  return 0;
}

/* Logs through the table, which stays valid until shutdown returns: tests count and order these. */
static void shutdown_plugin(void *state) {
  (void)state;
  g_host->log(g_host->host, WFP_LOG_INFO, tp_str("shutdown"));
}

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR, "ok", "1.0.0", init,
    shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
