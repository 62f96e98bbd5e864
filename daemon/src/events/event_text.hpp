#pragma once
// The one-line human form of an Event, for `procmondctl events` without --json.

#include <string>

#include "events/event.hpp"

namespace procmond {

// "TIME #SEQ KIND pid=P ppid=P uid=U comm=C [changes=..|status=..] cmd=ARGV",
// no trailing newline. Whatever a process put in its comm or argv, the line
// holds no control character: newlines, escapes and other C0/C1 controls, a
// backslash and bytes that are not UTF-8 are written as \n, \t, \\ or \xNN;
// an argument with a space, a quote or nothing in it is double-quoted.
std::string format_event_line(const Event& event);

}  // namespace procmond
