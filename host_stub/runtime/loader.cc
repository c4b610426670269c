// Loading a plugin: the file's checks, Boost.DLL, the entry point and the ABI version
// negotiation, the host table the plugin gets, its init; and shutting plugins down. A plugin that
// breaks the contract at load time is refused with the file and the reason; nothing of it stays.
#include <dlfcn.h>
#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "runtime/fatal_signal.h"
#include "runtime/host_impl.h"

namespace wfp::host {
using namespace runtime_internal;
namespace {

// A file that does not start with the ELF magic is not a shared library (on the platforms we
// build).
bool HasElfMagic(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  return in.read(magic, 4) && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' &&
         magic[3] == 'F';
}

// Checks the file and loads it (not yet calling into it). The reason it is refused, if it is.
std::optional<std::string> OpenLibrary(const Host::Impl& impl, PluginRecord& p) {
  const std::string& path = p.path;
  std::error_code fs_error;
  const auto status = std::filesystem::status(path, fs_error);
  if (fs_error || !std::filesystem::exists(status)) return "no such file";
  if (std::filesystem::is_directory(status)) return "is a directory, not a shared library";
  if (!HasElfMagic(path)) return "not a shared library (no ELF header)";

  boost::dll::fs::error_code ec;
  dlerror();  // clear any earlier message
  p.library.load(path, ec, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (ec || !p.library.is_loaded()) {
    const char* why = dlerror();
    return fmt::format("not a loadable shared library ({})", why ? why : ec.message());
  }

  for (const auto& other : impl.plugins)
    if (other->library.native() == p.library.native())
      return fmt::format("the same library is loaded already (as plugin {} from {})", other->name,
                         other->path);
  return std::nullopt;
}

// The entry point's descriptor, and the ABI version negotiation: the same major, a minor no newer
// than the host's. Sets the record's descriptor, name and version; or the reason it is refused.
std::optional<std::string> ReadDescriptor(PluginRecord& p) {
  if (!p.library.has(WFP_PLUGIN_ENTRY_V1_NAME)) {
    for (int major = 2; major <= 9; ++major) {
      const std::string other = fmt::format("wfp_plugin_entry_v{}", major);
      if (p.library.has(other))
        return fmt::format(
            "exports {}: built for ABI major {}; this host speaks ABI major {} ({} missing)", other,
            major, WFP_ABI_VERSION_MAJOR, WFP_PLUGIN_ENTRY_V1_NAME);
    }
    return fmt::format("no entry point {} (not a wfp plugin, or built for another ABI major)",
                       WFP_PLUGIN_ENTRY_V1_NAME);
  }
  auto& entry = p.library.get<const wfp_plugin_v1*()>(WFP_PLUGIN_ENTRY_V1_NAME);
  const wfp_plugin_v1* d = nullptr;
  try {
    d = entry();
  } catch (...) {
    return "its entry point threw an exception";
  }
  if (!d) return "its entry point returned no descriptor";
  // Every field of the descriptor is of ABI 1.0: a descriptor must cover them all (a newer
  // plugin's may be larger; what lies past them is not read).
  if (!WFP_HAS_FIELD(wfp_plugin_v1, d, shutdown))
    return fmt::format("descriptor struct_size {} is smaller than the v1 descriptor ({})",
                       d->struct_size, sizeof(wfp_plugin_v1));
  if (d->abi_major != WFP_ABI_VERSION_MAJOR)
    return fmt::format("built for ABI major {}; this host speaks ABI major {}", d->abi_major,
                       WFP_ABI_VERSION_MAJOR);
  if (d->abi_minor > WFP_ABI_VERSION_MINOR)
    return fmt::format("needs ABI {}.{}, newer than this host's {}.{}", d->abi_major, d->abi_minor,
                       WFP_ABI_VERSION_MAJOR, WFP_ABI_VERSION_MINOR);
  if (!d->init || !d->shutdown) return "its descriptor has no init or no shutdown";
  p.descriptor = d;
  if (d->name) p.name = Sanitize(std::string_view(d->name).substr(0, 128));
  if (d->version) p.version = Sanitize(std::string_view(d->version).substr(0, 64));
  return std::nullopt;
}

// The host table this plugin gets (its handle names the plugin, for the log and route owners).
void FillHostTable(Host::Impl& impl, PluginRecord& p) {
  using Impl = Host::Impl;
  p.handle.impl = &impl;
  p.handle.plugin = &p;
  p.api.struct_size = sizeof(wfp_host_api);
  p.api.abi_major = WFP_ABI_VERSION_MAJOR;
  p.api.abi_minor = WFP_ABI_VERSION_MINOR;
  p.api.host = &p.handle;
  p.api.host_name = Str(kHostName);
  p.api.host_version = Str(kHostVersion);
  p.api.log = &Impl::ApiLog;
  p.api.now_micros = &Impl::ApiNow;
  p.api.register_route = &Impl::ApiRegisterRoute;
  p.api.get_setting = &Impl::ApiGetSetting;
  p.api.respond = &Impl::ApiRespond;
  p.api.store = impl.store;
  p.api.respond_append = &Impl::ApiRespondAppend;
  if (impl.options.metrics) {  // a host without metrics leaves them null (ABI 1.3)
    p.api.register_metric = &Impl::ApiRegisterMetric;
    p.api.metric_add = &Impl::ApiMetricAdd;
    p.api.metric_observe = &Impl::ApiMetricObserve;
  }
}

// Runs the plugin's init (the only time it may register routes and metrics). A conflict found
// during init refuses the plugin even when init succeeded (it is shut down first).
std::optional<std::string> RunInit(PluginRecord& p) {
  const wfp_plugin_v1* d = p.descriptor;
  p.init_thread = std::this_thread::get_id();
  p.initializing = true;
  int32_t rc = 0;
  bool threw = false;
  try {
    rc = d->init(&p.api, &p.state);
  } catch (...) {
    threw = true;
  }
  p.initializing = false;
  if (threw) return "its init threw an exception";
  if (rc != 0)
    return fmt::format("its init failed (returned {}){}", rc,
                       p.init_faults.empty() ? "" : "; " + p.init_faults.front());
  if (!p.init_faults.empty()) {
    try {
      d->shutdown(p.state);
    } catch (...) {
    }
    return p.init_faults.front();
  }
  return std::nullopt;
}

}  // namespace

Status Host::LoadPlugin(const std::string& path) {
  Impl& impl = *impl_;
  auto record = std::make_unique<PluginRecord>();
  PluginRecord& p = *record;
  p.index = impl.next_index++;
  p.path = path;
  p.name = std::filesystem::path(path).filename().string();

  // The caller reports the refusal (wfp-host's commands print it): it is not logged here too.
  auto refuse = [&](std::string_view reason) {
    impl.router.RemoveOwner(p.index);
    return Status::InvalidArgument(fmt::format("plugin {} refused: {}", path, reason));
  };

  try {
    {
      const std::string file = p.name;  // p.name becomes the descriptor's name meanwhile
      const PluginActivity loading(file.c_str(), "load", p.path.c_str());
      if (auto why = OpenLibrary(impl, p)) return refuse(*why);
      if (auto why = ReadDescriptor(p)) return refuse(*why);
    }
    FillHostTable(impl, p);
    const PluginActivity init(p.name.c_str(), "init", p.path.c_str());
    if (auto why = RunInit(p)) return refuse(*why);
  } catch (const std::exception& e) {
    return refuse(fmt::format("could not be loaded: {}", e.what()));
  }
  impl.Log(WFP_LOG_INFO, "host",
           fmt::format("loaded plugin {} {} from {}", p.name, p.version, path));
  impl.plugins.push_back(std::move(record));
  return Status::Ok();
}

void Host::Shutdown() {
  Impl& impl = *impl_;
  while (!impl.plugins.empty()) {
    std::unique_ptr<PluginRecord> p = std::move(impl.plugins.back());
    impl.plugins.pop_back();
    impl.router.RemoveOwner(p->index);
    try {
      const PluginActivity shutdown(p->name.c_str(), "shutdown", p->path.c_str());
      p->descriptor->shutdown(p->state);
    } catch (...) {
      impl.Log(WFP_LOG_ERROR, "host", fmt::format("plugin {}: shutdown threw", p->name));
    }
    p->library.unload();
  }
  std::lock_guard lock(impl.pool_mu);
  impl.idle.clear();
}

}  // namespace wfp::host
