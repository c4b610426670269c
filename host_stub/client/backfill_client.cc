// `wfp-host backfill`: builds the route's request from the command line, finds the schedule (and
// its time zone) on the server, sends the request and prints the answer as a table.
#include <fmt/format.h>

#include <boost/beast/http.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include "client/internal.h"
#include "server/page_link.h"

namespace wfp::host {
namespace {

using namespace client_detail;  // NOLINT: the client's own helpers

// The backfill page for the same request. The key goes into the link only when it was typed
// (--api-key); one from $WFP_API_KEY stays out of the output, and the page asks for it.
std::string PageLink(const BackfillArgs& args, const std::optional<std::string>& from_iso) {
  PageLinkFields f;
  if (args.api_key_given) f.api_key = args.api_key;
  f.schedule_id = args.schedule_id;
  f.from_time = from_iso.value_or("");
  f.attempt_name = args.name;
  if (args.count && *args.count >= 0) f.count = static_cast<uint64_t>(*args.count);
  f.skip_existing = args.skip_existing;
  f.advance = args.advance;
  return BackfillPageLink(args.server, f);
}

// The outcome of one step of the client: 0 to go on, else the exit status (message printed).
int Unreachable(const HttpUrl& url, const Exchange& answer) {
  std::fprintf(stderr, "error: %s %s: %s\n", answer.sent ? "no answer from" : "cannot reach",
               Where(url).c_str(), answer.error.c_str());
  return 2;
}

int ErrorAnswer(const Exchange& answer, std::string_view context = {}) {
  std::string message = InClientTerms(ErrorMessageOf(answer.status, answer.body));
  std::fprintf(stderr, "error: %d: %s%s\n", answer.status, std::string(context).c_str(),
               message.c_str());
  return 1;
}

// GET TARGET, expecting a 200 with JSON; fills *body. 0, or the exit status.
int FetchJson(const HttpUrl& url, const BackfillArgs& args, const std::string& target,
              std::string_view context, std::string* body) {
  Exchange answer = Send(url, MakeRequest(http::verb::get, url, args, target), args.timeout);
  if (!answer.reached) return Unreachable(url, answer);
  if (answer.status != 200) return ErrorAnswer(answer, context);
  *body = std::move(answer.body);
  return 0;
}

// The schedule the command line names, with its workflow's time zone (PROJECT WORKFLOW: looked
// up by name; --schedule: fetched only when the zone is needed). 0, or the exit status.
int FindSchedule(const HttpUrl& url, BackfillArgs* args, bool need_zone, std::string* zone) {
  std::string body;
  if (args->project.empty()) {
    if (!need_zone) return 0;
    const std::string context = fmt::format("schedule {}: ", args->schedule_id);
    if (int rc = FetchJson(url, *args, "/api/schedules/" + args->schedule_id, context, &body))
      return rc;
    std::string id;
    if (ScheduleOfAnswer(body, &id, zone)) return 0;
    std::fprintf(stderr, "error: the server's answer for schedule %s is not a schedule\n",
                 args->schedule_id.c_str());
    return 1;
  }
  if (int rc = FetchJson(url, *args, "/api/projects?name=" + PercentEncode(args->project),
                         "project lookup: ", &body))
    return rc;
  std::string project_id;
  if (!ProjectIdOfAnswer(body, &project_id)) {
    std::fprintf(stderr, "error: no project '%s' on %s for this API key\n", args->project.c_str(),
                 Where(url).c_str());
    return 1;
  }
  const std::string target = fmt::format("/api/projects/{}/schedules?workflow={}", project_id,
                                         PercentEncode(args->workflow));
  if (int rc = FetchJson(url, *args, target, "schedule lookup: ", &body)) return rc;
  if (!ScheduleOfAnswer(body, &args->schedule_id, zone)) {
    std::fprintf(stderr,
                 "error: workflow '%s' of project '%s' has no schedule (or no such workflow)\n",
                 args->workflow.c_str(), args->project.c_str());
    return 1;
  }
  return 0;
}

int PostBackfill(const HttpUrl& url, const BackfillArgs& args,
                 const std::optional<std::string>& from_iso) {
  auto req = MakeRequest(http::verb::post, url, args,
                         fmt::format("/api/schedules/{}/backfill", args.schedule_id));
  req.set(http::field::content_type, "application/json");
  if (args.if_match) req.set(http::field::if_match, *args.if_match);
  req.body() = BuildBackfillBody(args, from_iso);
  req.prepare_payload();
  Exchange answer = Send(url, std::move(req), args.timeout);
  if (!answer.reached) return Unreachable(url, answer);
  if (answer.status < 200 || answer.status > 299) return ErrorAnswer(answer);
  const Result<std::string> text = RenderBackfillResult(answer.body, args.dry_run);
  if (!text.ok()) {
    std::fprintf(stderr, "error: %d: %s\n", answer.status, text.status().message().c_str());
    return 1;
  }
  std::fputs(text->c_str(), stdout);
  if (args.dry_run && !answer.etag.empty())
    std::fprintf(stdout, "plan: %s (apply exactly this plan with --if-match '%s')\n",
                 answer.etag.c_str(), answer.etag.c_str());
  if (args.dry_run) std::fprintf(stdout, "see it: %s\n", PageLink(args, from_iso).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

int RunBackfillClient(int argc, char** argv) {
  BackfillArgs args;
  if (const Status parsed = ParseBackfillArgs(argc, argv, std::getenv("WFP_API_KEY"), &args);
      !parsed.ok()) {
    std::fprintf(stderr, "error: %s\n", parsed.message().c_str());
    return 1;
  }
  if (args.help) {
    std::fputs(BackfillUsage().c_str(), stdout);
    return 0;
  }
  const Result<HttpUrl> parsed_url = ParseHttpUrl(args.server);
  if (!parsed_url.ok()) {
    std::fprintf(stderr, "error: %s\n", parsed_url.status().message().c_str());
    return 1;
  }
  const HttpUrl& url = *parsed_url;
  // Check --from's form before asking the server anything (the zone comes later).
  if (args.from) {
    if (const Status checked = ConvertFromTime(*args.from, "UTC").status(); !checked.ok()) {
      std::fprintf(stderr, "error: %s\n", checked.message().c_str());
      return 1;
    }
  }
  const bool need_zone = args.from && FromTimeNeedsZone(*args.from) && !args.tz;
  std::string zone = args.tz.value_or("UTC");
  if (int rc = FindSchedule(url, &args, need_zone, &zone)) return rc;
  std::optional<std::string> from_iso;
  if (args.from) {
    Result<std::string> iso = ConvertFromTime(*args.from, zone);
    if (!iso.ok()) {
      std::fprintf(stderr, "error: %s\n", iso.status().message().c_str());
      return 1;
    }
    from_iso = std::move(*iso);
  }
  if (!args.name && !args.advance) {
    args.name = GenerateAttemptName();
    std::fprintf(stdout, "attempt name: %s (generated; give --name to choose one)\n",
                 args.name->c_str());
  }
  if (from_iso && need_zone)
    std::fprintf(stdout, "from: %s (%s read in the workflow's time zone, %s)\n", from_iso->c_str(),
                 args.from->c_str(), zone.c_str());
  return PostBackfill(url, args, from_iso);
}

}  // namespace wfp::host
