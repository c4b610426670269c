/* A plugin that streams its answers with respond_append (ABI 1.1), for the host's and the
 * server's streaming tests:
 *   GET /stream/{bytes}        200 {"fill":"aaa..."}, `bytes` long in all, in 64 KiB pieces
 *   GET /stream-text/{bytes}   the same body as text/plain
 *   GET /stream-fault/{bytes}  streams `bytes` of an unfinished body, then returns non-zero
 */
#include <stdlib.h>

#include "test_plugin.h"

static const wfp_host_api *g_host;

enum { kPiece = 64 * 1024 };
static char g_fill[kPiece];

static size_t bytes_param(const wfp_request *r) {
  char digits[32];
  if (r->path_param_count != 1 || r->path_params[0].value.size >= sizeof digits) return 0;
  memcpy(digits, r->path_params[0].value.data, r->path_params[0].value.size);
  digits[r->path_params[0].value.size] = '\0';
  return (size_t)strtoull(digits, NULL, 10);
}

/* Sends {"fill":"<a x (total - 11)>"} in pieces; returns 0 when every call succeeded. With
 * `unfinished`, the closing `"}` is never sent. */
static int stream_body(wfp_call *call, const char *content_type, size_t total, int unfinished) {
  static const char open[] = "{\"fill\":\"";
  wfp_header header;
  wfp_response response;
  size_t left = total > 11 ? total - 11 : 0;
  header.name = tp_str("content-type");
  header.value = tp_str(content_type);
  response.struct_size = (uint32_t)sizeof response;
  response.status = 200;
  response.headers = &header;
  response.header_count = 1;
  response.body = tp_str(open);
  if (g_host->respond(call, &response) != WFP_OK) return 1;
  while (left > 0) {
    wfp_str piece;
    piece.data = g_fill;
    piece.size = left < kPiece ? left : kPiece;
    if (g_host->respond_append(call, piece) != WFP_OK) return 1;
    left -= piece.size;
  }
  if (unfinished) return 0;
  return g_host->respond_append(call, tp_str("\"}")) == WFP_OK ? 0 : 1;
}

static int32_t stream_json(void *user_data, const wfp_request *r, wfp_call *call) {
  (void)user_data;
  return stream_body(call, "application/json", bytes_param(r), 0);
}

static int32_t stream_text(void *user_data, const wfp_request *r, wfp_call *call) {
  (void)user_data;
  return stream_body(call, "text/plain", bytes_param(r), 0);
}

static int32_t stream_fault(void *user_data, const wfp_request *r, wfp_call *call) {
  (void)user_data;
  stream_body(call, "application/json", bytes_param(r), 1);
  return 3;
}

static int32_t init(const wfp_host_api *host, void **out_state) {
  if (!host || !WFP_HAS_FIELD(wfp_host_api, host, respond_append) || !host->respond_append)
    return 1;
  g_host = host;
  memset(g_fill, 'a', sizeof g_fill);
  if (tp_route(host, "GET", "/stream/{bytes}", stream_json, NULL) != WFP_OK) return 1;
  if (tp_route(host, "GET", "/stream-text/{bytes}", stream_text, NULL) != WFP_OK) return 1;
  if (tp_route(host, "GET", "/stream-fault/{bytes}", stream_fault, NULL) != WFP_OK) return 1;
  *out_state = NULL;
  return 0;
}

static void shutdown_plugin(void *state) { (void)state; }

static const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 1, "streams", "1.0.0", init, shutdown_plugin};

WFP_EXPORT const wfp_plugin_v1 *wfp_plugin_entry_v1(void) { return &kDescriptor; }
