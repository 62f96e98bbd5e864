// Runs `procmond snapshot --json` as a user would, and checks what it says of
// our own children against what /proc says of them.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "forked_children.hpp"
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

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// /proc/PID/stat split naively: fine for a comm without spaces ("sleep").
std::vector<std::string> stat_fields(pid_t pid) {
  std::istringstream in(slurp("/proc/" + std::to_string(pid) + "/stat"));
  std::vector<std::string> f;
  for (std::string w; in >> w;) f.push_back(w);
  return f;
}

TEST(SnapshotJson, MatchesProcForOurChildren) {
  testing::ForkedChildren children;
  std::vector<pid_t> pids;
  for (int i = 0; i < 5; ++i)
    pids.push_back(children.spawn_exec({"/bin/sleep", "3600." + std::to_string(i)}));
  // Wait until each child has exec'd (its comm is "sleep").
  for (pid_t pid : pids)
    for (int i = 0; i < 400 && stat_fields(pid).at(1) != "(sleep)"; ++i) ::usleep(5000);

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
    auto f = stat_fields(pid);  // proc(5): f[k-1] is field k
    const auto& p = *rec;
    EXPECT_EQ(p["comm"], "sleep");
    EXPECT_EQ(p["state"], f[2]);
    EXPECT_EQ(p["ppid"], std::stoi(f[3]));
    EXPECT_EQ(p["ppid"], ::getpid());
    EXPECT_EQ(p["utime"], std::stoull(f[13]));
    EXPECT_EQ(p["stime"], std::stoull(f[14]));
    EXPECT_EQ(p["threads"], std::stoull(f[19]));
    EXPECT_EQ(p["start_time"], std::stoull(f[21]));
    EXPECT_EQ(p["vsize_bytes"], std::stoull(f[22]));
    EXPECT_EQ(p["rss_bytes"],
              std::stoull(f[23]) * static_cast<unsigned long long>(::sysconf(_SC_PAGESIZE)));
    EXPECT_EQ(p["cmdline"], (std::vector<std::string>{"/bin/sleep", "3600." + std::to_string(i)}));
    EXPECT_EQ(p["exe"],
              std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe").string());
    EXPECT_EQ(p["uid"], ::getuid());
  }
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
