// The inside of the libpq layer, shared by its files (pg.cc: connections, statements, COPY;
// pipeline.cc: several statements in one round trip). Not for the layer's consumers: they use pg.h.
#ifndef WFP_HOST_STUB_STORE_PG_DETAIL_H_
#define WFP_HOST_STUB_STORE_PG_DETAIL_H_

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "store/pg/pg.h"

namespace wfp::host::pg::detail {

// A PGresult freed on scope exit.
struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// The error of a connection without a result (or with one that carries no diagnostics).
Error ConnectionError(PGconn* conn, std::string_view what);
// The error a failed result reports: "primary message (detail)".
Error ResultError(PGconn* conn, const PGresult* result, std::string_view what);
// *error = value, when error is not null.
void Set(Error* error, Error value);
// Collects the results still pending on the connection (after a COPY, or a command that left
// several); returns the first failure among them, if any.
std::optional<Error> DrainResults(PGconn* conn, std::string_view what);

// A query's parameters in libpq's form. Text parameters must be NUL-terminated: they (and the
// integers' digits) are copied into one buffer, sized first so that the pointers into it stay
// valid.
struct EncodedParams {
  std::unique_ptr<char[]> buffer;
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
};
// Fills *out from `params`; false + *error when they cannot be sent (more than 65535, a NUL in
// text, too many bytes).
bool EncodeParams(std::span<const Param> params, EncodedParams* out, Error* error);

}  // namespace wfp::host::pg::detail

#endif  // WFP_HOST_STUB_STORE_PG_DETAIL_H_
