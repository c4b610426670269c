// OpenPostgres in a build without libpq: a clear refusal.
#include "store/backends.h"

namespace wfp::host::store_internal {

std::unique_ptr<Store> OpenPostgres(const std::string&, const StoreOptions&, std::string* error) {
  *error =
      "this wfp-host was built without PostgreSQL support (install libpq-dev and rebuild); "
      "--db takes an SQLite file path";
  return nullptr;
}

}  // namespace wfp::host::store_internal
