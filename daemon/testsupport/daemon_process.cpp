#include "daemon_process.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <boost/process/args.hpp>
#include <boost/process/io.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "ctl/client.hpp"

namespace bp = boost::process;

namespace procmond::testsupport {

namespace {
std::filesystem::path make_temp_dir() {
  char tmpl[] = "/tmp/procmond-daemon-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  return tmpl;
}
}  // namespace

DaemonProcess::DaemonProcess(std::vector<std::string> args, const std::string& procmond_bin)
    : dir_(make_temp_dir()), socket_(dir_ / "procmond.sock") {
  std::vector<std::string> argv{"run", "--socket", socket_.string(), "--data-dir",
                                (dir_ / "data").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  const std::string log = (dir_ / "procmond.log").string();
  child_ = bp::child(procmond_bin, bp::args(argv), bp::std_out > log, bp::std_err > log,
                     bp::std_in < bp::null);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    try {
      status();
      return;
    } catch (const std::exception&) {
      if (!child_.running() || std::chrono::steady_clock::now() > deadline) {
        std::string why = "procmond did not become ready: " + this->log();
        stop();
        std::filesystem::remove_all(dir_);
        throw std::runtime_error(why);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
}

DaemonProcess::~DaemonProcess() {
  stop();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

nlohmann::json DaemonProcess::status() const {
  return fetch_status(socket_);
}

int DaemonProcess::stop() {
  if (!child_.valid() || !child_.running()) {
    if (child_.valid() && child_.joinable()) child_.wait();
    return child_.valid() ? child_.exit_code() : -1;
  }
  ::kill(child_.id(), SIGTERM);
  // running() reaps with WNOHANG; Boost 1.74's wait_for is not trusted here.
  std::error_code ec;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (child_.running(ec) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (child_.running(ec)) {
    ::kill(child_.id(), SIGKILL);
    child_.wait(ec);
  }
  return child_.exit_code();
}

std::string DaemonProcess::log() const {
  std::ifstream in(dir_ / "procmond.log");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace procmond::testsupport
