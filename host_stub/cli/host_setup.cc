// The store and host `call`, `serve` and `demo` set up (host_setup.h).
#include "cli/host_setup.h"

#include <fmt/format.h>
#include <wfp/openapi_document.h>

#include <filesystem>
#include <system_error>
#include <utility>

#include "cli/command.h"
#include "cli/native_routes.h"
#include "common/time_text.h"
#include "store/key_cache.h"

namespace wfp::host::cli {

Status ParseRuntimeFlags(const Args& args, RuntimeFlags* out) {
  if (const std::string* now = args.Get("now")) {
    out->now_micros = ParseInstantMicros(*now);
    if (!out->now_micros)
      return Status::InvalidArgument(fmt::format(
          "--now '{}' is not an ISO-8601 instant with an offset (e.g. 2024-01-12T03:00:00Z)",
          *now));
  }
  for (const std::string& s : args.All("setting")) {
    const size_t eq = s.find('=');
    if (eq == std::string::npos || eq == 0)
      return Status::InvalidArgument(fmt::format("--setting '{}' is not KEY=VALUE", s));
    out->settings[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return Status::Ok();
}

StoreLog Runtime::StoreLogToHost() const {
  return [log_host = log_host](std::string_view message) {
    if (Host* h = log_host->load()) return h->Log(WFP_LOG_ERROR, "store", message);
    WriteStoreLogDefault(message);
  };
}

bool IsStoreFile(const std::string& db) {
  return db != ":memory:" && Store::KindOf(db) == Store::Kind::kSqlite;
}

NewStoreFile::NewStoreFile(std::string db) : db_(std::move(db)) {
  std::error_code ec;
  created_ = IsStoreFile(db_) && !std::filesystem::exists(db_, ec) && !ec;
}

NewStoreFile::~NewStoreFile() {
  if (created_ && !kept_) RemoveStoreFiles(db_);
}

void RemoveStoreFiles(const std::string& db) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"})
    std::filesystem::remove(db + suffix, ec);
}

Result<std::unique_ptr<Store>> OpenStore(const std::string& db, const StoreOptions& options) {
  return Store::Open(db, options);  // names the store already (a URL's password hidden)
}

Status OpenStore(const std::string& db, const RuntimeFlags& flags, Runtime* rt) {
  StoreOptions options;
  options.log = rt->StoreLogToHost();
  options.exclusive = flags.sqlite_exclusive;
  Result<std::unique_ptr<Store>> store = OpenStore(db, options);
  if (!store.ok()) return store.status();
  rt->store = std::move(*store);
  return Status::Ok();
}

std::unique_ptr<Host> MakeHost(Store* store, const RuntimeFlags& flags) {
  HostOptions o;
  o.fixed_now_micros = flags.now_micros;
  o.settings = flags.settings;
  o.store = StoreApi();
  o.connect = [store]() -> Result<std::shared_ptr<StoreConnection>> {
    Result<std::unique_ptr<StoreConnection>> c = store->Connect();
    if (!c.ok()) return c.status();
    return std::shared_ptr<StoreConnection>(std::move(*c));
  };
  // A key found is remembered for KeyCache::kDefaultTtl (2 s): no store round trip per request.
  auto keys = std::make_shared<KeyCache>(
      [store](std::string_view key) { return store->LookUpApiKey(key); });
  o.authenticate = [keys](std::string_view key) {
    const Store::KeyLookup found = keys->LookUp(key);
    if (!found.ok()) return HostOptions::Authentication(std::nullopt, /*unavailable=*/true);
    return HostOptions::Authentication(*found);
  };
  o.openapi_document = wfp::kOpenApiDocument;
  o.native_routes = NativeRoutes(store);  // GET /api/projects, /api/schedules, ...
  o.metrics = flags.metrics;
  o.echo_request_id = flags.serving;
  o.json_logs = flags.json_logs;
  return std::make_unique<Host>(std::move(o));
}

Status LoadPlugins(Host* host, const std::vector<std::string>& plugins) {
  for (const std::string& p : plugins)
    if (Status status = host->LoadPlugin(p); !status.ok()) return status;
  return host->CheckSettings();
}

Status StartHost(const std::string& db, const RuntimeFlags& flags,
                 const std::vector<std::string>& plugins, Runtime* rt) {
  if (Status opened = OpenStore(db, flags, rt); !opened.ok()) return opened;
  rt->SetHost(MakeHost(rt->store.get(), flags));
  return LoadPlugins(rt->host.get(), plugins);
}

Status SeedFile(Store* store, const std::string& path) {
  const Result<boost::json::value> fixture = ReadJsonFile(path);
  if (!fixture.ok()) return fixture.status();
  return store->Seed(*fixture).WithContext(path + ": ");
}

}  // namespace wfp::host::cli
