// The libpq layer of pg.h: statements, prepared-statement cache, parameters, results, COPY, error
// mapping and URL redaction. Connecting and interrupting are in connect.cc, the schema and its
// migrations in schema.cc.
#include "store/pg/pg.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstring>
#include <vector>

#include "store/pg/detail.h"

namespace wfp::host::pg {

using namespace detail;  // this file defines the layer's inside (detail.h)

namespace {

// libpq messages end with a newline and may span lines ("...failed: x\n\tIs the server ...");
// one line, trimmed.
std::string OneLine(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool space = false;
  for (char ch : text) {
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

}  // namespace

namespace detail {

Error ConnectionError(PGconn* conn, std::string_view what) {
  std::string message = OneLine(conn ? PQerrorMessage(conn) : "out of memory");
  if (message.empty()) message = "unknown error";
  return Error{"", what.empty() ? message : fmt::format("{}: {}", what, message), ""};
}

Error ResultError(PGconn* conn, const PGresult* result, std::string_view what) {
  if (!result) return ConnectionError(conn, what);
  const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
  const char* primary = PQresultErrorField(result, PG_DIAG_MESSAGE_PRIMARY);
  const char* detail = PQresultErrorField(result, PG_DIAG_MESSAGE_DETAIL);
  const char* constraint = PQresultErrorField(result, PG_DIAG_CONSTRAINT_NAME);
  std::string message;
  if (primary) {
    message = OneLine(primary);
    if (detail) message += fmt::format(" ({})", OneLine(detail));
  } else {
    message = OneLine(PQresultErrorMessage(result));
    if (message.empty()) message = OneLine(PQerrorMessage(conn));
    if (message.empty()) {
      message = fmt::format("unexpected result status {}", PQresStatus(PQresultStatus(result)));
    }
  }
  if (!what.empty()) message = fmt::format("{}: {}", what, message);
  return Error{state ? state : "", std::move(message), constraint ? constraint : ""};
}

void Set(Error* error, Error value) {
  if (error) *error = std::move(value);
}

std::optional<Error> DrainResults(PGconn* conn, std::string_view what) {
  std::optional<Error> failure;
  while (PGresult* raw = PQgetResult(conn)) {
    ResultPtr r(raw);
    const ExecStatusType status = PQresultStatus(r.get());
    if (status == PGRES_COPY_IN) {
      PQputCopyEnd(conn, "not expected here");
      continue;
    }
    if (status == PGRES_COPY_OUT) {
      char* buffer = nullptr;
      while (PQgetCopyData(conn, &buffer, 0) > 0) PQfreemem(buffer);
      continue;
    }
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && !failure) {
      failure = ResultError(conn, r.get(), what);
    }
    if (PQstatus(conn) == CONNECTION_BAD) break;
  }
  return failure;
}

}  // namespace detail

namespace {

int HexValue(char ch) {
  if (ch >= '0' && ch <= '9') return ch - '0';
  if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
  return -1;
}

bool StartsWithNoCase(std::string_view text, size_t at, std::string_view word) {
  if (text.size() - at < word.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[at + i])) != word[i]) return false;
  }
  return true;
}

}  // namespace

