// The table is for people: one line per process whatever a process put in its
// argv or comm (a CI run once met a cmdline with a newline and lost a row).
#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "snapshot_format.hpp"

namespace procmond {
namespace {

std::vector<std::string> table_lines(const Snapshot& snapshot) {
  std::ostringstream out;
  write_snapshot_table(snapshot, out);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

ProcessRecord record(pid_t pid, std::string_view comm, const ProcessIdentity* identity) {
  ProcessRecord p;
  p.stat.pid = pid;
  p.stat.ppid = 1;
  p.stat.state = 'S';
  p.stat.comm.assign(comm);
  p.identity = identity;
  return p;
}

TEST(SnapshotTable, ControlBytesInArgvAreEscapedAndTheRowStaysOneLine) {
  ProcessIdentity id;
  id.uid = 0;
  id.cmdline = {"/bin/sh", "-c", "sleep 1\n\techo \x1b[31mred"};
  Snapshot snapshot;
  snapshot.processes.push_back(record(42, "sh", &id));
  const auto lines = table_lines(snapshot);
  ASSERT_EQ(lines.size(), 3u);  // header, one row, the count
  EXPECT_NE(lines[1].find(R"(/bin/sh -c sleep 1\n\techo \x1b[31mred)"), std::string::npos)
      << lines[1];
  EXPECT_EQ(lines[2], "1 processes");
}

TEST(SnapshotTable, KernelThreadShowsItsCommInBracketsEscaped) {
  Snapshot snapshot;
  snapshot.processes.push_back(record(2, "kth\x7fread", nullptr));
  const auto lines = table_lines(snapshot);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_TRUE(lines[1].ends_with(R"([kth\x7fread])")) << lines[1];
  EXPECT_NE(lines[1].find("     ? "), std::string::npos) << "unknown uid shows as ?";
}

}  // namespace
}  // namespace procmond
