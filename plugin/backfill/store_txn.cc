#include "backfill/store_txn.h"

#include <wfp/abi_struct.h>

#include <string>
#include <utility>

#include "backfill/plugin_state.h"

namespace wfp::backfill {

int32_t CollectSession(void* user_data, const wfp_session_info* given) {
  auto* out = static_cast<Sessions*>(user_data);
  try {
    const wfp_session_info copy = abi::ReadStruct(given);
    const wfp_session_info* info = &copy;
    if (!WFP_HAS_FIELD(wfp_session_info, info, attempt_count)) {
      out->failed = true;
      return 1;
    }
    ExistingSession s;
    s.id = info->session_id;
    s.uuid = std::string(View(info->uuid));
    s.session_time = info->session_time;
    s.attempts.reserve(info->attempt_count);
    for (size_t i = 0; i < info->attempt_count; ++i) {
      const wfp_attempt_ref& a = info->attempts[i];
      ExistingAttempt attempt;
      if (a.name.data) attempt.name = std::string(View(a.name));
      attempt.index = a.index;
      s.attempts.push_back(std::move(attempt));
    }
    out->list.push_back(std::move(s));
    return 0;
  } catch (...) {
    out->failed = true;  // stopping alone would leave the plan built on a partial list
    return 1;
  }
}

}  // namespace wfp::backfill