namespace detail {

bool EncodeParams(std::span<const Param> params, EncodedParams* out, Error* error) {
  if (params.size() > 65535) {
    Set(error, Error{"54000", fmt::format("{} parameters (at most 65535)", params.size()), ""});
    return false;
  }
  size_t buffer_size = 0;
  for (const Param& p : params) {
    if (p.kind() == Param::Kind::kInt) buffer_size += 21;
    if (p.kind() == Param::Kind::kText) buffer_size += p.data().size() + 1;
  }
  out->buffer.reset(new char[buffer_size > 0 ? buffer_size : 1]);
  out->values.assign(params.size(), nullptr);
  out->lengths.assign(params.size(), 0);
  out->formats.assign(params.size(), 0);
  std::vector<const char*>& values = out->values;
  char* cursor = out->buffer.get();
  const int n = static_cast<int>(params.size());
  for (int i = 0; i < n; ++i) {
    const Param& p = params[static_cast<size_t>(i)];
    switch (p.kind()) {
      case Param::Kind::kNull:
        values[i] = nullptr;
        break;
      case Param::Kind::kInt: {
        auto [end, ec] = std::to_chars(cursor, cursor + 20, p.int_value());
        (void)ec;  // 20 characters hold any int64_t
        *end = '\0';
        values[i] = cursor;
        cursor = end + 1;
        break;
      }
      case Param::Kind::kText: {
        const std::string_view text = p.data();
        if (text.find('\0') != std::string_view::npos) {
          Set(error, Error{"22021",
                           fmt::format("text parameter ${} contains a NUL character", i + 1), ""});
          return false;
        }
        std::memcpy(cursor, text.data(), text.size());
        cursor[text.size()] = '\0';
        values[i] = cursor;
        cursor += text.size() + 1;
        break;
      }
      case Param::Kind::kBytes: {
        const std::string_view bytes = p.data();
        if (bytes.size() > static_cast<size_t>(INT32_MAX)) {
          Set(error, Error{"54000", fmt::format("bytes parameter ${} is too large", i + 1), ""});
          return false;
        }
        values[i] = bytes.data();  // never null (Param::data), so never taken for NULL
        out->lengths[i] = static_cast<int>(bytes.size());
        out->formats[i] = 1;
        break;
      }
    }
  }
  return true;
}

}  // namespace detail

wfp_status MapError(const Error& error) {
  const std::string& s = error.sqlstate;
  if (s.size() != 5) return WFP_ERR_INTERNAL;
  if (s == "23503") return WFP_ERR_NOT_FOUND;
  if (s.compare(0, 2, "23") == 0) return WFP_ERR_CONFLICT;
  if (s == "55P03" || s == "40001" || s == "40P01" || s == "57014") return WFP_ERR_BUSY;
  return WFP_ERR_INTERNAL;
}

std::string RedactUrl(std::string_view url) {
  std::string out(url);
  const bool uri = out.starts_with("postgresql://") || out.starts_with("postgres://");
  size_t query = std::string::npos;
  if (uri) {
    // The user info: "scheme://user:password@host...". The authority ends at the query; the last
    // '@' before it ends the user info (over-redacting when a path holds an '@' is fine).
    const size_t start = out.find("://") + 3;
    query = out.find_first_of("?#", start);
    const size_t end = query == std::string::npos ? out.size() : query;
    const size_t at = out.rfind('@', end == 0 ? 0 : end - 1);
    if (at != std::string::npos && at >= start) {
      const size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) {
        out.replace(colon + 1, at - colon - 1, "***");
        query = out.find_first_of("?#", start);
      }
    }
  }
  // "password=value" and "sslpassword=value": in the query of a URI (value up to '&' or '#'), or
  // in a keyword string (value quoted '...' with \' escapes, or up to whitespace).
  size_t from = uri ? (query == std::string::npos ? out.size() : query) : 0;
  while (from < out.size()) {
    size_t p = from;
    while (p < out.size() && !StartsWithNoCase(out, p, "password")) ++p;
    if (p >= out.size()) break;
    size_t q = p + 8;
    while (q < out.size() && (out[q] == ' ' || out[q] == '\t')) ++q;
    if (q >= out.size() || out[q] != '=') {
      // A malformed keyword string ("password 'x'"): hide all that follows a password keyword.
      const size_t word = p >= 3 && StartsWithNoCase(out, p - 3, "ssl") ? p - 3 : p;
      const bool keyword =
          !uri && (word == 0 || std::isspace(static_cast<unsigned char>(out[word - 1])));
      if (keyword && q < out.size()) {
        out.replace(q, out.size() - q, "***");
        break;
      }
      from = p + 8;
      continue;
    }
    ++q;
    if (!uri) {
      while (q < out.size() && std::isspace(static_cast<unsigned char>(out[q]))) ++q;
    }
    size_t end = q;
    if (uri) {
      while (end < out.size() && out[end] != '&' && out[end] != '#') ++end;
    } else if (end < out.size() && out[end] == '\'') {
      ++end;
      while (end < out.size() && out[end] != '\'') end += out[end] == '\\' ? 2 : 1;
      end = std::min(end + 1, out.size());
    } else {
      while (end < out.size() && !std::isspace(static_cast<unsigned char>(out[end]))) ++end;
    }
    out.replace(q, end - q, "***");
    from = q + 3;
  }
  return out;
}

