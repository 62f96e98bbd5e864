#pragma once
// The zygote: a loadgen-child that forks the children of one kind on request
// instead of loadgen spawning each. A fork of this small static process costs
// about 100 us; a posix_spawn (exec) of it about 300 us. 10,000 children: 1 s
// instead of 3.
//
// On fd 3, a socket: read a count n (a uint32), fork n children with
// CLONE_PARENT, and write for each its pid (or -errno), the nodes made and the
// first error of its tree (three int32s).

#include <sys/types.h>

#include "child_kinds.hpp"

namespace loadgen::child {

// Serves spawn requests until loadgen closes the socket, then exits. Each
// child runs `spec` and dies with `parent`; `parent_arg` is passed on to it.
[[noreturn]] void serve_zygote(const KindSpec& spec, pid_t parent, const char* parent_arg);

}  // namespace loadgen::child
