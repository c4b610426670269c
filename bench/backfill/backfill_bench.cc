// Micro benchmarks of the route's pure core: enumerating candidates, planning them against existing
// sessions, and rendering the response. Figures are per session (items_per_second).
#include <benchmark/benchmark.h>

#include <boost/json/parse.hpp>

#include "backfill/planner.h"
#include "backfill/render.h"

namespace wfp::backfill {
namespace {

schedule::Schedule Compile(const char* definition, const char* zone) {
  return std::get<schedule::Schedule>(
      schedule::Schedule::Parse(boost::json::parse(definition), zone));
}

BackfillRequest Request(const char* body) {
  return std::get<BackfillRequest>(ParseBackfillRequest(body));
}

constexpr Instant k2024 = 1704067200;  // 2024-01-01T00:00:00Z

// N minutes of minutes_interval>: 1 ending at the pointer.
struct Fixture {
  explicit Fixture(int64_t n, int every_nth_exists)
      : schedule(Compile(R"({"minutes_interval>":1})", "Asia/Tokyo")),
        request(Request(
            R"({"fromTime":"2000-01-01T00:00:00Z","attemptName":"bench","dryRun":true,"skipExisting":true})")) {
    pointer = {k2024, k2024, std::nullopt};
    request.from_time->seconds = k2024 - n * 60;
    context.project_id = 1;
    context.workflow_name = "wf";
    context.pointer = pointer;
    if (every_nth_exists > 0) {
      for (int64_t i = 0; i < n; i += every_nth_exists)
        existing.push_back({i + 1,
                            "00000000-0000-4000-8000-000000000000",
                            k2024 - (n - i) * 60,
                            {{std::nullopt, 1}}});
    }
  }
  schedule::Schedule schedule;
  BackfillRequest request;
  SchedulePointer pointer;
  PlanContext context;
  std::vector<ExistingSession> existing;
};

void BM_EnumerateCandidates(benchmark::State& state) {
  Fixture f(state.range(0), 0);
  for (auto _ : state) {
    auto c = EnumerateCandidates(f.schedule, f.request, f.pointer, k2024, 2000000);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_EnumerateCandidates)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_BuildPlan(benchmark::State& state) {
  Fixture f(state.range(0), 10);  // one candidate in ten exists already
  auto candidates = std::get<std::vector<Instant>>(
      EnumerateCandidates(f.schedule, f.request, f.pointer, k2024, 2000000));
  for (auto _ : state) {
    auto plan = BuildPlan(f.schedule, f.context, f.request, candidates, f.existing, std::nullopt);
    benchmark::DoNotOptimize(plan);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_BuildPlan)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_RenderResponse(benchmark::State& state) {
  Fixture f(state.range(0), 0);
  auto candidates = std::get<std::vector<Instant>>(
      EnumerateCandidates(f.schedule, f.request, f.pointer, k2024, 2000000));
  Plan plan = std::get<Plan>(
      BuildPlan(f.schedule, f.context, f.request, candidates, f.existing, std::nullopt));
  plan.uuid_seed[0] = 1;
  plan.uuid_seed[1] = 2;
  for (auto& item : plan.items) item.attempt_id = 123456;
  ResponseContext rc;
  rc.schedule_id = 5;
  rc.project_id = 1;
  rc.project_name = "etl";
  rc.workflow_id = 11;
  rc.workflow_name = "wf";
  rc.attempt_name = "bench";
  rc.created_at = k2024;
  size_t bytes = 0;
  for (auto _ : state) {
    std::string out = RenderBackfillResponse(f.schedule, rc, plan);
    bytes = out.size();
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes_per_attempt"] = static_cast<double>(bytes) / state.range(0);
}
BENCHMARK(BM_RenderResponse)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace wfp::backfill

BENCHMARK_MAIN();
