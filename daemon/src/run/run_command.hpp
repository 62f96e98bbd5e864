#pragma once
// `procmond run`: the daemon in the foreground, until SIGTERM or SIGINT.

#include <ostream>

#include "run_config.hpp"

namespace procmond {

// 0 after a clean stop; 1 when it could not start, 2 when
// PROCMOND_DELIBERATE_SLOWDOWN_NS is bad (either said in one line on `err`).
int run_daemon(const RunConfig& config, std::ostream& err);

}  // namespace procmond
