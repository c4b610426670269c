// A C++ plugin whose handlers let exceptions escape (a contract violation): GET /fault throws a
// std::runtime_error, GET /fault-int throws an int. The host's catch-all must answer 500 and go on.
#include <stdexcept>

#include "test_plugin.h"

namespace {

const wfp_host_api* g_host = nullptr;

int32_t Throws(void*, const wfp_request*, wfp_call*) {
  throw std::runtime_error("handler_throws: deliberate");
}

int32_t ThrowsInt(void*, const wfp_request*, wfp_call*) { throw 42; }

int32_t Init(const wfp_host_api* host, void** out_state) {
  g_host = host;
  *out_state = nullptr;
  if (tp_route(host, "GET", "/fault", Throws, nullptr) != WFP_OK) return 1;
  return tp_route(host, "GET", "/fault-int", ThrowsInt, nullptr) == WFP_OK ? 0 : 1;
}

void Shutdown(void*) {}

const wfp_plugin_v1 kDescriptor = {
    sizeof(wfp_plugin_v1), WFP_ABI_VERSION_MAJOR, 0, "handler_throws", "1.0.0", Init, Shutdown};

}  // namespace

extern "C" WFP_EXPORT const wfp_plugin_v1* wfp_plugin_entry_v1(void) { return &kDescriptor; }
