// What `call`, `serve` and `demo` set up before they answer anything: the runtime flags (--now,
// --setting), the store (removed again when the command that created it fails), and the host wired
// to the store, with its plugins loaded.
#ifndef WFP_HOST_STUB_CLI_HOST_SETUP_H_
#define WFP_HOST_STUB_CLI_HOST_SETUP_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli_args.h"
#include "metrics/metrics.h"
#include "runtime/host.h"
#include "store/store.h"

namespace wfp::host::cli {

// Options shared by call, serve and demo.
struct RuntimeFlags {
  std::optional<int64_t> now_micros;
  std::map<std::string, std::string, std::less<>> settings;
  // serve and demo: the registry plugins record into (/metrics); X-Request-Id on every answer; log
  // lines as JSON (--log-format json).
  Metrics* metrics = nullptr;
  bool serving = false;
  bool json_logs = false;
  // serve --sqlite-exclusive: the SQLite file held for this process alone
  // (StoreOptions::exclusive).
  bool sqlite_exclusive = false;
};

// --now TIME and --setting KEY=VALUE into *out. Invalid argument naming the option.
Status ParseRuntimeFlags(const Args& args, RuntimeFlags* out);

// A store with the host runtime wired to it: the store outlives the host's connections. The store
// logs into the host's log (source "store") while there is a host; before (opening the store) and
// after, where a store logs by default.
struct Runtime {
  std::shared_ptr<std::atomic<Host*>> log_host = std::make_shared<std::atomic<Host*>>(nullptr);
  std::unique_ptr<Store> store;
  std::unique_ptr<Host> host;

  ~Runtime() { log_host->store(nullptr); }  // before the members: the host goes first
  void SetHost(std::unique_ptr<Host> h) {
    host = std::move(h);
    log_host->store(host.get());
  }
  StoreLog StoreLogToHost() const;
};

// Whether --db names an SQLite file (not ":memory:", not a PostgreSQL URL).
bool IsStoreFile(const std::string& db);

// Removes the store file a command created, unless Keep() was called: a command that fails leaves
// no new file behind. Declare it before the Store so that it runs after the Store is closed. A
// serving command keeps it once it listens (KeepOnListening), so a bind that fails removes it too.
// Keep may be called from another thread than the destructor's, before that thread is joined.
class NewStoreFile {
 public:
  explicit NewStoreFile(std::string db);
  NewStoreFile(const NewStoreFile&) = delete;
  NewStoreFile& operator=(const NewStoreFile&) = delete;
  ~NewStoreFile();
  void Keep() { kept_ = true; }

 private:
  std::string db_;
  bool created_ = false;
  std::atomic<bool> kept_{false};
};

// Removes an SQLite store file and its companions (-wal, -shm, -journal), ignoring errors.
void RemoveStoreFiles(const std::string& db);

// The store at `db`; the error names the store (with a URL's password hidden).
Result<std::unique_ptr<Store>> OpenStore(const std::string& db, const StoreOptions& options = {});
// Opens rt->store (held alone with flags.sqlite_exclusive), logging into rt's host once it has one.
Status OpenStore(const std::string& db, const RuntimeFlags& flags, Runtime* rt);

// The host over `store`: its API keys, its native routes, the OpenAPI document, the flags.
std::unique_ptr<Host> MakeHost(Store* store, const RuntimeFlags& flags);

// Loads the plugins, then refuses settings none of them reads (the known keys are those the
// plugins ask for in their init, see Host::CheckSettings). The first plugin's or the settings'
// error, as the host gives it.
Status LoadPlugins(Host* host, const std::vector<std::string>& plugins);

// What call, serve and demo do before answering: opens the store at `db` into *rt, makes the host
// over it (MakeHost) and loads `plugins` (LoadPlugins). The error's message is printed as it is.
Status StartHost(const std::string& db, const RuntimeFlags& flags,
                 const std::vector<std::string>& plugins, Runtime* rt);

// Loads the fixture file at `path` into `store`; the error's message names the file (invalid
// argument when the store refuses the fixture).
Status SeedFile(Store* store, const std::string& path);

}  // namespace wfp::host::cli

#endif  // WFP_HOST_STUB_CLI_HOST_SETUP_H_
