#pragma once
// The loads a loadgen-child runs (sleep, cpu, mem, tree, exec): each checked
// from its arguments before any child is made, then run until killed. Part of
// the static loadgen-child alone: libc and nothing else.

#include <sys/types.h>

#include <cstdint>

namespace loadgen::child {

// A kind and its arguments, checked before any child is made.
struct KindSpec {
  enum { kSleep, kCpu, kMem, kTree, kExec } kind;
  double share = 0;
  unsigned long bytes = 0;
  int depth = 0, fanout = 0;
};

// What a tree node made: itself and its descendants, and the first reason a
// fork (or a pipe) failed below it, 0 when none did. Written as is on a pipe.
struct TreeReport {
  std::int32_t nodes = 1;
  std::int32_t error = 0;
};

// `args`: the kind and its arguments, `nargs` of them (at least one).
bool parse_kind(int nargs, char** args, KindSpec& spec);

// `parent_arg`: the --parent=PID argument, which an exec passes on.
// `report_fd`: where a tree root writes its TreeReport (-1: nowhere).
[[noreturn]] void run_kind(const KindSpec& spec, const char* parent_arg, int report_fd);

// Ties this process's life to `parent` (PR_SET_PDEATHSIG); exits at once if
// the parent is gone already.
void die_with(pid_t parent);

}  // namespace loadgen::child
