// PROCMOND_DELIBERATE_LEAK_BYTES: its parsing, and that a collector with it
// really leaks that much each cycle, resident (profiling/leakcheck.sh relies
// on it to prove it catches a daemon that grows).

#include "deliberate_leak.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "collector.hpp"
#include "procfs/read.hpp"
#include "procfs/statm.hpp"

// Built with -fsanitize=address (PROCMOND_SANITIZE), by GCC's or Clang's word.
#if defined(__SANITIZE_ADDRESS__)
#define PROCMOND_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROCMOND_TEST_UNDER_ASAN 1
#endif
#endif
#ifndef PROCMOND_TEST_UNDER_ASAN
#define PROCMOND_TEST_UNDER_ASAN 0
#endif
#if PROCMOND_TEST_UNDER_ASAN
#include <sanitizer/lsan_interface.h>
#endif

namespace procmond {
namespace {

// Sets the variable for a scope (nullptr: unsets it), then puts back what was there.
class ScopedLeakVar {
 public:
  explicit ScopedLeakVar(const char* value) {
    if (const char* old = std::getenv(kDeliberateLeakVar)) old_ = old;
    set(value);
  }
  ~ScopedLeakVar() { set(old_ ? old_->c_str() : nullptr); }
  ScopedLeakVar(const ScopedLeakVar&) = delete;
  ScopedLeakVar& operator=(const ScopedLeakVar&) = delete;

 private:
  static void set(const char* value) {
    if (value)
      ::setenv(kDeliberateLeakVar, value, 1);
    else
      ::unsetenv(kDeliberateLeakVar);
  }
  std::optional<std::string> old_;
};

TEST(DeliberateLeak, UnsetEmptyAndZeroAreNone) {
  EXPECT_EQ(deliberate_leak_bytes(nullptr), 0u);
  EXPECT_EQ(deliberate_leak_bytes(""), 0u);
  EXPECT_EQ(deliberate_leak_bytes("0"), 0u);
  EXPECT_EQ(deliberate_leak_bytes("000"), 0u);
  EXPECT_EQ(deliberate_leak_bytes("0K"), 0u);
}

TEST(DeliberateLeak, DigitsAreBytesAndKMGAreUnitsOf1024) {
  EXPECT_EQ(deliberate_leak_bytes("1"), 1u);
  EXPECT_EQ(deliberate_leak_bytes("4096"), 4096u);
  EXPECT_EQ(deliberate_leak_bytes("256K"), 262144u);
  EXPECT_EQ(deliberate_leak_bytes("3M"), 3u << 20);
  EXPECT_EQ(deliberate_leak_bytes("1G"), std::size_t{1} << 30);
  EXPECT_EQ(deliberate_leak_bytes("1048576K"), std::size_t{1} << 30);
}

TEST(DeliberateLeak, AnythingElseIsRefusedNamingTheVariableAndTheValue) {
  for (const char* bad :
       {"-1", "-0", "+5", " 5", "5 ", "1.5", "1e3", "5B", "5k", "5KB", "5KiB", "K", "abc", "0x10",
        "2G", "1048577K", "1073741825", "99999999999999999999999", "18446744073709551616K"}) {
    try {
      deliberate_leak_bytes(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::invalid_argument& e) {  // BadDeliberateKnob is one
      const std::string what = e.what();
      EXPECT_NE(what.find("PROCMOND_DELIBERATE_LEAK_BYTES"), std::string::npos) << what;
      EXPECT_NE(what.find(std::string("\"") + bad + "\""), std::string::npos) << what;
    }
  }
}

TEST(DeliberateLeak, ABadValueRefusesTheCollector) {
  ScopedLeakVar knob("lots");
  EXPECT_THROW(make_collector(), BadDeliberateKnob);
}

std::uint64_t resident_bytes() {
  procfs::SmallFileBuffer buf;
  auto text = procfs::read_at(AT_FDCWD, "/proc/self/statm", buf);
  auto statm = text ? procfs::parse_statm(*text) : std::nullopt;
  if (!statm) ADD_FAILURE() << "cannot read /proc/self/statm";
  return statm ? statm->resident_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)) : 0;
}

std::uint64_t heap_in_use() {
  const auto m = ::mallinfo2();
  return m.uordblks + m.hblkhd;  // small chunks in use, and mmapped ones
}

// AddressSanitizer's allocator replaces glibc's and answers mallinfo2 with
// zeros: under it only RSS can show the leak.
constexpr bool kMallinfoCounts = !PROCMOND_TEST_UNDER_ASAN;

// The knob's leak is the point: LeakSanitizer is told not to report what is
// allocated while one of these lives.
struct LeaksAllowed {
  LeaksAllowed() {
#if PROCMOND_TEST_UNDER_ASAN
    __lsan_disable();
#endif
  }
  ~LeaksAllowed() {
#if PROCMOND_TEST_UNDER_ASAN
    __lsan_enable();
#endif
  }
  LeaksAllowed(const LeaksAllowed&) = delete;
  LeaksAllowed& operator=(const LeaksAllowed&) = delete;
};

// Lower bounds only, which cannot flake: each cycle adds at least the knob to
// the heap in use and to RSS (the cycle's own allocations may add more, and
// memory is never given back to the kernel behind our back without swap;
// with swap, a leaked page could be swapped out, so RSS gets a 10 % margin).
TEST(DeliberateLeak, EachCycleLeaksTheKnobResident) {
  constexpr std::size_t kKnob = 4u << 20;
  constexpr int kCycles = 3;
  ScopedLeakVar knob("4M");
  const LeaksAllowed leaks_allowed;
  auto collector = make_collector();
  collector->collect();  // the first cycle fills the cache: not measured
  const std::uint64_t heap_before = heap_in_use(), rss_before = resident_bytes();
  for (int i = 0; i < kCycles; ++i) collector->collect();
  if (kMallinfoCounts) {
    EXPECT_GE(heap_in_use() - heap_before, kKnob * kCycles);
  }
  EXPECT_GE(resident_bytes() - rss_before, kKnob * kCycles * 9 / 10);
}

TEST(DeliberateLeak, WithoutTheKnobACycleLeaksNothingLikeIt) {
  if (!kMallinfoCounts) GTEST_SKIP() << "mallinfo2 reads 0 under AddressSanitizer";
  ScopedLeakVar knob(nullptr);
  auto collector = make_collector();
  collector->collect();
  collector->collect();
  const auto heap_before = static_cast<std::int64_t>(heap_in_use());
  for (int i = 0; i < 3; ++i) collector->collect();
  // Far under one leak of the test above: processes this machine started
  // meanwhile may cost the cache a little.
  EXPECT_LT(static_cast<std::int64_t>(heap_in_use()) - heap_before, std::int64_t{1} << 20);
}

}  // namespace
}  // namespace procmond
