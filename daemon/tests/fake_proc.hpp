#pragma once
// A directory laid out like /proc, with files we write ourselves: lets tests
// make any content (hostile comms, vanished processes, reused pids) at will.

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace procmond::testing {

struct FakeProcess {
  int pid = 100;
  std::string comm = "proc";
  unsigned long start_time = 1000;
  std::vector<std::string> cmdline = {"/bin/proc"};
  unsigned uid = 1000;
  std::string exe = "/bin/proc";
  unsigned long rss_pages = 10;
  unsigned long arg_start = 0;  // stat field 48: one of the exec signature's addresses
};

class FakeProc {
 public:
  FakeProc() {
    std::string templ = (std::filesystem::temp_directory_path() / "fakeproc.XXXXXX").string();
    root_ = ::mkdtemp(templ.data());
    // Entries that are not processes, as in the real /proc.
    std::filesystem::create_directory(root_ / "sys");
    std::filesystem::create_directory_symlink(root_ / "100", root_ / "self");
  }
  ~FakeProc() { std::filesystem::remove_all(root_); }
  FakeProc(const FakeProc&) = delete;
  FakeProc& operator=(const FakeProc&) = delete;

  const std::filesystem::path& root() const { return root_; }

  void add(const FakeProcess& p) {
    auto dir = root_ / std::to_string(p.pid);
    std::filesystem::create_directories(dir);
    write_stat(p);
    std::string cmd;
    for (const auto& a : p.cmdline) cmd += a + '\0';
    std::ofstream(dir / "cmdline", std::ios::binary) << cmd;
    std::ofstream(dir / "status") << "Name:\t" << p.comm << "\nState:\tS (sleeping)\nUid:\t"
                                  << p.uid << '\t' << p.uid << '\t' << p.uid << '\t' << p.uid
                                  << "\nGid:\t0\t0\t0\t0\n";
    std::filesystem::remove(dir / "exe");
    if (!p.exe.empty()) std::filesystem::create_symlink(p.exe, dir / "exe");
  }

  // Rewrites stat in place (same inode), as a held fd would see it.
  void write_stat(const FakeProcess& p) {
    std::ofstream(root_ / std::to_string(p.pid) / "stat", std::ios::trunc)
        << p.pid << " (" << p.comm << ") S 1 " << p.pid << ' ' << p.pid
        << " 0 -1 4194304 0 0 0 0 5 6 0 0 20 0 1 0 " << p.start_time << " 4096000 " << p.rss_pages
        << " 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 " << p.arg_start
        << " 0 0 0 0\n";
  }

  void remove(int pid) { std::filesystem::remove_all(root_ / std::to_string(pid)); }

 private:
  std::filesystem::path root_;
};

}  // namespace procmond::testing
