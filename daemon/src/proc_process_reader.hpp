#pragma once
// The differ's ProcessReader over /proc: one process's stat, cmdline (capped),
// status uid and exe, read at once when the connector reports it.

#include <cstddef>
#include <string>

#include "collector.hpp"
#include "events/process_reader.hpp"
#include "procfs/read.hpp"
#include "procmon/unique_fd.hpp"

namespace procmond {

class ProcProcessReader final : public ProcessReader {
 public:
  // Throws std::system_error when the proc root cannot be opened.
  explicit ProcProcessReader(const std::string& proc_root = "/proc",
                             std::size_t max_cmdline_bytes = CollectorOptions::kDefaultMaxCmdline);
  bool read(pid_t pid, ProcessSample& out) override;
  bool read_stat(pid_t pid, ProcessSample& out) override;

 private:
  procmon::UniqueFd proc_fd_;
  std::size_t max_cmdline_;
  std::uint64_t page_size_ = 4096;
  std::string scratch_;
  procfs::SmallFileBuffer buf_{};
};

}  // namespace procmond
