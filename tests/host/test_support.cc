#include "test_support.h"

#include "call.h"

// The fake store's connection and transaction types (this test binary links no real store).
namespace wfp::host {
class StoreConnection {
 public:
  int id = 0;
};
}  // namespace wfp::host

struct wfp_txn {
  wfp::host::CallStoreState* call;
};

namespace wfp::host::testing {
namespace {

wfp_status Begin(wfp_call* call, wfp_txn** out) {
  if (!call || !out || !call->store.connection) return WFP_ERR_INVALID_ARGUMENT;
  if (call->store.open_txn) return WFP_ERR_STATE;
  Stats().begins++;
  *out = new wfp_txn{&call->store};
  call->store.open_txn = *out;
  return WFP_OK;
}
void Finish(wfp_txn* txn) {
  txn->call->open_txn = nullptr;
  delete txn;
}
wfp_status Commit(wfp_txn* txn) {
  Stats().commits++;
  Finish(txn);
  return WFP_OK;
}
void Rollback(wfp_txn* txn) {
  Stats().rollbacks++;
  Finish(txn);
}
wfp_str S(const char* s) { return wfp_str{s, std::char_traits<char>::length(s)}; }
// Schedule 5 belongs to site 1 (project "etl", workflow "load"); nothing else exists.
wfp_status Load(wfp_txn*, int64_t site, int64_t id, wfp_schedule_info* out) {
  if (site != 1 || id != 5) return WFP_ERR_NOT_FOUND;
  out->schedule_id = 5;
  out->site_id = 1;
  out->project_name = S("etl");
  out->workflow_name = S("load");
  return WFP_OK;
}
wfp_status List(wfp_txn*, int64_t, wfp_str, wfp_epoch_seconds, wfp_epoch_seconds,
                wfp_session_visitor, void*) {
  return WFP_OK;
}
wfp_status Latest(wfp_txn*, int64_t, wfp_str, wfp_epoch_seconds, int32_t* found,
                  wfp_epoch_seconds*) {
  *found = 0;
  return WFP_OK;
}
wfp_status Sessions(wfp_txn*, const wfp_new_session*, size_t, int64_t*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status Attempts(wfp_txn*, const wfp_new_attempt*, size_t, int64_t*) {
  return WFP_ERR_UNSUPPORTED;
}
wfp_status Move(wfp_txn*, int64_t, const wfp_schedule_pointer*) { return WFP_ERR_UNSUPPORTED; }

const wfp_store_api kStore = {
    sizeof(wfp_store_api),
    Begin,
    Commit,
    Rollback,
    Load,
    List,
    Latest,
    Sessions,
    Attempts,
    Move,
    Begin /* begin_read: the fake makes no difference between the two */,
    nullptr /* load_schedule_window: plugins fall back to the three calls */};

}  // namespace

FakeStoreStats& Stats() {
  static FakeStoreStats stats;
  return stats;
}

const wfp_store_api* FakeStore() { return &kStore; }

HostOptions TestOptions(CapturedLog* log) {
  HostOptions o;
  o.fixed_now_micros = kFixedNowMicros;
  o.settings = {{"ok.greeting", "hello"}};
  o.store = FakeStore();
  o.connect = []() -> Result<std::shared_ptr<StoreConnection>> {
    auto c = std::make_shared<StoreConnection>();
    c->id = ++Stats().connections;
    return std::shared_ptr<StoreConnection>(std::move(c));
  };
  o.authenticate = [](std::string_view key) -> HostOptions::Authentication {
    if (key == "k1") return std::optional<int64_t>(1);
    if (key == "k2") return std::optional<int64_t>(2);
    if (key == "k-store-down") return {std::nullopt, true};  // the lookup itself failed
    return std::optional<int64_t>();
  };
  o.log_sink = [log](std::string_view line) { log->Add(line); };
  return o;
}

HttpRequest Get(std::string target, std::string key) {
  HttpRequest r;
  r.method = "GET";
  r.target = std::move(target);
  if (!key.empty()) r.headers.emplace_back("authorization", "Bearer " + key);
  return r;
}

HttpRequest Post(std::string target, std::string body, std::string key) {
  HttpRequest r = Get(std::move(target), std::move(key));
  r.method = "POST";
  r.headers.emplace_back("content-type", "application/json");
  r.body = std::move(body);
  return r;
}

}  // namespace wfp::host::testing
