// The host's side of `wfp_call` (opaque to plugins): one handler invocation. Shared by the runtime
// (which creates it, takes the response, and rolls back a transaction left open) and the store
// (which begins transactions on the call's connection). Owned by the thread serving the request.
#ifndef WFP_HOST_STUB_CALL_H_
#define WFP_HOST_STUB_CALL_H_

#include <wfp/plugin_abi.h>

#include "runtime/response_buffer.h"

namespace wfp::host {
class StoreConnection;
}

struct wfp_call {
  // The worker's store connection; the store's `begin` opens the transaction on it.
  wfp::host::StoreConnection* store = nullptr;
  // The transaction begun through this call and not yet finished (the store keeps this up to date),
  // so the runtime can roll back and log one that the handler left open.
  wfp_txn* open_txn = nullptr;
  // Set by `respond`; a second call is refused.
  bool responded = false;
  // What `respond` and `respond_append` wrote: held, or passed on to a stream as it comes.
  wfp::host::ResponseBuffer response;
  // The runtime's own per-call state (plugin, request id, faults); the store leaves it alone.
  void* runtime = nullptr;
};

#endif  // WFP_HOST_STUB_CALL_H_
