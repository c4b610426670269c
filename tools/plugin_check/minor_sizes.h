// The size of each of the ABI's sized structs at each minor version of ABI major 1: what a host of
// that minor hands a plugin, and the least a plugin of that minor may hand the host. A struct that
// a minor grew has the offset of its first appended field as its size at the minors before.
//
// When a minor appends fields, add one entry to each struct it grew (the offset of its first new
// field at the old minor, sizeof at the new one) and extend every other struct's row with sizeof:
// the static_asserts below fail until every row has one entry per minor. tests/abi checks these
// rows against the frozen headers (tests/abi/frozen/1.<m>). A struct a minor does not have yet has
// size 0 there (wfp_metric_desc, new in 1.3; wfp_session_window, new in 1.4).
#ifndef WFP_TOOLS_PLUGIN_CHECK_MINOR_SIZES_H_
#define WFP_TOOLS_PLUGIN_CHECK_MINOR_SIZES_H_

#include <wfp/plugin_abi.h>

#include <array>
#include <cstddef>

namespace wfp::plugin_check {

inline constexpr int kMinors = WFP_ABI_VERSION_MINOR + 1;
using Sizes = std::array<size_t, kMinors>;

struct MinorSizes {
  Sizes host_api, store_api, request, response, route, schedule_info, session_info, new_session,
      new_attempt, schedule_pointer, plugin_v1, metric_desc, session_window;
};

inline constexpr MinorSizes kMinorSizes = {
    // 1.0, 1.1, 1.2, 1.3, 1.4
    .host_api = {offsetof(wfp_host_api, respond_append), offsetof(wfp_host_api, register_metric),
                 offsetof(wfp_host_api, register_metric), sizeof(wfp_host_api),
                 sizeof(wfp_host_api)},
    .store_api = {offsetof(wfp_store_api, begin_read),
                  offsetof(wfp_store_api, load_schedule_window),
                  offsetof(wfp_store_api, load_schedule_window),
                  offsetof(wfp_store_api, load_schedule_window), sizeof(wfp_store_api)},
    .request = {sizeof(wfp_request), sizeof(wfp_request), sizeof(wfp_request), sizeof(wfp_request),
                sizeof(wfp_request)},
    .response = {sizeof(wfp_response), sizeof(wfp_response), sizeof(wfp_response),
                 sizeof(wfp_response), sizeof(wfp_response)},
    .route = {offsetof(wfp_route, flags), offsetof(wfp_route, flags), sizeof(wfp_route),
              sizeof(wfp_route), sizeof(wfp_route)},
    .schedule_info = {sizeof(wfp_schedule_info), sizeof(wfp_schedule_info),
                      sizeof(wfp_schedule_info), sizeof(wfp_schedule_info),
                      sizeof(wfp_schedule_info)},
    .session_info = {sizeof(wfp_session_info), sizeof(wfp_session_info), sizeof(wfp_session_info),
                     sizeof(wfp_session_info), sizeof(wfp_session_info)},
    .new_session = {sizeof(wfp_new_session), sizeof(wfp_new_session), sizeof(wfp_new_session),
                    sizeof(wfp_new_session), sizeof(wfp_new_session)},
    .new_attempt = {sizeof(wfp_new_attempt), sizeof(wfp_new_attempt), sizeof(wfp_new_attempt),
                    sizeof(wfp_new_attempt), sizeof(wfp_new_attempt)},
    .schedule_pointer = {sizeof(wfp_schedule_pointer), sizeof(wfp_schedule_pointer),
                         sizeof(wfp_schedule_pointer), sizeof(wfp_schedule_pointer),
                         sizeof(wfp_schedule_pointer)},
    .plugin_v1 = {sizeof(wfp_plugin_v1), sizeof(wfp_plugin_v1), sizeof(wfp_plugin_v1),
                  sizeof(wfp_plugin_v1), sizeof(wfp_plugin_v1)},
    .metric_desc = {0, 0, 0, sizeof(wfp_metric_desc), sizeof(wfp_metric_desc)},
    .session_window = {0, 0, 0, 0, sizeof(wfp_session_window)},
};

// Every row has one entry per minor, and the latest is the header's sizeof.
static_assert(kMinorSizes.host_api.back() == sizeof(wfp_host_api));
static_assert(kMinorSizes.store_api.back() == sizeof(wfp_store_api));
static_assert(kMinorSizes.request.back() == sizeof(wfp_request));
static_assert(kMinorSizes.response.back() == sizeof(wfp_response));
static_assert(kMinorSizes.route.back() == sizeof(wfp_route));
static_assert(kMinorSizes.schedule_info.back() == sizeof(wfp_schedule_info));
static_assert(kMinorSizes.session_info.back() == sizeof(wfp_session_info));
static_assert(kMinorSizes.new_session.back() == sizeof(wfp_new_session));
static_assert(kMinorSizes.new_attempt.back() == sizeof(wfp_new_attempt));
static_assert(kMinorSizes.schedule_pointer.back() == sizeof(wfp_schedule_pointer));
static_assert(kMinorSizes.plugin_v1.back() == sizeof(wfp_plugin_v1));
static_assert(kMinorSizes.metric_desc.back() == sizeof(wfp_metric_desc));
static_assert(kMinorSizes.session_window.back() == sizeof(wfp_session_window));

}  // namespace wfp::plugin_check

#endif  // WFP_TOOLS_PLUGIN_CHECK_MINOR_SIZES_H_
