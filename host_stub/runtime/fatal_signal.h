// The note a fatal signal leaves. Plugins run in the host's process: a plugin that dereferences a
// bad pointer or aborts ends the host, and nothing can safely go on after it. What the host can do
// is say, on stderr and as its last words, which plugin was running and for which call (its init,
// a route and the request's id, its shutdown), so that the operator knows whom to blame; the
// signal then ends the process as it would have (a core dump, or the sanitizer's report, as
// before). Threads outside any plugin call get a note that says so.
//
// PluginActivity marks what the current thread is doing inside a plugin for as long as it lives
// (one thread-local pointer: nothing is allocated or formatted per call).
#ifndef WFP_HOST_STUB_RUNTIME_FATAL_SIGNAL_H_
#define WFP_HOST_STUB_RUNTIME_FATAL_SIGNAL_H_

namespace wfp::host {

class PluginActivity {
 public:
  // `plugin`: its name; `what`: "load", "init", "shutdown" or a route's method; `detail`: the
  // route's path template, or the library's path; `request_id`: null outside a request. The strings
  // must outlive the activity.
  PluginActivity(const char* plugin, const char* what, const char* detail,
                 const char* request_id = nullptr);
  ~PluginActivity();
  PluginActivity(const PluginActivity&) = delete;
  PluginActivity& operator=(const PluginActivity&) = delete;

 private:
  friend void WriteFatalSignalNote(int fd, int signal);
  const char* plugin_;
  const char* what_;
  const char* detail_;
  const char* request_id_;
  const PluginActivity* previous_;
};

// Installs a handler for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGABRT that writes the note for the
// thread that got the signal, then hands the signal on to the action installed before it. Once,
// from main, before any thread starts.
void InstallFatalSignalNote();

// The note for the calling thread, written to `fd` (async-signal-safe; for the handler and tests):
// "wfp-host: fatal signal SIGSEGV in plugin NAME, route GET /path (request ID); the process ends".
void WriteFatalSignalNote(int fd, int signal);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_RUNTIME_FATAL_SIGNAL_H_
