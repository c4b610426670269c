#include "cli/cli_args.h"

namespace wfp::host {

Status Args::Parse(const std::vector<std::string>& args, const std::vector<OptionSpec>& specs,
                   std::string_view unknown_hint) {
  values_.clear();
  positionals_.clear();
  bool options_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (options_done || a.size() < 3 || a.compare(0, 2, "--") != 0) {
      if (!options_done && a == "--") {
        options_done = true;
        continue;
      }
      if (!options_done && a.size() > 1 && a[0] == '-' && a != "-" && a[1] != '{')
        return Status::InvalidArgument("unknown option " + a + std::string(unknown_hint));
      positionals_.push_back(a);
      continue;
    }
    std::string name = a.substr(2);
    std::string value;
    bool has_inline = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      has_inline = true;
    }
    const OptionSpec* spec = nullptr;
    for (const OptionSpec& s : specs)
      if (s.name == name) spec = &s;
    if (!spec)
      return Status::InvalidArgument("unknown option --" + name + std::string(unknown_hint));
    if (spec->takes_value) {
      if (!has_inline) {
        if (i + 1 >= args.size()) return Status::InvalidArgument("--" + name + " needs a value");
        value = args[++i];
      }
    } else if (has_inline) {
      return Status::InvalidArgument("--" + name + " takes no value");
    }
    auto& v = values_[name];
    if (!spec->repeated && !v.empty()) return Status::InvalidArgument("--" + name + " given twice");
    v.push_back(std::move(value));
  }
  return Status::Ok();
}

bool Args::Has(std::string_view name) const { return values_.find(name) != values_.end(); }

const std::string* Args::Get(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() || it->second.empty() ? nullptr : &it->second.front();
}

std::vector<std::string> Args::All(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>{} : it->second;
}

}  // namespace wfp::host
