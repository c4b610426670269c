// Statements without a round trip each (pg.h): several in one pipeline, and a statement whose
// answer is read later. Both keep the connection usable by the rest of the layer afterwards: a
// pipeline leaves pipeline mode before it returns (or leaves a lost connection to Reset, which
// ends it), and an answer left unread is read before the next statement.
#include <string>
#include <vector>

#include "store/pg/detail.h"
#include "store/pg/pg.h"

namespace wfp::host::pg {

using namespace detail;

void Connection::Settle() {
  if (!unread_) return;
  unread_ = false;
  DrainResults(conn_, "");  // a failure shows in the connection's state, for the next statement
}

void Connection::SendWithoutWaiting(const char* sql) {
  Settle();
  if (PQsendQuery(conn_, sql) == 1) unread_ = true;
}

std::optional<std::vector<Result>> Connection::Pipeline(std::span<const Statement> statements,
                                                        Error* error) {
  Settle();
  // What cannot be sent is refused, and every statement prepared, before the pipeline begins.
  std::vector<EncodedParams> encoded(statements.size());
  std::vector<const std::string*> names(statements.size());
  for (size_t i = 0; i < statements.size(); ++i) {
    if (!EncodeParams(statements[i].params, &encoded[i], error)) return std::nullopt;
    if (!(names[i] = PreparedName(statements[i].sql, error))) return std::nullopt;
  }
  if (!SendPipeline(names, encoded, error)) return std::nullopt;
  return ReadPipeline(statements.size(), error);
}

bool Connection::SendPipeline(std::span<const std::string* const> names,
                              std::span<const EncodedParams> encoded, Error* error) {
  if (PQenterPipelineMode(conn_) != 1) {
    Set(error, ConnectionError(conn_, "entering pipeline mode"));
    return false;
  }
  size_t sent = 0;
  for (; sent < names.size(); ++sent) {
    const EncodedParams& p = encoded[sent];
    if (PQsendQueryPrepared(conn_, names[sent]->c_str(), static_cast<int>(p.values.size()),
                            p.values.data(), p.lengths.data(), p.formats.data(),
                            /*resultFormat=*/0) != 1)
      break;
  }
  if (sent == names.size() && PQpipelineSync(conn_) == 1) return true;
  Set(error, ConnectionError(conn_, ""));
  // Read what was sent, so that a connection still up leaves pipeline mode.
  if (Healthy() && PQpipelineSync(conn_) == 1) {
    Error ignored;
    ReadPipeline(sent, &ignored);
  }
  return false;
}

std::optional<std::vector<Result>> Connection::ReadPipeline(size_t count, Error* error) {
  std::vector<Result> results;
  results.reserve(count);
  std::optional<Error> failure;
  for (size_t i = 0; i < count; ++i) {
    ResultPtr r(PQgetResult(conn_));
    if (!r) {  // only a lost connection ends a statement without its result
      failure = ConnectionError(conn_, "");
      break;
    }
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
      results.emplace_back(r.release());
    } else if (!failure && status != PGRES_PIPELINE_ABORTED) {
      failure = ResultError(conn_, r.get(), "");
    }
    while (ResultPtr more{PQgetResult(conn_)}) {
    }  // a statement's results end with a null
  }
  if (Healthy()) {
    ResultPtr sync(PQgetResult(conn_));
    if ((!sync || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC ||
         PQexitPipelineMode(conn_) != 1) &&
        !failure)
      failure = ConnectionError(conn_, "leaving pipeline mode");
  }
  if (!failure) return results;
  Set(error, std::move(*failure));
  if (!Healthy()) statements_.clear();
  return std::nullopt;
}

}  // namespace wfp::host::pg
