// The command-line parser of every wfp-host command (the backfill client too): `--name VALUE`,
// `--name=VALUE`, flags, repeated options, positionals anywhere, and `--` to end the options. Pure;
// no I/O.
#ifndef WFP_HOST_STUB_CLI_CLI_ARGS_H_
#define WFP_HOST_STUB_CLI_CLI_ARGS_H_

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wfp::host {

struct OptionSpec {
  std::string name;  // without the dashes: "db"
  bool takes_value = true;
  bool repeated = false;  // may be given several times
};

class Args {
 public:
  // Parses args[0..]. An invalid-argument Status ("unknown option --x", "--db needs a value",
  // "--db given twice") on a bad command line; `unknown_hint` is appended to the unknown-option
  // message (`backfill` says " (see --help)").
  Status Parse(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
               std::string_view unknown_hint = {});

  bool Has(std::string_view name) const;
  // The value of a single-valued option, or nullptr.
  const std::string* Get(std::string_view name) const;
  // Every value of a (repeated) option, in order.
  std::vector<std::string> All(std::string_view name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }

 private:
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
  std::vector<std::string> positionals_;
};

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_CLI_CLI_ARGS_H_
