// procmond run measured as a process, against its users' bounds and ours:
// events per second to 1 and 8 subscribers, durable WAL records per second
// under each sync policy, the time from a stalled subscriber to a stretched
// interval, and from exec to a socket that accepts. Each case starts its own
// daemon (Boost.Process, in a temporary directory) and stops it.
//   build/bin/daemon_bench --benchmark_repetitions=5

#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <atomic>
#include <boost/process/args.hpp>
#include <boost/process/child.hpp>
#include <boost/process/io.hpp>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "ctl/client.hpp"
#include "daemon_process.hpp"
#include "events/event_codec.hpp"

namespace {

using procmond::Client;
using procmond::testsupport::DaemonProcess;
using Clock = std::chrono::steady_clock;
namespace wire = procmond::wire;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// A counter of a case of several iterations is their median, not the last one.
double median(std::vector<double> xs) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  const std::size_t n = xs.size();
  return n % 2 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2;
}

struct Received {
  double events_s = 0;   // until the last event arrived
  double durable_s = 0;  // until a durable mark covered it
};

// Subscribes from seq 1 and reads until `last` has arrived and is marked
// durable; the seconds each took from the subscription (an early part comes
// from the WAL, the rest live).
Received receive_all(const std::filesystem::path& socket, std::uint64_t last) {
  Client c = Client::connect(socket);
  const auto t0 = Clock::now();
  c.request({{"op", "subscribe"}, {"from", 1}});
  Received r;
  while (auto f = c.next()) {
    if (f->type == wire::FrameType::kEvent) {
      if (r.events_s == 0 && procmond::peek_seq(f->body) >= last) r.events_s = seconds_since(t0);
    } else {
      auto msg = nlohmann::json::parse(f->body);
      const auto type = msg.value("type", "");
      if ((type == "durable" && msg.value("seq", 0ull) >= last) ||
          (type == "subscribed" && msg.value("durable", 0ull) >= last))
        r.durable_s = seconds_since(t0);
    }
    if (r.events_s > 0 && r.durable_s > 0) return r;
  }
  throw std::runtime_error("the stream ended early");
}

// N synthetic events (plus the snapshot marker) through the WAL to K subscribers.
void events_to_subscribers(benchmark::State& state, const char* sync) {
  const auto subscribers = static_cast<int>(state.range(0));
  const auto n = static_cast<std::uint64_t>(state.range(1));
  double slowest_rate = 0, wal_rate = 0;
  for (auto _ : state) {
    DaemonProcess d(
        {"--connector", "off", "--wal-sync", sync, "--synthetic-events", std::to_string(n)});
    std::vector<Received> got(static_cast<std::size_t>(subscribers));
    std::vector<std::thread> readers;
    for (int i = 0; i < subscribers; ++i)
      readers.emplace_back(
          [&, i] { got[static_cast<std::size_t>(i)] = receive_all(d.socket(), n + 1); });
    for (auto& t : readers) t.join();
    double slowest = 0, durable = 0;
    for (const auto& r : got) {
      slowest = std::max(slowest, r.events_s);
      durable = std::max(durable, r.durable_s);
    }
    state.SetIterationTime(slowest);
    slowest_rate = static_cast<double>(n) / slowest;
    wal_rate = static_cast<double>(n) / durable;
    if (d.stop() != 0) state.SkipWithError("procmond did not exit 0");
  }
  state.counters["events_per_s_each"] = slowest_rate;
  // From the subscription to the durable mark covering the last event.
  state.counters["durable_records_per_s"] = wal_rate;
}

void BM_EventsToSubscribers(benchmark::State& state) {
  events_to_subscribers(state, "batch");
}
BENCHMARK(BM_EventsToSubscribers)
    ->ArgNames({"subscribers", "events"})
    ->Args({1, 1'000'000})
    ->Args({8, 500'000})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// `always`: one fsync per event, so fewer events.
void BM_WalAlways(benchmark::State& state) {
  events_to_subscribers(state, "always");
}
BENCHMARK(BM_WalAlways)
    ->ArgNames({"subscribers", "events"})
    ->Args({1, 20'000})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

void BM_WalNever(benchmark::State& state) {
  events_to_subscribers(state, "never");
}
BENCHMARK(BM_WalNever)
    ->ArgNames({"subscribers", "events"})
    ->Args({1, 1'000'000})
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// A subscriber reads for a while, then stops reading: how long until the
// daemon has stretched its interval. Events flow at `rate` per second.
void BM_BackpressureReaction(benchmark::State& state) {
  const auto rate = state.range(0);
  std::vector<double> reaction_ms;
  for (auto _ : state) {
    DaemonProcess d({"--connector", "off", "--interval", "1s", "--synthetic-events", "100000000",
                     "--synthetic-rate", std::to_string(rate)});
    Client c = Client::connect(d.socket());
    c.request({{"op", "subscribe"}});
    const auto until = Clock::now() + std::chrono::milliseconds(300);
    while (Clock::now() < until) c.next();
    // From here on the subscriber reads nothing.
    const auto stalled = Clock::now();
    double ms = -1;
    while (seconds_since(stalled) < 10) {
      const auto st = d.status();
      if (st["backpressure"]["stretches"].get<int>() > 0) {
        ms = seconds_since(stalled) * 1e3;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (ms < 0) {
      state.SkipWithError("the interval never stretched");
      break;
    }
    state.SetIterationTime(ms / 1e3);
    reaction_ms.push_back(ms);
    d.stop();
  }
  state.counters["stall_to_stretch_ms"] = median(reaction_ms);
}
BENCHMARK(BM_BackpressureReaction)
    ->ArgName("events_per_s")
    ->Arg(10'000)
    ->Arg(100'000)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3);

// From exec to the first connect() that succeeds, and to the first status answered.
void BM_StartToAccept(benchmark::State& state) {
  namespace bp = boost::process;
  std::vector<double> accept_ms, status_ms;
  for (auto _ : state) {
    char tmpl[] = "/tmp/procmond-start-XXXXXX";
    const std::filesystem::path dir = ::mkdtemp(tmpl);
    const auto socket = dir / "s";
    const auto t0 = Clock::now();
    bp::child child(PROCMOND_BIN,
                    bp::args({"run", "--socket", socket.string(), "--data-dir",
                              (dir / "d").string(), "--connector", "off"}),
                    bp::std_out > bp::null, bp::std_err > bp::null);
    double accept = -1, status = -1;
    while (accept < 0 && seconds_since(t0) < 10) {
      try {
        Client c = Client::connect(socket);
        accept = seconds_since(t0) * 1e3;
      } catch (const procmond::ConnectError&) {
      }
    }
    while (accept >= 0 && status < 0 && seconds_since(t0) < 10) {
      try {
        procmond::fetch_status(socket);
        status = seconds_since(t0) * 1e3;
      } catch (const std::exception&) {
      }
    }
    ::kill(child.id(), SIGTERM);
    child.wait();
    std::filesystem::remove_all(dir);
    if (accept < 0 || status < 0) {
      state.SkipWithError("the daemon did not accept and answer status within 10 s");
      break;
    }
    accept_ms.push_back(accept);
    status_ms.push_back(status);
    state.SetIterationTime(accept / 1e3);
  }
  state.counters["start_to_accept_ms"] = median(accept_ms);
  state.counters["start_to_status_ms"] = median(status_ms);
}
BENCHMARK(BM_StartToAccept)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
