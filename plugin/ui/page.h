// The backfill page (GET /ui/backfill): plugin/ui/backfill.html, compiled into the plugin at build
// time (plugin/ui/embed_page.cmake), so the plugin serves it without reading any file.
#ifndef WFP_PLUGIN_UI_PAGE_H_
#define WFP_PLUGIN_UI_PAGE_H_

#include <string_view>

namespace wfp::ui {

// The whole HTML document, UTF-8, with its script and style embedded. Immutable static data.
extern const std::string_view kBackfillPage;

}  // namespace wfp::ui

#endif  // WFP_PLUGIN_UI_PAGE_H_
