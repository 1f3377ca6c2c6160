// report.html for `fsfault repro`: one self-contained page (inline CSS and SVG; no script, no
// network) with the flood's timeline and the summary table.
#pragma once

#include "runner/repro/flood_timeline.h"

#include <string>

namespace fsfault::vm {

// Text for HTML content and attribute values: & < > " ' escaped, control characters but tab
// shown as U+FFFD. Everything from the guest, the kernel or the fault log goes through it.
std::string html_escape(const std::string& text);

// The page: `title` and `verdict` as a heading, one SVG lane per mark kind (each mark an element of
// class "mark mark-<kind>" holding a <title> with its text; FS_ERROR events labelled with their
// error_count), the clocks used, and `report` (flood_report's lines) as a two-column table.
std::string flood_html(const std::string& title, const std::string& verdict, const FloodTimeline& tl,
                       const std::string& report);

}  // namespace fsfault::vm
