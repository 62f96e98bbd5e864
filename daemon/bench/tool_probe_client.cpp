#include "tool_probe_client.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <system_error>
#include <vector>

extern char** environ;

namespace procmond::bench {

ToolProbe::ToolProbe(const std::string& python, const std::string& script) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");
  procmon::UniqueFd in_r(in[0]), out_w(out[1]);
  to_child_.reset(in[1]);
  from_child_.reset(out[0]);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, in_r.get(), 0);
  ::posix_spawn_file_actions_adddup2(&actions, out_w.get(), 1);
  std::vector<char*> argv{const_cast<char*>(python.c_str()), const_cast<char*>(script.c_str()),
                          nullptr};
  int rc = ::posix_spawn(&pid_, python.c_str(), &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "spawn " + python);
}

ToolProbe::~ToolProbe() {
  if (pid_ <= 0) return;
  to_child_.reset();  // EOF ends the probe's loop
  ::kill(pid_, SIGTERM);
  ::waitpid(pid_, nullptr, 0);
}

std::optional<ToolProbe::Timing> ToolProbe::time(const std::string& tool) {
  std::string request = tool + "\n";
  if (::write(to_child_.get(), request.data(), request.size()) !=
      static_cast<ssize_t>(request.size()))
    return std::nullopt;
  std::size_t eol;
  while ((eol = pending_.find('\n')) == std::string::npos) {
    char buf[256];
    ssize_t n = ::read(from_child_.get(), buf, sizeof buf);
    if (n <= 0) return std::nullopt;
    pending_.append(buf, static_cast<std::size_t>(n));
  }
  std::string line = pending_.substr(0, eol);
  pending_.erase(0, eol + 1);
  Timing t{};
  if (std::sscanf(line.c_str(), "%lu %lu", &t.ns, &t.count) != 2) return std::nullopt;
  return t;
}

}  // namespace procmond::bench
