/* A heap with known answers, for heaptrack.sh's tests (test_heaptrack.py
 * holds the same figures):
 *   peak      64 MiB (64 blocks of 1 MiB, all live at once, touched, freed)
 *   leaked    1,000,000 bytes (10 blocks of 100,000 never freed, from leak_blocks)
 *   temporary 1,000 (each freed before the next allocation: heaptrack's meaning)
 *   calls     64 + 10 + 1,000 = 1,074 allocations
 * Nothing else allocates before the peak (no stdio), so the peak is the 64 MiB
 * alone. */
#include <stdlib.h>
#include <string.h>

enum {
  PEAK_BLOCKS = 64, /* of 1 MiB on average: 64 MiB */
  PEAK_BLOCK = 1 << 20,
  PEAK_SKEW = 8,
  LEAK_BLOCKS = 10,
  LEAK_BLOCK = 100000,
  TEMP_ALLOCS = 1000,
  TEMP_SIZE = 64,
};

/* Stores through it keep the compiler from dropping an allocation. */
void* volatile sink;

static char* must_malloc(size_t size) {
  char* p = malloc(size);
  if (!p) abort();
  return p;
}

/* heaptrack 1.4 calls a free temporary when the block freed has the size and
 * stack of the last allocation (it does not compare addresses): blocks of one
 * size would make the first free below temporary. So even blocks are 8 bytes
 * short of 1 MiB and odd ones 8 bytes over (the sum stays 64 MiB), and the
 * first one freed (even) differs from the last allocated (odd). */
__attribute__((noinline)) void peak_blocks(void) {
  char* blocks[PEAK_BLOCKS];
  for (int i = 0; i < PEAK_BLOCKS; i++) {
    size_t size = i % 2 ? PEAK_BLOCK + PEAK_SKEW : PEAK_BLOCK - PEAK_SKEW;
    blocks[i] = must_malloc(size);
    memset(blocks[i], 1, size); /* resident, so RSS sees it too */
  }
  for (int i = 0; i < PEAK_BLOCKS; i++) free(blocks[i]);
}

__attribute__((noinline)) void leak_blocks(void) {
  for (int i = 0; i < LEAK_BLOCKS; i++) {
    char* p = must_malloc(LEAK_BLOCK);
    memset(p, 2, LEAK_BLOCK);
    sink = p;
  }
}

__attribute__((noinline)) void temporary_allocations(void) {
  for (int i = 0; i < TEMP_ALLOCS; i++) {
    char* p = must_malloc(TEMP_SIZE);
    p[0] = (char)i;
    sink = p;
    free(p);
  }
}

int main(void) {
  peak_blocks();
  leak_blocks();
  temporary_allocations();
  return 0;
}
