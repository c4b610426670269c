// What the writer (writer.cc) reads the store with: a transaction that rolls back unless
// committed, and list_sessions' visits collected. Compiled against the ABI header of each build of
// the plugin, as the writer is.
#ifndef WFP_PLUGIN_BACKFILL_STORE_TXN_H_
#define WFP_PLUGIN_BACKFILL_STORE_TXN_H_

#include <wfp/plugin_abi.h>

#include <vector>

#include "backfill/planner.h"

namespace wfp::backfill {

// A store transaction that rolls back unless committed. Never throws from its destructor.
class Transaction {
 public:
  Transaction(const wfp_store_api* store, wfp_txn* txn) : store_(store), txn_(txn) {}
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (txn_) store_->rollback(txn_);
  }
  wfp_txn* get() const { return txn_; }
  wfp_status Commit() {
    wfp_txn* t = txn_;
    txn_ = nullptr;
    return store_->commit(t);
  }
  void Rollback() {
    if (txn_) store_->rollback(txn_);
    txn_ = nullptr;
  }

 private:
  const wfp_store_api* store_;
  wfp_txn* txn_;
};

// What list_sessions visits, collected. `failed`: a session could not be taken (a struct shorter
// than ABI 1.0's, or no memory), so the list is incomplete; the visit was stopped there.
struct Sessions {
  std::vector<ExistingSession> list;
  bool failed = false;
};

// A wfp_session_visitor; `user_data` is a Sessions.
int32_t CollectSession(void* user_data, const wfp_session_info* given);

}  // namespace wfp::backfill

#endif  // WFP_PLUGIN_BACKFILL_STORE_TXN_H_
