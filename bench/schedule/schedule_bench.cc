// Enumeration speed of the schedule engine: Step() from session to session, per kind and zone, and
// Next() on sparse patterns. The `sessions` counter is session times per second.
#include <benchmark/benchmark.h>

#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>

#include "schedule/schedule.h"

namespace {

using wfp::schedule::Instant;
using wfp::schedule::Schedule;

constexpr Instant k2016 = 1451606400;  // 2016-01-01T00:00:00Z

Schedule Make(const char* json, const char* tz) {
  auto r = Schedule::Parse(boost::json::parse(json), tz);
  if (auto* e = std::get_if<wfp::schedule::ParseError>(&r)) {
    std::fprintf(stderr, "%s: %s\n", json, e->message.c_str());
    std::abort();
  }
  return std::get<Schedule>(r);
}

// Walks Step() forward, restarting from 2016 every 3000 sessions so the walk stays in real years
// (and before the daily_start_end schedule ends).
void Enumerate(benchmark::State& state, const char* json, const char* tz) {
  Schedule s = Make(json, tz);
  Instant t = k2016;
  int n = 0;
  for (auto _ : state) {
    t = s.Step(t);
    benchmark::DoNotOptimize(t);
    if (++n == 3000) n = 0, t = k2016;
  }
  state.counters["sessions"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// A whole backfill's work per session: step, run time, last and next params.
void EnumerateWithParams(benchmark::State& state, const char* json, const char* tz) {
  Schedule s = Make(json, tz);
  Instant t = k2016;
  int n = 0;
  for (auto _ : state) {
    t = s.Step(t);
    benchmark::DoNotOptimize(s.RunTime(t));
    benchmark::DoNotOptimize(s.Last(t));
    benchmark::DoNotOptimize(s.Step(t));
    if (++n == 3000) n = 0, t = k2016;
  }
  state.counters["sessions"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

// Next() from a fixed instant: cost of one search on a sparse pattern.
void NextOnce(benchmark::State& state, const char* json, const char* tz) {
  Schedule s = Make(json, tz);
  for (auto _ : state) benchmark::DoNotOptimize(s.Next(k2016));
  state.counters["nexts"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void FormatLocal(benchmark::State& state) {
  Schedule s = Make(R"({"daily>": "10:00:00"})", "Asia/Tokyo");
  for (auto _ : state) benchmark::DoNotOptimize(s.FormatLocal(k2016));
}

BENCHMARK_CAPTURE(Enumerate, daily_utc, R"({"daily>": "10:00:00"})", "UTC");
BENCHMARK_CAPTURE(Enumerate, daily_new_york, R"({"daily>": "10:00:00"})", "America/New_York");
BENCHMARK_CAPTURE(Enumerate, hourly_lord_howe, R"({"hourly>": "15:00"})", "Australia/Lord_Howe");
BENCHMARK_CAPTURE(Enumerate, weekly_tokyo, R"({"weekly>": "Wed,17:15:00"})", "Asia/Tokyo");
BENCHMARK_CAPTURE(Enumerate, monthly_berlin, R"({"monthly>": "31,12:00:00"})", "Europe/Berlin");
BENCHMARK_CAPTURE(Enumerate, minutes_interval_utc, R"({"minutes_interval>": 7})", "UTC");
BENCHMARK_CAPTURE(Enumerate, minutes_interval_sydney, R"({"minutes_interval>": 15})",
                  "Australia/Sydney");
BENCHMARK_CAPTURE(Enumerate, cron_workdays, R"({"cron>": "30 9 * * mon-fri|0 12 L * *"})",
                  "Europe/London");
BENCHMARK_CAPTURE(Enumerate, seconds_interval, R"({"seconds_interval>": 30})", "UTC");
BENCHMARK_CAPTURE(Enumerate, daily_start_end,
                  R"({"daily>": "10:00:00", "start": "2016-01-01", "end": "2030-12-31"})",
                  "America/Los_Angeles");
BENCHMARK_CAPTURE(EnumerateWithParams, daily_new_york, R"({"daily>": "10:00:00"})",
                  "America/New_York");
BENCHMARK_CAPTURE(EnumerateWithParams, minutes_interval_utc, R"({"minutes_interval>": 7})", "UTC");
BENCHMARK_CAPTURE(NextOnce, leap_day, R"({"cron>": "0 0 29 2 *"})", "UTC");
BENCHMARK_CAPTURE(NextOnce, friday_13th, R"({"cron>": "0 0 13 * fri"})", "America/New_York");
BENCHMARK_CAPTURE(NextOnce, never_matches, R"({"cron>": "0 0 30 2 *"})", "UTC");
BENCHMARK(FormatLocal);

}  // namespace

BENCHMARK_MAIN();
