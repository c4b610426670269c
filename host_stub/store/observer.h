// What the store tells an observer about itself (wfp-host's /metrics): how long transactions and
// lock waits take, how often the lock was not had in time, and how many database connections are
// open. Process-wide: one observer for every store of the process (wfp-host runs one store).
//
// Header-only on purpose: the SQLite handle and the libpq layer (store/pg, a library of its own)
// count their connections here without a link dependency on the store library.
//
// Thread-safety: every function may be called from any thread. SetStoreObserver must be called
// before the store serves (the observer is read without a lock) and the observer must outlive it.
#ifndef WFP_HOST_STUB_STORE_OBSERVER_H_
#define WFP_HOST_STUB_STORE_OBSERVER_H_

#include <atomic>
#include <cstdint>

namespace wfp::host {

class StoreObserver {
 public:
  virtual ~StoreObserver() = default;
  // A transaction of the ABI store table ended (commit or rollback), `seconds` after its begin.
  virtual void Transaction(bool read_only, double seconds) = 0;
  // A write transaction got its schedule lock: `seconds` spent in begin and load_schedule or
  // load_schedule_window (SQLite waits in BEGIN IMMEDIATE, PostgreSQL in SELECT ... FOR UPDATE).
  virtual void LockWait(double seconds) = 0;
  // A store function answered WFP_ERR_BUSY (the request becomes a 503 with Retry-After).
  virtual void Busy() = 0;
};

namespace store_internal {
inline std::atomic<StoreObserver*> g_observer{nullptr};
inline std::atomic<int64_t> g_open_connections{0};
}  // namespace store_internal

inline void SetStoreObserver(StoreObserver* observer) { store_internal::g_observer = observer; }
inline StoreObserver* GetStoreObserver() { return store_internal::g_observer.load(); }

// Database connections open right now (SQLite handles, libpq connections), for every store.
inline int64_t OpenStoreConnections() { return store_internal::g_open_connections.load(); }
inline void CountStoreConnection(int delta) { store_internal::g_open_connections += delta; }

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_STORE_OBSERVER_H_
