// Runs `procmond snapshot --json` as a user would, and checks what it says of
// our own children against what /proc says of them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "forked_children.hpp"
#include "procfs/quick_read.hpp"
#include "snapshot_format.hpp"

namespace procmond {
namespace {

std::string run(const std::string& command, int* exit_code) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  std::string out;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) out.append(buf, n);
  int status = ::pclose(pipe.release());
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

// What procfs reads of the pid now, to hold the daemon's JSON against.
procfs::StatFields stat_of(pid_t pid) {
  auto stat = procfs::read_stat(pid);
  return stat ? *stat : procfs::StatFields{};
}

TEST(SnapshotJson, MatchesProcForOurChildren) {
  testing::ForkedChildren children;
  std::vector<pid_t> pids;
  for (int i = 0; i < 5; ++i)
    pids.push_back(children.spawn_exec({"/bin/sleep", "3600." + std::to_string(i)}));
  // Wait until each child has exec'd (its comm is "sleep").
  for (pid_t pid : pids)
    for (int i = 0; i < 400 && stat_of(pid).comm.view() != "sleep"; ++i) ::usleep(5000);

  int code = -1;
  std::string out = run(std::string(PROCMOND_BIN) + " snapshot --json", &code);
  ASSERT_EQ(code, 0);
  nlohmann::json doc = nlohmann::json::parse(out);
  ASSERT_EQ(doc["count"].get<std::size_t>(), doc["processes"].size());
  EXPECT_GE(doc["count"].get<std::size_t>(), pids.size());

  for (std::size_t i = 0; i < pids.size(); ++i) {
    pid_t pid = pids[i];
    const nlohmann::json* rec = nullptr;
    for (const auto& p : doc["processes"])
      if (p["pid"] == pid) rec = &p;
    ASSERT_NE(rec, nullptr) << "pid " << pid;
    const procfs::StatFields f = stat_of(pid);
    const auto& p = *rec;
    EXPECT_EQ(p["comm"], "sleep");
    EXPECT_EQ(p["state"], std::string(1, f.state));
    EXPECT_EQ(p["ppid"], f.ppid);
    EXPECT_EQ(p["ppid"], ::getpid());
    EXPECT_EQ(p["utime"], f.utime);
    EXPECT_EQ(p["stime"], f.stime);
    EXPECT_EQ(p["threads"], f.threads);
    EXPECT_EQ(p["start_time"], f.start_time);
    EXPECT_EQ(p["vsize_bytes"], f.vsize_bytes);
    EXPECT_EQ(p["rss_bytes"], f.rss_pages * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE)));
    EXPECT_EQ(p["cmdline_truncated"], false);
    EXPECT_EQ(p["cmdline"], (std::vector<std::string>{"/bin/sleep", "3600." + std::to_string(i)}));
    EXPECT_EQ(p["exe"],
              std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe").string());
    EXPECT_EQ(p["uid"], ::getuid());
  }
}

TEST(SnapshotJson, SaysWhatItCouldNotReadAndCapsEachCmdline) {
  testing::ForkedChildren children;
  // A user may make argv megabytes long; sleep sums its arguments, so 3600
  // followed by 50,000 zeros (100 KB of argv) still sleeps an hour.
  std::vector<std::string> argv{"/bin/sleep", "3600"};
  argv.resize(50'002, "0");
  const pid_t pid = children.spawn_exec(argv);
  for (int i = 0; i < 400 && stat_of(pid).comm.view() != "sleep"; ++i) ::usleep(5000);

  int code = -1;
  nlohmann::json doc = nlohmann::json::parse(
      run(std::string(PROCMOND_BIN) + " snapshot --json --max-cmdline 1KiB", &code));
  ASSERT_EQ(code, 0);
  // The errors are there for a program to read, whatever their count now.
  ASSERT_TRUE(doc["errors"].is_object());
  for (const char* kind : {"vanished", "read", "parse", "identity"})
    EXPECT_TRUE(doc["errors"][kind].is_number_unsigned()) << kind;
  EXPECT_GE(doc["listed"].get<std::size_t>(), doc["count"].get<std::size_t>());
  const nlohmann::json* rec = nullptr;
  for (const auto& p : doc["processes"])
    if (p["pid"] == pid) rec = &p;
  ASSERT_NE(rec, nullptr);
  EXPECT_EQ((*rec)["cmdline_truncated"], true);
  std::size_t bytes = 0;
  for (const auto& arg : (*rec)["cmdline"]) bytes += arg.get<std::string>().size() + 1;
  EXPECT_LE(bytes, 1025u);
  EXPECT_EQ((*rec)["cmdline"][0], "/bin/sleep");
}

TEST(SnapshotJson, AnUnreadableProcExitsThreeWithOneLine) {
  int code = -1;
  std::string out =
      run(std::string(PROCMOND_BIN) + " snapshot --json --proc-root /no/such/proc 2>&1", &code);
  EXPECT_EQ(code, 3);
  EXPECT_NE(out.find("cannot read /no/such/proc"), std::string::npos) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
}

TEST(SnapshotJson, BadArgumentsExitTwoAndHelpExitsZero) {
  int code = -1;
  run(std::string(PROCMOND_BIN) + " snapshot --no-such-flag 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  run(std::string(PROCMOND_BIN) + " 2>/dev/null", &code);
  EXPECT_EQ(code, 2);
  std::string help = run(std::string(PROCMOND_BIN) + " snapshot --help", &code);
  EXPECT_EQ(code, 0);
  EXPECT_NE(help.find("--json"), std::string::npos);
}

TEST(SnapshotTable, ShowsOneRowPerProcessAndKernelThreadsInBrackets) {
  Snapshot s;
  ProcessIdentity id{.start_time = 5, .uid = 1000, .cmdline = {"/usr/bin/vim", "notes.txt"}};
  ProcessIdentity kernel{.start_time = 1, .uid = 0};
  ProcessRecord a{.rss_bytes = 4096 * 1024, .identity = &id};
  a.stat.pid = 4242;
  a.stat.state = 'S';
  a.stat.comm.assign("vim");
  ProcessRecord k{.identity = &kernel};
  k.stat.pid = 2;
  k.stat.state = 'S';
  k.stat.comm.assign("kthreadd");
  s.processes = {a, k};
  std::ostringstream out;
  write_snapshot_table(s, out);
  std::string text = out.str();
  EXPECT_NE(text.find("COMMAND"), std::string::npos);
  EXPECT_NE(text.find("4242"), std::string::npos);
  EXPECT_NE(text.find("/usr/bin/vim notes.txt"), std::string::npos);
  EXPECT_NE(text.find("4096"), std::string::npos);  // RSS in KiB
  EXPECT_NE(text.find("[kthreadd]"), std::string::npos);
  EXPECT_NE(text.find("2 processes"), std::string::npos);
}

}  // namespace
}  // namespace procmond
