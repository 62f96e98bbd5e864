#pragma once
// Drives tools_probe.py as a coprocess over two pipes: one request, one timed
// answer. Killed and reaped on destruction.

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "procmon/unique_fd.hpp"

namespace procmond::bench {

class ToolProbe {
 public:
  ToolProbe(const std::string& python, const std::string& script);
  ~ToolProbe();
  ToolProbe(const ToolProbe&) = delete;
  ToolProbe& operator=(const ToolProbe&) = delete;

  struct Timing {
    std::uint64_t ns;
    std::uint64_t count;
  };
  // Sends "psutil" or "ps"; nullopt if the probe failed or died.
  std::optional<Timing> time(const std::string& tool);

 private:
  pid_t pid_ = -1;
  procmon::UniqueFd to_child_;
  procmon::UniqueFd from_child_;
  std::string pending_;
};

}  // namespace procmond::bench
