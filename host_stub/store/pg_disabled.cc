// OpenPostgres in a build without libpq: a clear refusal.
#include "store/backends.h"

namespace wfp::host::store_internal {

Result<std::unique_ptr<Store>> OpenPostgres(const std::string&, const StoreOptions&) {
  return Status::Unsupported(
      "this wfp-host was built without PostgreSQL support (install libpq-dev and rebuild); "
      "--db takes an SQLite file path");
}

std::string RedactPostgresUrl(std::string_view url) {
  // Without the libpq layer's parser, show the scheme only: the rest may hold a password.
  return std::string(url.substr(0, url.find("//") + 2)) + "...";
}

}  // namespace wfp::host::store_internal
