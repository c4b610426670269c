#include "common/error_body.h"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace wfp::host {

std::string ErrorBody(int status, std::string_view message) {
  boost::json::object o;
  o["message"] = message;
  o["status"] = status;
  return boost::json::serialize(o);
}

}  // namespace wfp::host
