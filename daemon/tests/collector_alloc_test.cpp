// Proves the collector allocates nothing per process once its cache is warm.
// Its own binary: it replaces the global operator new to count calls.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "collector.hpp"
#include "events/process_table.hpp"
#include "fake_proc.hpp"
#include "forked_children.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

// GCC cannot see that every operator new here is malloc underneath.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}

namespace procmond {
namespace {

class AllocationFree : public ::testing::TestWithParam<StatMode> {};

INSTANTIATE_TEST_SUITE_P(Modes, AllocationFree,
                         ::testing::Values(StatMode::kPlain, StatMode::kHeld),
                         [](const auto& p) { return std::string(to_string(p.param)); });

TEST_P(AllocationFree, WarmCyclesOverAFixedTreeAllocateNothing) {
  testing::FakeProc fake;
  for (int pid = 1000; pid < 2000; ++pid) fake.add({.pid = pid});
  auto collector = make_collector({.proc_root = fake.root().string(), .mode = GetParam()});
  ASSERT_EQ(collector->collect().processes.size(), 1000u);  // warm-up: first sight
  long before = g_allocations.load();
  for (int i = 0; i < 10; ++i) ASSERT_EQ(collector->collect().processes.size(), 1000u);
  EXPECT_EQ(g_allocations.load() - before, 0);
}

TEST_P(AllocationFree, WarmCyclesOverTheRealProcAllocateNothing) {
  testing::ForkedChildren children;
  children.resize_paused(200);
  auto collector = make_collector({.mode = GetParam()});
  collector->collect();
  collector->collect();
  // Other processes on a shared machine may start between cycles, and a new
  // process is a first sight, which may allocate. Count only cycles that saw
  // no new process and no more processes than the vector already held.
  int clean_cycles = 0;
  for (int attempt = 0; attempt < 50 && clean_cycles < 5; ++attempt) {
    long before = g_allocations.load();
    const Snapshot& s = collector->collect();
    long allocated = g_allocations.load() - before;
    if (s.stats.first_sight != 0) continue;
    ++clean_cycles;
    EXPECT_EQ(allocated, 0) << "cycle " << s.stats.cycle << " over " << s.processes.size()
                            << " processes";
  }
  EXPECT_GE(clean_cycles, 5) << "the machine never held still for five cycles";
}

class NoReader : public ProcessReader {
 public:
  bool read(pid_t, ProcessSample&) override { return false; }
};

// The differ over the collector's unchanged cycles: a lookup per process, no
// allocation (its event vector keeps its capacity).
TEST(AllocationFreeDiffer, UnchangedCyclesAllocateNothing) {
  testing::FakeProc fake;
  for (int pid = 1000; pid < 2000; ++pid) fake.add({.pid = pid});
  auto collector = make_collector({.proc_root = fake.root().string()});
  NoReader reader;
  ProcessTable table(reader);
  std::vector<Event> events;
  table.baseline(collector->collect(), 0, events);
  events.clear();
  table.apply_snapshot(collector->collect(), 1, 0, events);
  ASSERT_TRUE(events.empty());
  long before = g_allocations.load();
  for (std::uint64_t t0 = 2; t0 < 12; ++t0) {
    const Snapshot& s = collector->collect();
    long collector_allocs = g_allocations.load() - before;
    table.apply_snapshot(s, t0, 0, events);
    ASSERT_TRUE(events.empty());
    EXPECT_EQ(g_allocations.load() - before - collector_allocs, 0) << "cycle " << t0;
    before = g_allocations.load();
  }
  EXPECT_EQ(table.size(), 1000u);
}

}  // namespace
}  // namespace procmond
