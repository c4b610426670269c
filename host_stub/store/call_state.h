// The store's part of a handler call (`wfp_call::store`): the connection the call's transactions
// are begun on, and the one begun and not yet finished. The store's table reads and updates it; the
// runtime fills in the connection and rolls back a transaction the handler left open. The rest of
// the call (the response, the faults) is the runtime's own and the store never sees it.
//
// Thread-compatible: used by the one thread serving the request.
#ifndef WFP_HOST_STUB_STORE_CALL_STATE_H_
#define WFP_HOST_STUB_STORE_CALL_STATE_H_

struct wfp_txn;

namespace wfp::host {

class StoreConnection;

struct CallStoreState {
  // The worker's store connection; the store's `begin` opens the transaction on it.
  StoreConnection* connection = nullptr;
  // The transaction begun through this call and not yet finished: `begin` sets it, commit and
  // rollback clear it.
  wfp_txn* open_txn = nullptr;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_STORE_CALL_STATE_H_
