// The JSON error body of every answer the host makes itself (the runtime's refusals, the server's
// 400/413/414/431/500): {"message":"...","status":N}, keys in that order, no spaces. The message
// is escaped as JSON strings are (Boost.JSON's serializer).
#ifndef WFP_HOST_STUB_COMMON_ERROR_BODY_H_
#define WFP_HOST_STUB_COMMON_ERROR_BODY_H_

#include <string>
#include <string_view>

namespace wfp::host {

std::string ErrorBody(int status, std::string_view message);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_ERROR_BODY_H_
