/* A process that allocates over time, for heaptrack.sh --pid: every 10 ms
 * tick_allocate replaces one of 100 live blocks of 1,000 bytes, and every
 * 100 ms tick_leak leaks 100 bytes. Prints "ready" once running; ends by
 * itself after argv[1] seconds (default 60), so a test that fails to stop it
 * leaves nothing behind for long. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { RING = 100, BLOCK = 1000, LEAK = 100 };

static char* ring[RING];
void* volatile sink; /* keeps the leak from being optimised away */

__attribute__((noinline)) void tick_allocate(int i) {
  free(ring[i % RING]);
  ring[i % RING] = malloc(BLOCK);
  if (!ring[i % RING]) abort();
  memset(ring[i % RING], i, BLOCK);
}

__attribute__((noinline)) void tick_leak(void) {
  char* p = malloc(LEAK);
  if (!p) abort();
  p[0] = 1;
  sink = p;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 60;
  long ticks = (long)(seconds * 100);
  printf("ready\n");
  fflush(stdout);
  struct timespec tick = {0, 10 * 1000 * 1000};
  for (long i = 0; i < ticks; i++) {
    tick_allocate((int)i);
    if (i % 10 == 0) tick_leak();
    nanosleep(&tick, NULL);
  }
  return 0;
}
