// The backends' entry points, for Store::Open (not for consumers).
#ifndef WFP_HOST_STUB_STORE_BACKENDS_H_
#define WFP_HOST_STUB_STORE_BACKENDS_H_

#include <memory>
#include <string>

#include "store/store.h"

namespace wfp::host::store_internal {

Result<std::unique_ptr<Store>> OpenSqlite(const std::string& path, const StoreOptions& options);
// Defined in pg_store.cc, or, in a build without libpq, as a refusal that says so
// (WFP_ERR_UNSUPPORTED).
Result<std::unique_ptr<Store>> OpenPostgres(const std::string& url, const StoreOptions& options);
// A libpq URL with its passwords replaced by "***" (pg_store.cc, or pg_disabled.cc).
std::string RedactPostgresUrl(std::string_view url);

}  // namespace wfp::host::store_internal

#endif  // WFP_HOST_STUB_STORE_BACKENDS_H_
