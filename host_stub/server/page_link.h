// Links to the backfill page (GET /ui/backfill, served by the backfill plugin) that fill its form
// and run the dry run at once: the fragment carries the key and the request's fields, so none of
// it is sent to the server with the page itself. `wfp-host demo` and `wfp-host backfill --dry-run`
// print one.
#ifndef WFP_HOST_STUB_SERVER_PAGE_LINK_H_
#define WFP_HOST_STUB_SERVER_PAGE_LINK_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace wfp::host {

inline constexpr std::string_view kBackfillPagePath = "/ui/backfill";

struct PageLinkFields {
  std::string api_key;  // empty: left out (the page then asks for one)
  std::string schedule_id;
  std::string from_time;  // as sent: ISO-8601 with an offset; empty for none
  std::optional<std::string> attempt_name;
  std::optional<uint64_t> count;
  bool skip_existing = false;
  bool advance = false;
};

// "<server>/ui/backfill#[apiKey=...&]schedule=ID[&from=TIME][&name=...][&count=N][&skipExisting=1]
// [&advance=1]", each value percent-encoded (a "+" in an offset stays a "+"). `server` is
// "http://host:port", with or without a trailing "/".
std::string BackfillPageLink(std::string_view server, const PageLinkFields& fields);

// Percent-encodes all but A-Z a-z 0-9 - . _ ~ and ':'.
std::string PercentEncode(std::string_view s);

}  // namespace wfp::host

#endif  // WFP_HOST_STUB_SERVER_PAGE_LINK_H_