// ----- Result -----

Result::~Result() { PQclear(result_); }

Result& Result::operator=(Result&& other) noexcept {
  if (this != &other) {
    PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int Result::rows() const { return result_ ? PQntuples(result_) : 0; }
int Result::columns() const { return result_ ? PQnfields(result_) : 0; }

int64_t Result::affected_rows() const {
  if (!result_) return 0;
  const char* text = PQcmdTuples(result_);
  int64_t n = 0;
  std::from_chars(text, text + std::strlen(text), n);
  return n;
}

bool Result::IsNull(int row, int column) const {
  return !result_ || PQgetisnull(result_, row, column);
}

std::string_view Result::Text(int row, int column) const {
  if (!result_) return {};
  const char* v = PQgetvalue(result_, row, column);
  if (!v) return {};
  return std::string_view(v, static_cast<size_t>(PQgetlength(result_, row, column)));
}

std::optional<int64_t> Result::OptInt(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  const std::string_view text = Text(row, column);
  if (text == "t") return 1;
  if (text == "f") return 0;
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int64_t Result::Int(int row, int column) const { return OptInt(row, column).value_or(0); }

std::string Result::Bytes(int row, int column) const {
  if (IsNull(row, column)) return {};
  const std::string_view text = Text(row, column);
  std::string out;
  if (text.starts_with("\\x") && text.size() % 2 == 0) {
    out.resize((text.size() - 2) / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      const int hi = HexValue(text[2 + 2 * i]), lo = HexValue(text[3 + 2 * i]);
      if (hi < 0 || lo < 0) return {};
      out[i] = static_cast<char>(hi << 4 | lo);
    }
    return out;
  }
  // bytea_output = escape: let libpq decode it (the cell is NUL-terminated).
  size_t length = 0;
  unsigned char* decoded =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(text.data()), &length);
  if (decoded) {
    out.assign(reinterpret_cast<const char*>(decoded), length);
    PQfreemem(decoded);
  }
  return out;
}

// ----- Connection -----

bool Connection::Healthy() const { return PQstatus(conn_) == CONNECTION_OK; }

TxnState Connection::txn_state() {
  Settle();
  switch (PQtransactionStatus(conn_)) {
    case PQTRANS_IDLE:
      return TxnState::kIdle;
    case PQTRANS_INTRANS:
      return TxnState::kInTransaction;
    case PQTRANS_INERROR:
      return TxnState::kFailed;
    default:
      return TxnState::kUnknown;
  }
}

bool Connection::Exec(const char* sql, Error* error) {
  Settle();
  ResultPtr r(PQexec(conn_, sql));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) {
    return true;
  }
  if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT) {
    r.reset();
    if (status == PGRES_COPY_IN) PQputCopyEnd(conn_, "COPY is not supported by Exec");
    DrainResults(conn_, "");
    Set(error, Error{"", "COPY is not supported by Exec (use CopyIn)", ""});
    return false;
  }
  Set(error, ResultError(conn_, r.get(), ""));
  return false;
}

const std::string* Connection::PreparedName(const char* sql, Error* error) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return &it->second;
  std::string name = fmt::format("wfp_{}", next_statement_++);
  ResultPtr r(PQprepare(conn_, name.c_str(), sql, 0, nullptr));
  if (!r || PQresultStatus(r.get()) != PGRES_COMMAND_OK) {
    Set(error, ResultError(conn_, r.get(), ""));
    return nullptr;
  }
  return &statements_.emplace(sql, std::move(name)).first->second;
}

