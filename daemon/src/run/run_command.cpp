#include "run_command.hpp"

#include <csignal>

#include "daemon.hpp"
#include "deliberate_knob.hpp"

namespace procmond {

int run_daemon(const RunConfig& config, std::ostream& err) {
  // Asio's signal_set takes them in the loop; until then they must not kill us
  // half-started, nor must a subscriber that hung up (SIGPIPE).
  std::signal(SIGPIPE, SIG_IGN);
  try {
    validate(config);
    Daemon daemon(config, err);
    return daemon.run();
  } catch (const BadDeliberateKnob& e) {
    err << "procmond: " << e.what() << std::endl;
    return 2;  // a bad argument, given through the environment
  } catch (const std::exception& e) {
    err << "procmond: " << e.what() << std::endl;
    return 1;
  }
}

}  // namespace procmond
