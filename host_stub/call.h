// The host's side of `wfp_call` (opaque to plugins): one handler invocation. The runtime creates
// it; it holds two parts that do not see each other: the store's (the connection and the open
// transaction, `store/call_state.h`) and the runtime's own (the plugin, the request id, the
// response and the faults, `runtime/host_impl.h`'s CallContext, opaque here). Owned by the thread
// serving the request: the runtime uses a few in turn (dispatch.cc), so that a pointer a plugin
// kept past its handler finds a finished call, not the next request's.
#ifndef WFP_HOST_STUB_CALL_H_
#define WFP_HOST_STUB_CALL_H_

#include <wfp/plugin_abi.h>

#include "store/call_state.h"

struct wfp_call {
  // The store's part; the runtime sets the connection, the store keeps the open transaction.
  wfp::host::CallStoreState store;
  // The runtime's own per-call state while the handler runs; null once it returned.
  void* runtime = nullptr;
  // The runtime's note of whose call this was, once the handler returned: a plugin that keeps the
  // call and uses it later (which the ABI forbids) is refused and named.
  void* ended = nullptr;
};

#endif  // WFP_HOST_STUB_CALL_H_
