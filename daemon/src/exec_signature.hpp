#pragma once
// A value that changes on every exec: a hash of where the program's code,
// stack, argv and environment lie (stat fields 26-28, 48-51). A new program
// maps new code; ASLR moves the stack and argv each exec, and a new argv of
// another length moves its end even without ASLR. A process does not move
// them otherwise (setproctitle writes within its argv).

#include <cstdint>

#include "procfs/stat.hpp"

namespace procmond {

// 0 when stat hides those fields (a process the reader may not ptrace, a
// kernel thread) or predates them: then the comm is the only exec signal.
inline std::uint64_t exec_signature(const procfs::StatFields& s) {
  const std::uint64_t fields[] = {s.start_code, s.end_code,  s.start_stack, s.arg_start,
                                  s.arg_end,    s.env_start, s.env_end};
  std::uint64_t h = 0;
  bool any = false;
  for (std::uint64_t v : fields) {
    any |= v != 0;
    // splitmix64's finaliser over a running sum: every field moves every bit.
    h += v + 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    h ^= h >> 31;
  }
  if (!any) return 0;
  return h ? h : 1;
}

}  // namespace procmond
