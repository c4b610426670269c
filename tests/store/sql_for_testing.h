// Test-only: raw SQL on a store connection, in the backend's dialect, outside any transaction of
// the ABI (to hold a lock from "another host", break a table, read what a write left). Linked only
// by tests (wfp_store_testing); the production store has no such hook.
#ifndef WFP_TESTS_STORE_SQL_FOR_TESTING_H_
#define WFP_TESTS_STORE_SQL_FOR_TESTING_H_

#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace wfp::host::testing_util {

// Runs every statement of `sql` on `c`. False with *error on failure.
bool ExecForTesting(StoreConnection& c, const std::string& sql, std::string* error);

// Runs one statement on `c` and returns its rows, each column as text ("NULL" for NULL); nullopt
// with *error on failure.
std::optional<std::vector<std::vector<std::string>>> QueryForTesting(StoreConnection& c,
                                                                     const std::string& sql,
                                                                     std::string* error);

}  // namespace wfp::host::testing_util

#endif  // WFP_TESTS_STORE_SQL_FOR_TESTING_H_
