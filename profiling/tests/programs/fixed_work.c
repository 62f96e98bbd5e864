/* A known instruction profile for callgrind's tests: work() is called
 * exactly CALLS times, each a dependent loop of LOOP steps, so its cost per
 * call is fixed and scales linearly with LOOP, and its total with CALLS.
 *   fixed_work CALLS LOOP */
#include <stdio.h>
#include <stdlib.h>

/* volatile: the compiler may neither fold the loop nor hoist it out of the
 * calls, so each call does LOOP steps. */
static volatile unsigned long sink;

unsigned long work(unsigned long loop) {
  unsigned long x = sink;
  for (unsigned long i = 0; i < loop; ++i) x = x * 6364136223846793005UL + 1442695040888963407UL;
  sink = x;
  return x;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: fixed_work CALLS LOOP\n");
    return 2;
  }
  unsigned long calls = strtoul(argv[1], NULL, 10), loop = strtoul(argv[2], NULL, 10);
  for (unsigned long k = 0; k < calls; ++k) work(loop);
  printf("%lu calls of %lu steps\n", calls, loop);
  return 0;
}
