#pragma once
// Renders a snapshot: JSON for programs, a table for people.

#include <nlohmann/json.hpp>
#include <ostream>

#include "process_record.hpp"

namespace procmond {

// {"count": N, "processes": [{"pid", "ppid", "uid", "state", "comm", "cmdline",
//   "exe", "start_time", "utime", "stime", "rss_bytes", "vsize_bytes", "threads"}]}
// Times are clock ticks (USER_HZ); uid is null when it could not be read.
// comm and cmdline are bytes, not always UTF-8: dump with error_handler_t::replace.
nlohmann::json snapshot_to_json(const Snapshot& snapshot);

void write_snapshot_table(const Snapshot& snapshot, std::ostream& out);

}  // namespace procmond
