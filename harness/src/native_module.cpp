// perfkit._native: the C++ sampler for Python. Arrays are handed over once,
// as NumPy views of the sampler's own storage (no copy per sample), and the
// GIL is released while the sampler thread is joined.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <time.h>

#include <chrono>
#include <system_error>
#include <thread>

#include "deadline_grid.hpp"
#include "sampler.hpp"
#include "tree_sampler.hpp"

namespace py = pybind11;

namespace {

// A view of `column` whose lifetime is tied to the Python Sampler object.
template <typename T>
py::array_t<T> view(const std::vector<T>& column, py::handle owner) {
  return py::array_t<T>({column.size()}, {sizeof(T)}, column.data(), owner);
}

// What both samplers share: start, stop (the GIL released while it joins),
// and how the run went.
template <typename SamplerT>
void bind_run_control(py::class_<SamplerT>& cls) {
  cls.def("start", &SamplerT::start)
      .def("stop", &SamplerT::stop, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("missed", &SamplerT::missed)
      .def_property_readonly("exited", &SamplerT::exited)
      .def_property_readonly("exit_t", &SamplerT::exit_t)
      .def_property_readonly("truncated", &SamplerT::truncated)
      .def_property_readonly("duration_s", &SamplerT::duration_s)
      .def_property_readonly("self_cpu_s", &SamplerT::self_cpu_s);
}

}  // namespace

PYBIND11_MODULE(_native, m) {
  m.doc() = "perfkit's native sampler";
  // std::system_error -> OSError(errno, message): Python picks the subclass,
  // ProcessLookupError for ESRCH, PermissionError for EACCES.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const std::system_error& e) {
      py::object error =
          py::reinterpret_borrow<py::object>(PyExc_OSError)(e.code().value(), e.what());
      PyErr_SetObject(PyExc_OSError, error.ptr());
    }
  });

  // For the bench: one sample's reads in a tight loop, as psutil is timed,
  // without the sampler's sleep and wakeup around each.
  m.def(
      "read_cost_ns",
      [](pid_t pid, int n) {
        perfkit::ProcessReader reader(pid);
        perfkit::FastReading reading;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) reader.read_fast(reading);
        const std::chrono::duration<double, std::nano> spent =
            std::chrono::steady_clock::now() - t0;
        return spent.count() / n;
      },
      py::arg("pid"), py::arg("n") = 10000, py::call_guard<py::gil_scoped_release>());

  // For the bench: one read of a whole tree (walk + per-member reads), ns each.
  m.def(
      "tree_read_cost_ns",
      [](pid_t pid, bool children, bool pss, int n) {
        perfkit::TreeReader reader(pid, children, pss);
        perfkit::TreeReading reading;
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) reader.read(reading);
        const std::chrono::duration<double, std::nano> spent =
            std::chrono::steady_clock::now() - t0;
        return std::pair<double, std::uint32_t>(spent.count() / n, reading.procs);
      },
      py::arg("pid"), py::arg("children"), py::arg("pss"), py::arg("n") = 5,
      py::call_guard<py::gil_scoped_release>());

  // For the bench: the same grid of deadlines with nothing read on it, on a
  // thread of its own: the floor of CPU (% of a core) and of missed deadlines
  // (the machine's own stalls) that any sampler at `hz` pays here.
  m.def(
      "bare_grid",
      [](double hz, double seconds) {
        perfkit::GridControl stop;
        perfkit::GridResult grid;
        std::uint64_t ticks = 0;
        std::thread worker([&] {
          grid = perfkit::run_on_grid(hz, stop, [&](std::int64_t, double t) {
            ++ticks;
            return t < seconds;
          });
        });
        worker.join();
        const double deadlines = static_cast<double>(ticks + grid.missed);
        return std::pair<double, double>(100 * grid.cpu_s / grid.duration_s,
                                         static_cast<double>(grid.missed) / deadlines);
      },
      py::arg("hz"), py::arg("seconds"), py::call_guard<py::gil_scoped_release>());

  py::class_<perfkit::Sampler> sampler(m, "Sampler");
  sampler
      .def(py::init([](pid_t pid, double hz, double slow_hz, double max_seconds) {
             return std::make_unique<perfkit::Sampler>(perfkit::SamplerOptions{
                 .pid = pid, .hz = hz, .slow_hz = slow_hz, .max_seconds = max_seconds});
           }),
           py::arg("pid"), py::arg("hz") = 100.0, py::arg("slow_hz") = 10.0,
           py::arg("max_seconds") = 3600.0)
      .def("columns",
           [](py::object self) {
             const auto& s = self.cast<const perfkit::Sampler&>().series();
             py::dict d;
             d["t"] = view(s.t, self);
             d["rss_bytes"] = view(s.rss_bytes, self);
             d["cpu_ns"] = view(s.cpu_ns, self);
             d["threads"] = view(s.threads, self);
             d["slow_t"] = view(s.slow_t, self);
             d["open_fds"] = view(s.open_fds, self);
             d["voluntary_switches"] = view(s.voluntary_switches, self);
             d["involuntary_switches"] = view(s.involuntary_switches, self);
             return d;
           })
      .def_property_readonly("hwm_bytes", &perfkit::Sampler::hwm_bytes)
      .def_property_readonly("malformed", &perfkit::Sampler::malformed);

  bind_run_control(sampler);

  py::class_<perfkit::TreeSampler> tree(m, "TreeSampler");
  tree.def(py::init([](pid_t pid, double hz, bool children, bool pss, double max_seconds) {
             return std::make_unique<perfkit::TreeSampler>(
                 perfkit::TreeOptions{.pid = pid,
                                      .hz = hz,
                                      .children = children,
                                      .pss = pss,
                                      .max_seconds = max_seconds});
           }),
           py::arg("pid"), py::arg("hz") = 1.0, py::arg("children") = true, py::arg("pss") = true,
           py::arg("max_seconds") = 3600.0)
      .def("columns", [](py::object self) {
        const auto& s = self.cast<const perfkit::TreeSampler&>().series();
        py::dict d;
        d["t"] = view(s.t, self);
        d["procs"] = view(s.procs, self);
        d["denied"] = view(s.denied, self);
        d["malformed"] = view(s.malformed, self);
        d["rss_sum_bytes"] = view(s.rss_sum_bytes, self);
        d["pss_bytes"] = view(s.pss_bytes, self);
        d["uss_bytes"] = view(s.uss_bytes, self);
        d["cpu_ns"] = view(s.cpu_ns, self);
        d["walk_ns"] = view(s.walk_ns, self);
        return d;
      });
  bind_run_control(tree);
}
