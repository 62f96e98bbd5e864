// make_collector(): which collector `auto` chooses, and why. Run as root by
// ctest, and again as nobody (procmond_tests_as_nobody), where `auto` must
// fall back to /proc and say why.
#include <gtest/gtest.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "collector.hpp"

namespace procmond {
namespace {

TEST(CollectorFactory, ProcIsProc) {
  std::string why = "stale";
  auto c = make_collector({.kind = CollectorKind::kProc}, &why);
  EXPECT_STREQ(c->name(), "proc");
  EXPECT_TRUE(why.empty());
  EXPECT_TRUE(c->hidden().empty());
}

TEST(CollectorFactory, AutoUsesBpfWhereItLoadsElseProcSayingWhy) {
  std::string why;
  auto c = make_collector({.kind = CollectorKind::kAuto}, &why);
  const bool bpf_expected = PROCMOND_HAVE_BPF && ::geteuid() == 0;
  EXPECT_STREQ(c->name(), bpf_expected ? "bpf" : "proc") << why;
  if (bpf_expected) {
    EXPECT_TRUE(why.empty()) << why;
  } else {
    EXPECT_FALSE(why.empty());
    if (PROCMOND_HAVE_BPF) {
      EXPECT_NE(why.find("CAP_BPF"), std::string::npos) << why;
    }
  }
  EXPECT_GT(c->collect().processes.size(), 1u);
}

TEST(CollectorFactory, BpfWithoutTheRightIsAnErrorThatSaysWhy) {
  if (PROCMOND_HAVE_BPF && ::geteuid() == 0) GTEST_SKIP() << "root may load it";
  try {
    make_collector({.kind = CollectorKind::kBpf});
    FAIL() << "made a BPF collector without the right to";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("the BPF collector cannot be used: ", 0), 0u) << e.what();
  }
}

TEST(CollectorFactory, AnotherProcRootMeansTheProcCollector) {
  std::string why;
  auto c = make_collector({.kind = CollectorKind::kAuto, .proc_root = "/proc/self/.."}, &why);
  EXPECT_STREQ(c->name(), "proc");
  EXPECT_NE(why.find("not the tree at /proc/self/.."), std::string::npos) << why;
  EXPECT_THROW(make_collector({.kind = CollectorKind::kBpf, .proc_root = "/proc/self/.."}),
               std::runtime_error);
}

TEST(CollectorFactory, KindsParseAndPrint) {
  for (auto k : {CollectorKind::kAuto, CollectorKind::kBpf, CollectorKind::kProc})
    EXPECT_EQ(parse_collector_kind(to_string(k)), k);
  EXPECT_FALSE(parse_collector_kind("ebpf"));
  EXPECT_FALSE(parse_collector_kind(""));
}

}  // namespace
}  // namespace procmond
