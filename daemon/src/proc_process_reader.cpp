#include "proc_process_reader.hpp"

#include <unistd.h>

#include "exec_signature.hpp"
#include "identity_read.hpp"
#include "procfs/stat.hpp"

namespace procmond {

ProcProcessReader::ProcProcessReader(const std::string& proc_root, std::size_t max_cmdline_bytes)
    : proc_fd_(procfs::open_proc_root(proc_root)), max_cmdline_(max_cmdline_bytes) {
  if (long ps = ::sysconf(_SC_PAGESIZE); ps > 0) page_size_ = static_cast<std::uint64_t>(ps);
}

bool ProcProcessReader::read_stat(pid_t pid, ProcessSample& out) {
  auto text = procfs::read_at(proc_fd_.get(), procfs::PidPath(pid, "stat").c_str(), buf_);
  if (!text || !procfs::parse_stat(*text, out.stat)) return false;
  out.rss_bytes = out.stat.rss_pages * page_size_;
  return true;
}

bool ProcProcessReader::read(pid_t pid, ProcessSample& out) {
  if (!read_stat(pid, out)) return false;
  out.identity.start_time = out.stat.start_time;
  out.identity.exec_signature = exec_signature(out.stat);
  out.identity.generation = 0;
  read_identity(proc_fd_.get(), pid, max_cmdline_, scratch_, buf_, out.identity);
  return true;
}

}  // namespace procmond
