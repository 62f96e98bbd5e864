#include "run/run_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace procmond {
namespace {

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/procmond-config-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& text) {
    auto p = dir_ / "procmond.toml";
    std::ofstream(p) << text;
    return p;
  }
  std::string error_of(const std::string& text) {
    RunConfig c = default_run_config();
    try {
      load_config_file(write(text), c);
    } catch (const std::exception& e) {
      return e.what();
    }
    return "";
  }
  std::filesystem::path dir_;
};

TEST_F(ConfigFile, ReadsEveryKey) {
  RunConfig c = default_run_config();
  load_config_file(write(R"(
socket = "/run/x/procmond.sock"
data_dir = "/var/lib/x"
interval = "250ms"
[backpressure]
max_interval = "4s"
high_mark = "2MiB"
low_mark = 65536
stall_after = "20ms"
[subscribers]
queue = "32MiB"
max = 8
[wal]
sync = "always"
batch_delay = "1ms"
segment_size = "1MiB"
retain_size = "10MiB"
retain_age = "2h"
[collector]
kind = "proc"
proc_root = "/proc"
max_cmdline = "64KiB"
connector = "off"
connector_buffer = "8MiB"
)"),
                   c);
  EXPECT_EQ(c.socket, "/run/x/procmond.sock");
  EXPECT_EQ(c.data_dir, "/var/lib/x");
  EXPECT_EQ(c.interval, std::chrono::milliseconds(250));
  EXPECT_EQ(c.max_interval, std::chrono::milliseconds(4000));
  EXPECT_EQ(c.high_mark, 2u << 20);
  EXPECT_EQ(c.low_mark, 65536u);
  EXPECT_EQ(c.stall_after, std::chrono::milliseconds(20));
  EXPECT_EQ(c.queue_bytes, 32u << 20);
  EXPECT_EQ(c.max_subscribers, 8u);
  EXPECT_EQ(c.wal_sync, "always");
  EXPECT_EQ(c.batch_delay, std::chrono::milliseconds(1));
  EXPECT_EQ(c.segment_bytes, 1u << 20);
  EXPECT_EQ(c.retain_bytes, 10u << 20);
  EXPECT_EQ(c.retain_age, std::chrono::seconds(7200));
  EXPECT_EQ(c.max_cmdline_bytes, 64u << 10);
  EXPECT_EQ(c.connector, ConnectorMode::kOff);
  EXPECT_EQ(c.connector_buffer, 8u << 20);
  EXPECT_EQ(c.collector, CollectorKind::kProc);
  EXPECT_NO_THROW(validate(c));
}

TEST_F(ConfigFile, TheShippedExampleHoldsTheDefaults) {
  RunConfig c = default_run_config();
  load_config_file(PROCMOND_EXAMPLE_CONFIG, c);
  RunConfig d = default_run_config();
  EXPECT_EQ(c.interval, d.interval);
  EXPECT_EQ(c.max_interval, d.max_interval);
  EXPECT_EQ(c.high_mark, d.high_mark);
  EXPECT_EQ(c.low_mark, d.low_mark);
  EXPECT_EQ(c.stall_after, d.stall_after);
  EXPECT_EQ(c.queue_bytes, d.queue_bytes);
  EXPECT_EQ(c.max_subscribers, d.max_subscribers);
  EXPECT_EQ(c.wal_sync, d.wal_sync);
  EXPECT_EQ(c.batch_delay, d.batch_delay);
  EXPECT_EQ(c.segment_bytes, d.segment_bytes);
  EXPECT_EQ(c.retain_bytes, d.retain_bytes);
  EXPECT_EQ(c.retain_age, d.retain_age);
  EXPECT_EQ(c.max_cmdline_bytes, d.max_cmdline_bytes);
  EXPECT_EQ(c.connector, d.connector);
  EXPECT_EQ(c.connector_buffer, d.connector_buffer);
  EXPECT_EQ(c.collector, d.collector);
  EXPECT_EQ(d.collector, CollectorKind::kAuto);
}

TEST_F(ConfigFile, MistakesAreNamed) {
  EXPECT_NE(error_of("intervall = \"1s\"").find("intervall: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[wal]\nsynk = \"batch\"").find("wal.synk: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[wall]\n").find("[wall]: unknown section"), std::string::npos);
  EXPECT_NE(error_of("interval = \"fast\"").find("interval:"), std::string::npos);
  EXPECT_NE(error_of("[wal]\nsync = \"sometimes\"").find("not one of always, batch, never"),
            std::string::npos);
  EXPECT_NE(error_of("[subscribers]\nqueue = \"lots\"").find("subscribers.queue"),
            std::string::npos);
  EXPECT_NE(error_of("[subscribers]\nmax = 0").find("subscribers.max"), std::string::npos);
  EXPECT_NE(error_of("[collector]\nkind = \"ebpf\"")
                .find("collector.kind: 'ebpf' is not one of "
                      "auto, bpf, proc"),
            std::string::npos);
  // A syntax error says where.
  EXPECT_NE(error_of("interval = \n").find("procmond.toml:1:"), std::string::npos);
}

TEST(Config, ValidateRefusesWhatNoSingleValueCan) {
  RunConfig c = default_run_config();
  c.low_mark = c.high_mark;
  EXPECT_THROW(validate(c), std::runtime_error);
  c = default_run_config();
  c.max_interval = std::chrono::milliseconds(100);
  EXPECT_THROW(validate(c), std::runtime_error);
  c = default_run_config();
  c.socket = "/" + std::string(120, 'x');  // a name no directory trick shortens
  EXPECT_THROW(validate(c), std::runtime_error);
  c.socket = "/" + std::string(120, 'x') + "/procmond.sock";  // a long directory is fine
  EXPECT_NO_THROW(validate(c));
  EXPECT_NO_THROW(validate(default_run_config()));
}

TEST(Config, DefaultsFollowXdg) {
  const char* old = std::getenv("XDG_RUNTIME_DIR");
  std::string saved = old ? old : "";
  ::setenv("XDG_RUNTIME_DIR", "/run/user/4242", 1);
  EXPECT_EQ(default_socket_path(), "/run/user/4242/procmond/procmond.sock");
  if (old)
    ::setenv("XDG_RUNTIME_DIR", saved.c_str(), 1);
  else
    ::unsetenv("XDG_RUNTIME_DIR");
}

TEST(Config, UnitsAsFlagsTakeThem) {
  EXPECT_EQ(parse_duration("500ms"), std::chrono::milliseconds(500));
  EXPECT_EQ(parse_duration("2"), std::chrono::milliseconds(2000));
  EXPECT_EQ(parse_duration("1m"), std::chrono::milliseconds(60000));
  EXPECT_THROW(parse_duration("-1s"), std::invalid_argument);
  EXPECT_EQ(parse_size("4KiB"), 4096u);
  EXPECT_EQ(parse_size("16MiB"), 16u << 20);
  EXPECT_THROW(parse_size("many"), std::invalid_argument);
}

}  // namespace
}  // namespace procmond
