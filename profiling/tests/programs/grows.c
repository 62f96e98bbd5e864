/* grows BYTES TICK_MS: a daemon that keeps BYTES more every TICK_MS (a cache
 * that grows without bound), touched so they are resident, and frees it all
 * on SIGTERM before it exits 0: heaptrack's leak list would show nothing, a
 * check over rounds must still see it grow. BYTES 0: each tick allocates and
 * frees 64 KiB (busy, flat). Known answer: BYTES * 1000 / TICK_MS a second. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stopping;
static void on_term(int sig) { (void)sig; stopping = 1; }

static char **kept;
static size_t n_kept, cap_kept;

/* Not inlined: the allocation site a report must name. */
__attribute__((noinline)) static void keep_more(size_t bytes) {
  if (n_kept == cap_kept) {
    cap_kept = cap_kept ? 2 * cap_kept : 1024;
    kept = realloc(kept, cap_kept * sizeof *kept);
    if (!kept) abort();
  }
  char *p = malloc(bytes);
  if (!p) abort();
  memset(p, 0x5a, bytes);
  kept[n_kept++] = p;
}

__attribute__((noinline)) static void churn(void) {
  char *p = malloc(64 * 1024);
  if (!p) abort();
  memset(p, 1, 64 * 1024);
  free(p);
}

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  size_t bytes = strtoul(argv[1], 0, 10);
  long tick_ms = strtol(argv[2], 0, 10);
  struct sigaction sa = {0};
  sa.sa_handler = on_term;
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  struct timespec tick = {tick_ms / 1000, (tick_ms % 1000) * 1000000L};
  while (!stopping) {
    if (bytes) keep_more(bytes);
    else churn();
    nanosleep(&tick, 0);
  }
  for (size_t i = 0; i < n_kept; i++) free(kept[i]);
  free(kept);
  return 0;
}
