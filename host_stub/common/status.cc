#include "common/status.h"

namespace wfp::host {

const char* StatusCodeName(wfp_status code) {
  switch (code) {
    case WFP_OK:
      return "ok";
    case WFP_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case WFP_ERR_NOT_FOUND:
      return "not found";
    case WFP_ERR_CONFLICT:
      return "conflict";
    case WFP_ERR_BUSY:
      return "busy";
    case WFP_ERR_STATE:
      return "wrong state";
    case WFP_ERR_INTERNAL:
      return "internal";
    case WFP_ERR_UNSUPPORTED:
      return "unsupported";
    default:
      return "unknown";
  }
}

}  // namespace wfp::host
