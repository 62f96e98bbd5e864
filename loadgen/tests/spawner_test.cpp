// Each spawner makes real children of ours, in our process group, that behave
// as their kind asks and die with us; the test kills and reaps every one.
#include "spawner.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sys/time.h>

#include <chrono>
#include <thread>
#include <vector>

#include "proc_view.hpp"
#include "process_group.hpp"

namespace loadgen {
namespace {

using testing::view;

// Kills and reaps every pid, also when an assertion returned early.
struct Reaper {
  Spawner* spawner = nullptr;
  std::vector<pid_t> pids;
  ProcessGroup* group = nullptr;  // its anchor lives until killed here
  ~Reaper() {
    for (pid_t p : pids) ::kill(p, SIGKILL);
    for (pid_t p : pids) {
      int status;
      if (::waitpid(p, &status, 0) == p && spawner) spawner->reaped(p);
    }
    if (spawner) spawner->shutdown();
    if (group) group->kill_all();
    int status;
    pid_t p;
    while ((p = ::waitpid(-1, &status, 0)) > 0)
      if (group) group->reaped(p);
  }
};

void wait_for_comm(pid_t pid, const std::string& comm) {
  for (int i = 0; i < 500 && view(pid).comm != comm; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
}

TEST(CloneSpawner, ChildrenAreOursInOurGroupAndSleep) {
  CloneSpawner spawner(8);
  Reaper reaper{&spawner};
  for (int i = 0; i < 8; ++i) {
    SpawnResult r = spawner.spawn();
    ASSERT_GT(r.pid, 0) << r.error;
    reaper.pids.push_back(r.pid);
  }
  EXPECT_EQ(spawner.spawn().error, EAGAIN) << "8 stacks, 8 live children";
  for (pid_t p : reaper.pids) {
    auto v = view(p);
    EXPECT_EQ(v.ppid, ::getpid());
    EXPECT_EQ(v.pgrp, ::getpgrp());
  }
}

TEST(CloneSpawner, AReapedChildFreesItsStack) {
  CloneSpawner spawner(1);
  Reaper reaper{&spawner};
  SpawnResult a = spawner.spawn();
  ASSERT_GT(a.pid, 0);
  ::kill(a.pid, SIGKILL);
  int status;
  ASSERT_EQ(::waitpid(a.pid, &status, 0), a.pid);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  spawner.reaped(a.pid);
  SpawnResult b = spawner.spawn();
  ASSERT_GT(b.pid, 0) << b.error;
  reaper.pids.push_back(b.pid);
}

TEST(ZygoteSpawner, ChildrenAreOursNotTheZygotes) {
  ZygoteSpawner spawner(LOADGEN_CHILD, {"sleep"});
  Reaper reaper{&spawner};
  for (int i = 0; i < 20; ++i) {
    SpawnResult r = spawner.spawn();
    ASSERT_GT(r.pid, 0) << r.error;
    reaper.pids.push_back(r.pid);
  }
  for (pid_t p : reaper.pids) {
    auto v = view(p);
    EXPECT_EQ(v.ppid, ::getpid()) << "CLONE_PARENT makes the zygote's forks our children";
    EXPECT_EQ(v.pgrp, ::getpgrp());
    EXPECT_EQ(v.comm, "loadgen-child");
  }
}

TEST(ZygoteSpawner, ExecKindChangesItsName) {
  ZygoteSpawner spawner(LOADGEN_CHILD, {"exec"});
  Reaper reaper{&spawner};
  SpawnResult r = spawner.spawn();
  ASSERT_GT(r.pid, 0);
  reaper.pids.push_back(r.pid);
  wait_for_comm(r.pid, "loadgen-execd");
  EXPECT_EQ(view(r.pid).comm, "loadgen-execd");
  EXPECT_EQ(view(r.pid).ppid, ::getpid());
}

TEST(ZygoteSpawner, AFailedZygoteIsASpawnErrorNotAHang) {
  ZygoteSpawner spawner(LOADGEN_CHILD, {"no-such-kind"});  // the helper exits 2 on bad usage
  Reaper reaper{&spawner};
  SpawnResult r = spawner.spawn();
  EXPECT_LT(r.pid, 0);
  EXPECT_NE(r.error, 0);
}

// A signal without SA_RESTART (loadgen's SIGINT handler) while the zygote
// serves a batch: today's code took the EINTR of recv for a dead zygote, failed
// the rest of the batch and left the child just forked tracked by nobody.
extern "C" void count_alarm(int) {}

TEST(ZygoteSpawner, SignalsMidBatchLoseNoChild) {
  struct sigaction sa {
  }, old{};
  sa.sa_handler = count_alarm;  // no SA_RESTART: every call it lands in fails with EINTR
  sigemptyset(&sa.sa_mask);
  ASSERT_EQ(::sigaction(SIGALRM, &sa, &old), 0);
  itimerval every_200us{{0, 200}, {0, 200}}, off{};
  ZygoteSpawner spawner(LOADGEN_CHILD, {"sleep"});
  Reaper reaper{&spawner};
  ASSERT_EQ(::setitimer(ITIMER_REAL, &every_200us, nullptr), 0);
  std::size_t failed = 0;
  for (int batch = 0; batch < 4; ++batch)
    spawner.spawn_many(100, [&](const SpawnResult& r, double) {
      if (r.pid > 0) {
        reaper.pids.push_back(r.pid);
      } else {
        ++failed;
      }
    });
  ::setitimer(ITIMER_REAL, &off, nullptr);
  ::sigaction(SIGALRM, &old, nullptr);
  EXPECT_EQ(failed, 0u);
  EXPECT_EQ(reaper.pids.size(), 400u);
}

TEST(ProcessGroup, EverySpawnerPutsItsChildrenInTheGroupNotOurs) {
  ProcessGroup group;
  ASSERT_GT(group.id(), 0);
  ASSERT_NE(group.id(), ::getpgrp());
  EXPECT_EQ(view(group.id()).pgrp, group.id()) << "the anchor leads the group";
  CloneSpawner clone(4, group.id());
  ZygoteSpawner zygote(LOADGEN_CHILD, {"sleep"}, group.id());
  HelperSpawner helper(LOADGEN_CHILD, {"sleep"}, group.id());
  Reaper reaper{&zygote, {}, &group};
  for (Spawner* s : std::initializer_list<Spawner*>{&clone, &zygote, &helper}) {
    SpawnResult r = s->spawn();
    ASSERT_GT(r.pid, 0) << r.error;
    reaper.pids.push_back(r.pid);
    EXPECT_EQ(view(r.pid).pgrp, group.id());
    EXPECT_EQ(view(r.pid).ppid, ::getpid());
  }
}

TEST(ProcessGroup, KillAllReachesAMemberNobodyTracks) {
  pid_t untracked = -1;
  {
    ProcessGroup group;
    HelperSpawner helper(LOADGEN_CHILD, {"sleep"}, group.id());
    untracked = helper.spawn().pid;
    ASSERT_GT(untracked, 0);
    group.kill_all();
    int status;
    ASSERT_EQ(::waitpid(untracked, &status, 0), untracked);
    EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }  // the anchor is reaped here
  EXPECT_TRUE(testing::no_children_left());
}

TEST(HelperSpawner, SpawnsTheHelperAndItDiesWithItsParent) {
  // A middle process spawns a helper, then dies: the helper must follow it.
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);  // the orphan comes to us
  pid_t middle = ::fork();
  ASSERT_GE(middle, 0);
  if (middle == 0) {
    HelperSpawner spawner(LOADGEN_CHILD, {"sleep"});
    SpawnResult r = spawner.spawn();
    (void)!::write(pipefd[1], &r.pid, sizeof r.pid);
    ::pause();
  }
  pid_t helper = -1;
  ASSERT_EQ(::read(pipefd[0], &helper, sizeof helper), static_cast<ssize_t>(sizeof helper));
  ::close(pipefd[0]);
  ::close(pipefd[1]);
  ASSERT_GT(helper, 0);
  wait_for_comm(helper, "loadgen-child");
  EXPECT_EQ(view(helper).ppid, middle);
  ::kill(middle, SIGKILL);
  int status;
  ASSERT_EQ(::waitpid(middle, &status, 0), middle);
  ASSERT_EQ(::waitpid(helper, &status, 0), helper) << "the helper came to us and died";
  // SIGKILL from PR_SET_PDEATHSIG; or, when its parent died before it could
  // set that (a slow start, as under sanitizers), its own check exits 0.
  EXPECT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
              (WIFEXITED(status) && WEXITSTATUS(status) == 0))
      << "status " << status;
}

}  // namespace
}  // namespace loadgen
