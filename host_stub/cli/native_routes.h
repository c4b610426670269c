// The routes wfp-host answers itself, in Digdag's shapes: the caller's projects and schedules, read
// through the Store (SQLite or PostgreSQL), scoped to the API key's site like every route.
//
//   GET /api/projects[?name=NAME]                    {"projects": [{"id": "1", "name": "etl"},
//   ...]} GET /api/projects/{id}/schedules[?workflow=NAME] {"schedules": [S, ...]} GET
//   /api/schedules                               {"schedules": [S, ...]} GET /api/schedules/{id} S
//
// S = {"id", "project": {"id", "name"}, "workflow": {"id", "name"}, "nextRunTime" (UTC, Z),
//      "nextScheduleTime" (the workflow's zone, with its offset), "disabledAt" (UTC or null),
//      "timezone"}: ids are strings; lists are in id order. An id that is not a positive 32-bit
// integer, or names another site's project or schedule, is a 404.
#ifndef WFP_HOST_STUB_CLI_NATIVE_ROUTES_H_
#define WFP_HOST_STUB_CLI_NATIVE_ROUTES_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/host.h"

namespace wfp::host {

class Store;

// The routes above, reading `store` (which must outlive them).
std::vector<HostOptions::NativeRoute> NativeRoutes(Store* store);

// `t` (epoch seconds) in the zone named `timezone` (IANA, "UTC", or a fixed offset "+09:00"):
// "2026-12-02T09:00:00+09:00"; UTC is written "+00:00". An unknown zone is taken as UTC.
std::string FormatInZone(int64_t t, std::string_view timezone);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_CLI_NATIVE_ROUTES_H_
