// The ABI's store table, for every backend: checks arguments and transaction state once, asks the
// connection's write faults (StoreOptions::write_faults) before each write, then calls the
// backend's transaction (internal.h). Every entry point is noexcept in effect: what can throw
// (allocations, a backend's) is caught and reported as WFP_ERR_INTERNAL.
#include <fmt/format.h>
#include <wfp/abi_struct.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <memory>
#include <string_view>
#include <vector>

#include "store/internal.h"
#include "store/observer.h"
#include "store/store.h"

namespace wfp::host {
namespace {

using store_internal::View;

// True when the store's write faults chose this write operation to fail.
bool InjectedFailure(wfp_txn* txn, std::string_view operation) {
  return txn->write_faults && txn->write_faults->FailWrite(operation);
}

wfp_status Invalid(wfp_txn* txn, std::string message) {
  txn->last_error = std::move(message);
  return WFP_ERR_INVALID_ARGUMENT;
}

// Runs a backend operation, turning an exception into WFP_ERR_INTERNAL.
template <typename F>
wfp_status Guard(wfp_txn* txn, const char* what, F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    try {
      txn->last_error = fmt::format("{}: {}", what, e.what());
      txn->Log(txn->last_error);
    } catch (...) {
    }
    return WFP_ERR_INTERNAL;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

using SteadyClock = std::chrono::steady_clock;

double SecondsSince(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

// Tells the store observer about a WFP_ERR_BUSY answer; returns `st`.
wfp_status NoteBusy(wfp_status st) {
  if (st == WFP_ERR_BUSY)
    if (StoreObserver* o = GetStoreObserver()) o->Busy();
  return st;
}

// Frees a finished transaction; the call forgets it. The observer sees its duration.
void Finish(wfp_txn* txn) {
  if (txn->call && txn->call->open_txn == txn) txn->call->open_txn = nullptr;
  if (StoreObserver* o = GetStoreObserver())
    o->Transaction(txn->read_only, SecondsSince(txn->began));
  delete txn;
}

// ---- begin / commit / rollback ----------------------------------------------------------------

wfp_status BeginTransaction(wfp_call* call, wfp_txn** out_txn, bool read_only) {
  if (!call || !out_txn || !call->store.connection) return WFP_ERR_INVALID_ARGUMENT;
  CallStoreState& state = call->store;
  *out_txn = nullptr;
  if (state.open_txn) return WFP_ERR_STATE;
  try {
    wfp_txn* txn = nullptr;
    const auto started = SteadyClock::now();
    const wfp_status st = state.connection->BeginTransaction(read_only, &txn);
    if (st != WFP_OK) return NoteBusy(st);
    txn->call = &state;
    txn->read_only = read_only;
    txn->write_faults = state.connection->write_faults();
    txn->began = started;
    if (!read_only) txn->lock_wait_seconds = SecondsSince(started);
    state.open_txn = txn;
    *out_txn = txn;
    return WFP_OK;
  } catch (...) {
    return WFP_ERR_INTERNAL;
  }
}

wfp_status Begin(wfp_call* call, wfp_txn** out_txn) {
  return BeginTransaction(call, out_txn, false);
}
wfp_status BeginRead(wfp_call* call, wfp_txn** out_txn) {
  return BeginTransaction(call, out_txn, true);
}

void Rollback(wfp_txn* txn) {
  if (!txn) return;
  try {
    txn->Rollback();
  } catch (...) {
  }
  Finish(txn);
}

wfp_status Commit(wfp_txn* txn) {
  if (!txn) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing) return WFP_ERR_STATE;
  if (InjectedFailure(txn, "commit")) {
    Rollback(txn);
    return WFP_ERR_INTERNAL;
  }
  wfp_status st = NoteBusy(Guard(txn, "commit", [&] { return txn->Commit(); }));
  if (st != WFP_OK) {
    if (txn->last_error.empty()) txn->last_error = "commit failed";
    // Commit has rolled back on failure; make sure of it when it threw.
    try {
      txn->Rollback();
    } catch (...) {
    }
  }
  Finish(txn);
  return st;
}

// ---- reads ------------------------------------------------------------------------------------

// A write transaction has its schedule lock once load_schedule (or load_schedule_window), begun
// at `started`, returns `st`: the observer sees the wait once.
void ReportLockWait(wfp_txn* txn, SteadyClock::time_point started, wfp_status st) {
  if (txn->read_only || txn->lock_wait_reported || st == WFP_ERR_INVALID_ARGUMENT) return;
  txn->lock_wait_reported = true;
  if (StoreObserver* o = GetStoreObserver())
    o->LockWait(txn->lock_wait_seconds + SecondsSince(started));
}

// WFP_ERR_STATE for a read the transaction cannot make now: while it lists (the visitor called the
// store), or after load_schedule_window was told WFP_WINDOW_LAST_READ (its snapshot may be gone).
wfp_status ReadState(wfp_txn* txn, const char* what) {
  if (txn->listing) return WFP_ERR_STATE;
  if (!txn->reads_ended) return WFP_OK;
  txn->last_error = fmt::format(
      "{}: the transaction read nothing more after load_schedule_window's WFP_WINDOW_LAST_READ",
      what);
  return WFP_ERR_STATE;
}

wfp_status LoadSchedule(wfp_txn* txn, int64_t site_id, int64_t schedule_id,
                        wfp_schedule_info* out) {
  if (!txn || !out || !WFP_HAS_FIELD(wfp_schedule_info, out, disabled_at))
    return WFP_ERR_INVALID_ARGUMENT;
  if (wfp_status st = ReadState(txn, "load_schedule"); st != WFP_OK) return st;
  const auto started = SteadyClock::now();
  const wfp_status st = NoteBusy(Guard(txn, "load_schedule", [&] {
    wfp_schedule_info info{};
    info.struct_size = sizeof info;
    const wfp_status st = txn->LoadSchedule(site_id, schedule_id, &info);
    // Only the bytes the caller's struct has room for, and struct_size says how many were written.
    if (st == WFP_OK) abi::WriteStruct(info, out);
    return st;
  }));
  ReportLockWait(txn, started, st);
  return st;
}

wfp_status ListSessions(wfp_txn* txn, int64_t project_id, wfp_str workflow_name,
                        wfp_epoch_seconds from, wfp_epoch_seconds to, wfp_session_visitor visitor,
                        void* user_data) {
  if (!txn || !visitor || !workflow_name.data) return WFP_ERR_INVALID_ARGUMENT;
  if (wfp_status st = ReadState(txn, "list_sessions"); st != WFP_OK) return st;
  txn->listing = true;
  const wfp_status st = Guard(txn, "list_sessions", [&] {
    return txn->ListSessions(project_id, View(workflow_name), from, to, visitor, user_data);
  });
  txn->listing = false;
  return st;
}

wfp_status LatestSessionBefore(wfp_txn* txn, int64_t project_id, wfp_str workflow_name,
                               wfp_epoch_seconds before, int32_t* out_found,
                               wfp_epoch_seconds* out_time) {
  if (!txn || !out_found || !out_time || !workflow_name.data) return WFP_ERR_INVALID_ARGUMENT;
  if (wfp_status st = ReadState(txn, "latest_session_before"); st != WFP_OK) return st;
  *out_found = 0;
  *out_time = 0;
  return Guard(txn, "latest_session_before", [&] {
    return txn->LatestSessionBefore(project_id, View(workflow_name), before, out_found, out_time);
  });
}

// load_schedule, list_sessions and latest_session_before in one call: `out` as load_schedule's,
// the window's inputs read as far as its struct_size covers (all of 1.4's: its first version),
// its outputs written in place (the caller's struct_size is left as it is). The transaction is
// listing during the call: the visitor cannot call the store.
wfp_status LoadScheduleWindow(wfp_txn* txn, int64_t site_id, int64_t schedule_id,
                              wfp_schedule_info* out, wfp_session_window* window) {
  if (!txn || !out || !window || !WFP_HAS_FIELD(wfp_schedule_info, out, disabled_at) ||
      !WFP_HAS_FIELD(wfp_session_window, window, latest_before))
    return WFP_ERR_INVALID_ARGUMENT;
  wfp_session_window w = abi::ReadStruct(window);
  if (!w.visitor || w.from > w.to || w.max_sessions == 0)
    return Invalid(txn, fmt::format("load_schedule_window: a window needs a visitor, from <= to "
                                    "and max_sessions >= 1 (from {}, to {}, max_sessions {})",
                                    w.from, w.to, w.max_sessions));
  if (wfp_status st = ReadState(txn, "load_schedule_window"); st != WFP_OK) return st;
  window->complete = 0;
  window->has_latest_before = 0;
  window->latest_before = 0;
  w.complete = w.has_latest_before = 0;
  w.latest_before = 0;
  const auto started = SteadyClock::now();
  txn->listing = true;
  const wfp_status st = NoteBusy(Guard(txn, "load_schedule_window", [&] {
    wfp_schedule_info info{};
    info.struct_size = sizeof info;
    const wfp_status st = txn->LoadScheduleWindow(site_id, schedule_id, &info, &w);
    if (st != WFP_OK) return st;
    abi::WriteStruct(info, out);
    window->complete = w.complete;
    window->has_latest_before = w.has_latest_before;
    window->latest_before = w.latest_before;
    return WFP_OK;
  }));
  txn->listing = false;
  // The snapshot may have ended with the call (PostgreSQL: its ROLLBACK went with the reads).
  if (st == WFP_OK && txn->read_only && (w.flags & WFP_WINDOW_LAST_READ)) txn->reads_ended = true;
  ReportLockWait(txn, started, st);
  return st;
}

// ---- writes -----------------------------------------------------------------------------------

// The caller's array of `count` sized structs, each read as far as its struct_size covers (the
// elements are the first one's struct_size apart), into `out`. Every element must cover
// `last_required` (the fields every version has: ABI 1.0) and have the first one's struct_size.
// False with the transaction's last_error naming the element otherwise.
template <typename T, typename Covers>
bool ReadArray(wfp_txn* txn, const char* what, const char* element, const T* array, size_t count,
               Covers covers, std::vector<T>* out) {
  out->clear();
  out->reserve(count);
  for (size_t i = 0; i < count; ++i) {
    const T* e = i == 0 ? array : abi::ArrayElement(array, i);
    if (!covers(e) || (i > 0 && e->struct_size != array->struct_size)) {
      txn->last_error = fmt::format(
          "{}: {}[{}] struct_size {} (the elements' struct_size must be equal and cover every "
          "1.0 field)",
          what, element, i, e->struct_size);
      return false;
    }
    out->push_back(abi::ReadStruct(e));
  }
  return true;
}

wfp_status CreateSessions(wfp_txn* txn, const wfp_new_session* sessions, size_t count,
                          int64_t* out_ids) {
  if (!txn || (count > 0 && (!sessions || !out_ids))) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing || txn->read_only) return WFP_ERR_STATE;
  return Guard(txn, "create_sessions", [&] {
    std::vector<wfp_new_session> copies;
    if (!ReadArray(
            txn, "create_sessions", "sessions", sessions, count,
            [](const wfp_new_session* n) { return WFP_HAS_FIELD(wfp_new_session, n, uuid); },
            &copies))
      return WFP_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; ++i) {
      const wfp_new_session& n = copies[i];
      if (!n.workflow_name.data)
        return Invalid(txn, fmt::format("create_sessions: sessions[{}] has no workflow name", i));
    }
    if (InjectedFailure(txn, "create_sessions")) return WFP_ERR_INTERNAL;
    if (count == 0) return WFP_OK;
    return NoteBusy(txn->CreateSessions(copies.data(), count, out_ids));
  });
}

wfp_status CreateAttempts(wfp_txn* txn, const wfp_new_attempt* attempts, size_t count,
                          int64_t* out_ids) {
  if (!txn || (count > 0 && (!attempts || !out_ids))) return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing || txn->read_only) return WFP_ERR_STATE;
  return Guard(txn, "create_attempts", [&] {
    std::vector<wfp_new_attempt> copies;
    if (!ReadArray(
            txn, "create_attempts", "attempts", attempts, count,
            [](const wfp_new_attempt* a) {
              return WFP_HAS_FIELD(wfp_new_attempt, a, depends_on_session_id);
            },
            &copies))
      return WFP_ERR_INVALID_ARGUMENT;
    for (size_t i = 0; i < count; ++i) {
      const wfp_new_attempt& a = copies[i];
      if (a.state != WFP_ATTEMPT_QUEUED && a.state != WFP_ATTEMPT_BLOCKED)
        return Invalid(txn, fmt::format("create_attempts: attempts[{}] state {}", i, a.state));
      boost::json::error_code ec;
      const boost::json::value params = boost::json::parse(View(a.params_json), ec);
      if (ec || !params.is_object())
        return Invalid(
            txn, fmt::format("create_attempts: attempts[{}] params are not a JSON object", i));
    }
    if (InjectedFailure(txn, "create_attempts")) return WFP_ERR_INTERNAL;
    if (count == 0) return WFP_OK;
    return NoteBusy(txn->CreateAttempts(copies.data(), count, out_ids));
  });
}

wfp_status MoveSchedulePointer(wfp_txn* txn, int64_t schedule_id,
                               const wfp_schedule_pointer* pointer) {
  if (!txn || !pointer || !WFP_HAS_FIELD(wfp_schedule_pointer, pointer, last_session_time))
    return WFP_ERR_INVALID_ARGUMENT;
  if (txn->listing || txn->read_only) return WFP_ERR_STATE;
  if (InjectedFailure(txn, "move_schedule_pointer")) return WFP_ERR_INTERNAL;
  const wfp_schedule_pointer copy = abi::ReadStruct(pointer);
  return NoteBusy(Guard(txn, "move_schedule_pointer",
                        [&] { return txn->MoveSchedulePointer(schedule_id, copy); }));
}

const wfp_store_api kStoreApi = {
    sizeof(wfp_store_api),
    Begin,
    Commit,
    Rollback,
    LoadSchedule,
    ListSessions,
    LatestSessionBefore,
    CreateSessions,
    CreateAttempts,
    MoveSchedulePointer,
    BeginRead,
    LoadScheduleWindow,
};

}  // namespace

const wfp_store_api* StoreApi() { return &kStoreApi; }

}  // namespace wfp::host
