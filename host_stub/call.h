// The host's side of `wfp_call` (opaque to plugins): one handler invocation. The runtime creates
// it; it holds two parts that do not see each other: the store's (the connection and the open
// transaction, `store/call_state.h`) and the runtime's own (the plugin, the request id, the
// response and the faults, `runtime/host_impl.h`'s CallContext, opaque here). Owned by the thread
// serving the request.
#ifndef WFP_HOST_STUB_CALL_H_
#define WFP_HOST_STUB_CALL_H_

#include <wfp/plugin_abi.h>

#include "store/call_state.h"

struct wfp_call {
  // The store's part; the runtime sets the connection, the store keeps the open transaction.
  wfp::host::CallStoreState store;
  // The runtime's own per-call state; the store leaves it alone.
  void* runtime = nullptr;
};

#endif  // WFP_HOST_STUB_CALL_H_
