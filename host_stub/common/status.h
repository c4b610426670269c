// The host side's one error convention. A function of wfp-host's runtime, store, server, client or
// command line that can fail returns `Status` (nothing else to return) or `Result<T>` (a value or
// the Status that says why there is none), as LevelDB's `Status` does; no `bool` + `std::string*`
// error out-parameters and no `optional` + error out-parameter.
//
// A Status's code is the ABI's (`wfp_status`): the store answers plugins with it and the runtime
// maps it to HTTP, each in one place. The command line's exit code follows from where a Status
// fails, not from its code (cli/command.h: a bad command line exits 2, any other failure 1; an
// invalid fixture and an invalid flag are both invalid arguments). Its message is one line for
// a person, without a trailing period or newline, naming what failed ("store: cannot open 'x.db':
// unable to open database file").
//
// Thread-safety: values; a const Status or Result may be read from any thread.
#ifndef WFP_HOST_STUB_COMMON_STATUS_H_
#define WFP_HOST_STUB_COMMON_STATUS_H_

#include <wfp/plugin_abi.h>

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace wfp::host {

// The code's name for logs and messages: "ok", "invalid argument", "not found", "conflict", "busy",
// "wrong state", "internal", "unsupported"; "unknown" for anything else.
const char* StatusCodeName(wfp_status code);

// The code of a failure whose code was mapped from another's (an SQLite result code, a SQLSTATE),
// where the mapping may answer WFP_OK: then WFP_ERR_INTERNAL, since something did fail.
constexpr wfp_status FailureCode(wfp_status mapped) {
  return mapped == WFP_OK ? WFP_ERR_INTERNAL : mapped;
}

class [[nodiscard]] Status {
 public:
  // Success.
  Status() = default;
  // `code` must not be WFP_OK (use Status() for success).
  Status(wfp_status code, std::string message) : code_(code), message_(std::move(message)) {
    assert(code != WFP_OK);
  }

  static Status Ok() { return Status(); }
  // A failure with a mapped code (FailureCode: never success).
  static Status Failure(wfp_status mapped, std::string message) {
    return Status(FailureCode(mapped), std::move(message));
  }
  static Status InvalidArgument(std::string message) {
    return Status(WFP_ERR_INVALID_ARGUMENT, std::move(message));
  }
  static Status NotFound(std::string message) {
    return Status(WFP_ERR_NOT_FOUND, std::move(message));
  }
  static Status Conflict(std::string message) {
    return Status(WFP_ERR_CONFLICT, std::move(message));
  }
  static Status Busy(std::string message) { return Status(WFP_ERR_BUSY, std::move(message)); }
  static Status WrongState(std::string message) {
    return Status(WFP_ERR_STATE, std::move(message));
  }
  static Status Internal(std::string message) {
    return Status(WFP_ERR_INTERNAL, std::move(message));
  }
  static Status Unsupported(std::string message) {
    return Status(WFP_ERR_UNSUPPORTED, std::move(message));
  }

  bool ok() const { return code_ == WFP_OK; }
  explicit operator bool() const { return ok(); }
  wfp_status code() const { return code_; }
  // Empty for success.
  const std::string& message() const { return message_; }

  // The same failure with `context` in front of its message ("seed 'a.json': " + message).
  Status WithContext(std::string_view context) const {
    if (ok()) return *this;
    return Status(code_, std::string(context) + message_);
  }

 private:
  wfp_status code_ = WFP_OK;
  std::string message_;
};

// A value, or the Status saying why there is none. `Result<T> r = Status::NotFound("...")` and
// `Result<T> r = value` both work; check `ok()` before `value()`/`*`/`->`.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  Result(Status status) : v_(std::in_place_index<1>, std::move(status)) {  // NOLINT
    assert(!std::get<1>(v_).ok());
  }

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  // Status() when ok().
  Status status() const { return ok() ? Status() : std::get<1>(v_); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_COMMON_STATUS_H_
