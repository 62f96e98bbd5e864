#include "tree_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "deadline_grid.hpp"

namespace perfkit {

TreeSampler::TreeSampler(const TreeOptions& o) : options_(o), reader_(o.pid, o.children, o.pss) {
  if (!(o.hz >= 0.1 && o.hz <= 100)) throw std::invalid_argument("tree hz must be in [0.1, 100]");
  if (!(o.max_seconds > 0)) throw std::invalid_argument("max_seconds must be > 0");
  const auto n = static_cast<std::size_t>(std::ceil(o.hz * o.max_seconds)) + 1;
  for (auto* column : {&series_.rss_sum_bytes, &series_.pss_bytes, &series_.uss_bytes,
                       &series_.cpu_ns, &series_.walk_ns})
    column->reserve(n);
  series_.t.reserve(n);
  series_.procs.reserve(n);
  series_.denied.reserve(n);
  series_.malformed.reserve(n);
}

void TreeSampler::start() {
  grid_.start([this](GridControl& stop) { return run(stop); });
}

GridResult TreeSampler::run(GridControl& stop) {
  TreeReading reading;
  return run_on_grid(options_.hz, stop, [&](std::int64_t, double t) {
    if (series_.t.size() == series_.t.capacity()) {
      truncated_.store(true);
      return false;
    }
    const std::int64_t before = monotonic_ns();
    if (!reader_.read(reading)) {
      exit_t_.store(t);
      return false;
    }
    series_.walk_ns.push_back(static_cast<std::uint64_t>(monotonic_ns() - before));
    series_.t.push_back(t);
    series_.procs.push_back(reading.procs);
    series_.denied.push_back(reading.denied);
    series_.rss_sum_bytes.push_back(reading.rss_sum_bytes);
    series_.pss_bytes.push_back(reading.pss_bytes);
    series_.uss_bytes.push_back(reading.uss_bytes);
    series_.malformed.push_back(reading.malformed);
    series_.cpu_ns.push_back(reading.cpu_ns);
    return true;
  });
}

}  // namespace perfkit
