// The header compiles in strict C++ code, and WFP_HAS_FIELD is usable there without warnings
// (a plugin built with -Wold-style-cast -Werror includes it).
#include <wfp/plugin_abi.h>

int wfp_abi_cxx_check(const wfp_response* response, const wfp_host_api* host) {
  return (WFP_HAS_FIELD(wfp_response, response, body) ? 1 : 0) +
         (WFP_HAS_FIELD(wfp_host_api, host, respond_append) ? 2 : 0);
}