std::optional<Result> Connection::Query(const char* sql, std::span<const Param> params,
                                        Error* error) {
  Settle();
  EncodedParams encoded;  // what cannot be sent is refused before any round trip
  if (!EncodeParams(params, &encoded, error)) return std::nullopt;
  const int n = static_cast<int>(params.size());
  const std::string* name = PreparedName(sql, error);  // prepared once per SQL text
  if (!name) return std::nullopt;
  ResultPtr r(PQexecPrepared(conn_, name->c_str(), n, encoded.values.data(), encoded.lengths.data(),
                             encoded.formats.data(), /*resultFormat=*/0));
  const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return Result(r.release());
  if (status == PGRES_COPY_IN || status == PGRES_COPY_OUT) {
    r.reset();
    if (status == PGRES_COPY_IN) PQputCopyEnd(conn_, "COPY is not supported by Query");
    DrainResults(conn_, "");
    Set(error, Error{"", "COPY is not supported by Query (use CopyIn)", ""});
    return std::nullopt;
  }
  Set(error, ResultError(conn_, r.get(), ""));
  if (!Healthy()) statements_.clear();
  return std::nullopt;
}

std::optional<int64_t> Connection::QueryInt(const char* sql, std::span<const Param> params,
                                            Error* error) {
  std::optional<Result> r = Query(sql, params, error);
  if (!r) return std::nullopt;
  if (r->rows() == 0 || r->columns() == 0 || r->IsNull(0, 0)) {
    Set(error, Error{});
    return std::nullopt;
  }
  return r->Int(0, 0);
}

bool Connection::CopyIn(const char* copy_sql, std::string_view data, Error* error) {
  Settle();
  {
    ResultPtr r(PQexec(conn_, copy_sql));
    const ExecStatusType status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COPY_IN) {
      if (status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR || !r) {
        Set(error, ResultError(conn_, r.get(), ""));
      } else {
        r.reset();
        DrainResults(conn_, "");
        Set(error, Error{"", fmt::format("not a COPY FROM STDIN: {}", copy_sql), ""});
      }
      return false;
    }
  }
  constexpr size_t kChunk = size_t{1} << 20;
  std::optional<Error> send_failure;
  for (size_t at = 0; at < data.size(); at += kChunk) {
    const size_t size = std::min(kChunk, data.size() - at);
    if (PQputCopyData(conn_, data.data() + at, static_cast<int>(size)) != 1) {
      send_failure = ConnectionError(conn_, "sending COPY data");
      break;
    }
  }
  if (!send_failure && PQputCopyEnd(conn_, nullptr) != 1) {
    send_failure = ConnectionError(conn_, "ending COPY");
  }
  // The server's verdict (a constraint violation, bad data) comes with the final result.
  std::optional<Error> failure = DrainResults(conn_, "");
  if (failure || send_failure) {
    Set(error, std::move(failure ? *failure : *send_failure));
    return false;
  }
  return true;
}

bool Connection::SetLockTimeout(std::chrono::milliseconds timeout, Error* error) {
  const int64_t ms = std::max<int64_t>(0, timeout.count());
  if (!Exec(fmt::format("SET lock_timeout = {}", ms), error)) return false;
  lock_timeout_ = std::chrono::milliseconds(ms);
  lock_timeout_set_ = true;
  return true;
}

// ----- COPY text format -----

void AppendCopyField(std::string* out, std::optional<std::string_view> value) {
  if (!value) {
    out->append("\\N\t");
    return;
  }
  out->reserve(out->size() + value->size() + 1);
  for (char ch : *value) {
    switch (ch) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      default:
        out->push_back(ch);
    }
  }
  out->push_back('\t');
}

void AppendCopyField(std::string* out, int64_t value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  (void)ec;
  out->append(digits, end);
  out->push_back('\t');
}

void AppendCopyBytes(std::string* out, std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + 2 * bytes.size() + 4);
  out->append("\\\\x");  // the bytea input "\x..." with its backslash escaped for COPY
  for (char ch : bytes) {
    const auto b = static_cast<unsigned char>(ch);
    out->push_back(kHex[b >> 4]);
    out->push_back(kHex[b & 0xf]);
  }
  out->push_back('\t');
}

void AppendCopyRowEnd(std::string* out) {
  // Escaped fields never end in a raw tab: the last one is the separator written after a field.
  if (!out->empty() && out->back() == '\t') {
    out->back() = '\n';
  } else {
    out->push_back('\n');
  }
}

}  // namespace wfp::host::pg
