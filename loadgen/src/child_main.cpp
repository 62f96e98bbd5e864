// loadgen-child: the process loadgen starts for every kind but the fast sleep
// path. Small and static, so that posix_spawn of it is cheap. This file reads
// the arguments; the kinds are in child_kinds, the zygote in zygote_server.
//
//   loadgen-child sleep                  idle until killed
//   loadgen-child cpu SHARE              burn SHARE of one core (0..1)
//   loadgen-child mem BYTES              touch BYTES of private memory, then idle
//   loadgen-child tree DEPTH FANOUT      fork FANOUT children, each a tree of DEPTH-1;
//                                        with fd 3 open, write there the nodes made
//                                        and the first fork error (two int32s)
//   loadgen-child exec                   after 100 ms, re-exec as "loadgen-execd" (a
//                                        monitor sees the comm and cmdline change)
//   loadgen-child zygote KIND [ARGS]     on fd 3, a socket: read a count n, fork n
//                                        children of KIND with CLONE_PARENT (so they
//                                        are loadgen's children), write for each its
//                                        pid (or -errno), nodes made and the first
//                                        error of its tree (three int32s)
// Each ends with --parent=PID: it dies with that parent (PR_SET_PDEATHSIG).

#include <fcntl.h>
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "child_kinds.hpp"
#include "zygote_server.hpp"

namespace {

[[noreturn]] void usage() {
  std::fputs(
      "usage: loadgen-child [zygote] sleep|cpu SHARE|mem BYTES|tree DEPTH FANOUT|exec "
      "--parent=PID\n",
      stderr);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace loadgen::child;
  if (argc < 3 || std::strncmp(argv[argc - 1], "--parent=", 9) != 0) usage();
  char* end = nullptr;
  long parent = std::strtol(argv[argc - 1] + 9, &end, 10);
  if (*end != '\0' || parent <= 0) usage();
  die_with(static_cast<pid_t>(parent));
  // After the exec stage the comm is "exe"; give it a name a monitor can tell.
  if (std::strcmp(argv[0], "loadgen-execd") == 0) ::prctl(PR_SET_NAME, "loadgen-execd");

  const bool is_zygote = std::strcmp(argv[1], "zygote") == 0;
  char** kind_args = argv + (is_zygote ? 2 : 1);
  const int nargs = static_cast<int>(argv + argc - 1 - kind_args);  // the kind and its arguments
  KindSpec spec{};
  if (nargs < 1 || !parse_kind(nargs, kind_args, spec)) usage();
  if (is_zygote) serve_zygote(spec, static_cast<pid_t>(parent), argv[argc - 1]);
  // loadgen leaves fd 3 open for a tree's report when it wants one.
  const bool report = spec.kind == KindSpec::kTree && ::fcntl(3, F_GETFD) != -1;
  run_kind(spec, argv[argc - 1], report ? 3 : -1);
}
