#include "events/event_json.hpp"

#include <gtest/gtest.h>

#include <string>

#include "events/event_text.hpp"
#include "events/event_time.hpp"

namespace procmond {
namespace {

Event started() {
  Event e;
  e.seq = 42;
  e.time_ns = 1'796'786'114'123'456'789;  // 2026-12-09T03:15:14.123456789Z
  e.kind = EventKind::kStarted;
  e.pid = 100;
  e.ppid = 1;
  e.uid = 1000;
  e.start_time = 5;
  e.utime = 1;
  e.stime = 2;
  e.rss_bytes = 4096;
  e.threads = 3;
  e.comm = "bash";
  e.exe = "/usr/bin/bash";
  e.cmdline = {"bash", "-c", "true"};
  return e;
}

TEST(EventTime, Rfc3339UtcWithNanoseconds) {
  EXPECT_EQ(format_rfc3339_ns(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(format_rfc3339_ns(1'796'786'114'123'456'789), "2026-12-09T03:15:14.123456789Z");
  EXPECT_EQ(format_rfc3339_ns(-1), "1969-12-31T23:59:59.999999999Z");
}

TEST(EventJson, StartedHasEveryProcessField) {
  auto j = to_json(started());
  EXPECT_EQ(j["seq"], 42);
  EXPECT_EQ(j["time"], "2026-12-09T03:15:14.123456789Z");
  EXPECT_EQ(j["kind"], "started");
  EXPECT_EQ(j["pid"], 100);
  EXPECT_EQ(j["ppid"], 1);
  EXPECT_EQ(j["uid"], 1000);
  EXPECT_EQ(j["comm"], "bash");
  EXPECT_EQ(j["exe"], "/usr/bin/bash");
  EXPECT_EQ(j["cmdline"], nlohmann::json({"bash", "-c", "true"}));
  EXPECT_EQ(j["cmdline_truncated"], false);
  EXPECT_EQ(j["start_time"], 5);
  EXPECT_EQ(j["utime"], 1);
  EXPECT_EQ(j["stime"], 2);
  EXPECT_EQ(j["rss_bytes"], 4096);
  EXPECT_EQ(j["threads"], 3);
  EXPECT_EQ(j["source"], "poll");
  EXPECT_FALSE(j.contains("changes"));
  EXPECT_FALSE(j.contains("exit_status"));
  EXPECT_FALSE(j.contains("processes"));
}

TEST(EventJson, UnknownUidAndExitStatusAreNull) {
  Event e = started();
  e.kind = EventKind::kExited;
  e.uid = static_cast<uid_t>(-1);
  auto j = to_json(e);
  EXPECT_TRUE(j["uid"].is_null());
  EXPECT_TRUE(j["exit_status"].is_null());
  e.exit_status = 9;
  e.source = EventSource::kConnector;
  j = to_json(e);
  EXPECT_EQ(j["exit_status"], 9);
  EXPECT_EQ(j["source"], "connector");
}

TEST(EventJson, ChangedListsItsChanges) {
  Event e = started();
  e.kind = EventKind::kChanged;
  e.changes = kChangeExec | kChangeReparent;
  EXPECT_EQ(to_json(e)["changes"], nlohmann::json({"exec", "reparent"}));
  e.changes = kChangeReparent;
  EXPECT_EQ(to_json(e)["changes"], nlohmann::json({"reparent"}));
}

TEST(EventJson, SnapshotHasItsCount) {
  Event e;
  e.kind = EventKind::kSnapshot;
  e.processes = 321;
  auto j = to_json(e);
  EXPECT_EQ(j["kind"], "snapshot");
  EXPECT_EQ(j["processes"], 321);
  EXPECT_EQ(j["pid"], 0);
}

TEST(EventJson, InvalidUtf8IsReplacedAndDumpDoesNotThrow) {
  Event e = started();
  e.comm = "a\xff";
  e.exe = "/tmp/\xc3\x28";
  e.cmdline = {"ok \xe2\x82\xac", "\xed\xa0\x80", "tr\xe2\x82"};  // valid euro, surrogate, cut
  auto j = to_json(e);
  std::string dumped;
  ASSERT_NO_THROW(dumped = j.dump());
  EXPECT_EQ(j["comm"], "a\xef\xbf\xbd");
  EXPECT_EQ(j["exe"], "/tmp/\xef\xbf\xbd(");
  EXPECT_EQ(j["cmdline"][0], "ok \xe2\x82\xac");
  EXPECT_EQ(j["cmdline"][1], "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(j["cmdline"][2], "tr\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(EventText, OneLineWithTheMainFields) {
  EXPECT_EQ(format_event_line(started()),
            "2026-12-09T03:15:14.123456789Z #42 started pid=100 ppid=1 uid=1000 comm=bash "
            "cmd=bash -c true");
  Event e = started();
  e.kind = EventKind::kChanged;
  e.changes = kChangeExec | kChangeReparent;
  e.uid = static_cast<uid_t>(-1);
  e.cmdline = {"sh", "two words", ""};
  e.cmdline_truncated = true;
  EXPECT_EQ(format_event_line(e),
            "2026-12-09T03:15:14.123456789Z #42 changed pid=100 ppid=1 uid=- comm=bash "
            "changes=exec,reparent cmd=sh \"two words\" \"\" [...]");
  e.kind = EventKind::kExited;
  e.exit_status = 0;
  e.cmdline = {};
  e.cmdline_truncated = false;
  EXPECT_EQ(format_event_line(e),
            "2026-12-09T03:15:14.123456789Z #42 exited pid=100 ppid=1 uid=- comm=bash status=0 "
            "cmd=");
}

TEST(EventText, AHostileArgvStaysOnOneLineWithNoControls) {
  Event e = started();
  e.comm = "x\ny";
  e.cmdline = {"evil\n2026-01-01T00:00:00Z #1 started",
               "\x1b[31mred\r",
               "\xc2\x9b"
               "c1",
               "back\\slash",
               "bad\xff",
               "q\"uote"};
  const std::string line = format_event_line(e);
  for (unsigned char c : line) {
    EXPECT_GE(c, 0x20) << line;
    EXPECT_NE(c, 0x7f) << line;
  }
  EXPECT_EQ(line.find("\xc2\x9b"), std::string::npos);
  EXPECT_NE(line.find("comm=x\\ny"), std::string::npos) << line;
  EXPECT_NE(line.find("\\x1b[31mred\\x0d"), std::string::npos) << line;
  EXPECT_NE(line.find("\\xc2\\x9bc1"), std::string::npos) << line;
  EXPECT_NE(line.find("back\\\\slash"), std::string::npos) << line;
  EXPECT_NE(line.find("bad\\xff"), std::string::npos) << line;
  EXPECT_NE(line.find("\"q\\\"uote\""), std::string::npos) << line;
}

}  // namespace
}  // namespace procmond
