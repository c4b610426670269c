// The note a fatal signal leaves: see fatal_signal.h. Everything the handler does is
// async-signal-safe: it reads a thread-local pointer and static strings, and calls write(2),
// sigaction(2) and raise(3).
#include "runtime/fatal_signal.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace wfp::host {
namespace {

thread_local const PluginActivity* t_activity = nullptr;

constexpr int kSignals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT};
struct sigaction g_previous[sizeof kSignals / sizeof kSignals[0]];

const char* SignalName(int signal) {
  switch (signal) {
    case SIGSEGV:
      return "SIGSEGV";
    case SIGBUS:
      return "SIGBUS";
    case SIGILL:
      return "SIGILL";
    case SIGFPE:
      return "SIGFPE";
    case SIGABRT:
      return "SIGABRT";
    default:
      return "a fatal signal";
  }
}

// Appends `s` to the note being built in a fixed buffer (cut at its end).
class Note {
 public:
  Note& operator<<(const char* s) {
    for (; s && *s && length_ < sizeof text_; ++s) text_[length_++] = *s;
    return *this;
  }
  void WriteTo(int fd) const {
    size_t done = 0;
    while (done < length_) {
      const ssize_t n = ::write(fd, text_ + done, length_ - done);
      if (n <= 0) return;
      done += static_cast<size_t>(n);
    }
  }

 private:
  char text_[1024];
  size_t length_ = 0;
};

void OnFatalSignal(int signal) {
  const int saved_errno = errno;
  WriteFatalSignalNote(STDERR_FILENO, signal);
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
    if (kSignals[i] == signal) sigaction(signal, &g_previous[i], nullptr);
  errno = saved_errno;
  raise(signal);  // delivered once this handler returns, to the action that was there before
}

}  // namespace

PluginActivity::PluginActivity(const char* plugin, const char* what, const char* detail,
                               const char* request_id)
    : plugin_(plugin),
      what_(what),
      detail_(detail),
      request_id_(request_id),
      previous_(t_activity) {
  t_activity = this;
}

PluginActivity::~PluginActivity() { t_activity = previous_; }

void WriteFatalSignalNote(int fd, int signal) {
  Note note;
  note << "wfp-host: fatal signal " << SignalName(signal);
  if (const PluginActivity* a = t_activity) {
    note << " in plugin " << a->plugin_;
    if (a->request_id_)
      note << ", route " << a->what_ << " " << a->detail_ << " (request " << a->request_id_ << ")";
    else
      note << " during its " << a->what_ << " (" << a->detail_ << ")";
  } else {
    note << " outside any plugin call";
  }
  note << "; the process ends\n";
  note.WriteTo(fd);
}

void InstallFatalSignalNote() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = &OnFatalSignal;
  sigemptyset(&action.sa_mask);
  for (size_t i = 0; i < sizeof kSignals / sizeof kSignals[0]; ++i)
    sigaction(kSignals[i], &action, &g_previous[i]);
}

}  // namespace wfp::host
