/* GET /fault answers from a thread of its own (joined before the handler returns) instead of the
 * handler's thread: respond refuses it with WFP_ERR_STATE and the host answers 500. */
#include <pthread.h>

#include "handler_faults.h"

struct answer {
  wfp_call *call;
  wfp_status status;
};

static void *answer_elsewhere(void *arg) {
  struct answer *a = (struct answer *)arg;
  a->status = tp_respond_json(g_host, a->call, 200, "{\"elsewhere\":true}");
  return NULL;
}

static int32_t fault_handler(void *user_data, const wfp_request *request, wfp_call *call) {
  pthread_t thread;
  struct answer a;
  (void)user_data;
  (void)request;
  a.call = call;
  a.status = WFP_OK;
  if (pthread_create(&thread, NULL, answer_elsewhere, &a) != 0) return 1;
  pthread_join(thread, NULL);
  return 0;
}

FAULT_PLUGIN("handler_foreign_thread")
