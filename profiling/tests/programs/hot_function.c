/* A program whose hottest function is known by construction: each round
 * calls burn_hot with four times the loop count of burn_cold, so burn_hot
 * takes about 80 % of the CPU time and burn_cold about 20 %, whatever the
 * machine. Both run the same loop, so the ratio is the loop counts' ratio.
 *
 *   hot_function [SECONDS]   burn for SECONDS (default 1; 0: until killed)
 *   hot_function -n ROUNDS   burn ROUNDS rounds (a fixed amount of work, to
 *                            time a profiler's cost)
 *
 * It prints the rounds, the calls, and the seconds and CPU seconds they took.
 *
 * Built by the tests with -O1 -fno-inline -fno-omit-frame-pointer: both
 * functions stay frames of their own under main. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* volatile: the compiler may neither drop the loop nor fold it to a formula */
static volatile unsigned long sink;

/* The same loop written out in each, not a shared helper: each function is
 * then the leaf of its own samples and owns their self time. */
#define SPIN(n) \
  for (unsigned long i = 0; i < (n); i++) sink += i ^ (sink >> 3)

static unsigned long calls;

/* A call makes its callers non-leaf: GCC gives a leaf function no frame even
 * with -fno-omit-frame-pointer, and a frame-pointer walk from inside one
 * skips its caller (main would vanish from the stacks). */
static void count_call(void) {
  calls++;
}

void burn_hot(unsigned long n) {
  SPIN(n);
  count_call();
}

void burn_cold(unsigned long n) {
  SPIN(n);
  count_call();
}

static double seconds_of(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double now(void) {
  return seconds_of(CLOCK_MONOTONIC);
}

int main(int argc, char** argv) {
  const unsigned long unit = 250000; /* about a millisecond of burn_cold */
  unsigned long rounds = 0;
  double start = now(), cpu_start = seconds_of(CLOCK_PROCESS_CPUTIME_ID);
  if (argc > 2 && strcmp(argv[1], "-n") == 0) {
    unsigned long n = strtoul(argv[2], NULL, 10);
    for (; rounds < n; rounds++) {
      burn_hot(4 * unit);
      burn_cold(unit);
    }
  } else {
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    double end = now() + seconds;
    /* The clock is read once a round: a negligible share beside the burn. */
    do {
      burn_hot(4 * unit);
      burn_cold(unit);
      rounds++;
    } while (seconds <= 0 || now() < end);
  }
  /* Its own time, without the start and end of a profiler around it; and its
   * CPU time, where a profiler's interrupts are charged. */
  printf("%lu rounds, %lu calls, %.3f s, %.3f s CPU\n", rounds, calls, now() - start,
         seconds_of(CLOCK_PROCESS_CPUTIME_ID) - cpu_start);
  return 0;
}
