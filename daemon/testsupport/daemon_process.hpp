#pragma once
// A `procmond run` started with care by a C++ test or benchmark: in a fresh
// temporary directory (its socket and data), its output to a log file there,
// ready once its socket answers a status request, and stopped on scope exit:
// SIGTERM, waited for (SIGKILL after 10 s), the directory removed. Boost.Process
// starts the one child; signals go to its pid, which we started.

#include <boost/process/child.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace procmond::testsupport {

class DaemonProcess {
 public:
  // `args` follow `procmond run --socket S --data-dir D`.
  explicit DaemonProcess(std::vector<std::string> args,
                         const std::string& procmond_bin = PROCMOND_BIN);
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess&) = delete;
  DaemonProcess& operator=(const DaemonProcess&) = delete;

  const std::filesystem::path& socket() const { return socket_; }
  const std::filesystem::path& dir() const { return dir_; }
  int pid() const { return static_cast<int>(child_.id()); }
  nlohmann::json status() const;
  // SIGTERM and the exit status (or -signal).
  int stop();
  std::string log() const;

 private:
  std::filesystem::path dir_, socket_;
  boost::process::child child_;
};

}  // namespace procmond::testsupport
