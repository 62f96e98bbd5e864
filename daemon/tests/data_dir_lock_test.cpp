#include "run/data_dir_lock.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include "procmon/unique_fd.hpp"

namespace procmond {
namespace {

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/procmond-lock-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

std::string error_of(auto&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

procmon::UniqueFd listen_on(const std::filesystem::path& p) {
  procmon::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un a{.sun_family = AF_UNIX};
  std::strncpy(a.sun_path, p.c_str(), sizeof a.sun_path - 1);
  EXPECT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd.get(), 1), 0);
  return fd;
}

TEST_F(TempDir, ASecondLockOnTheDirectoryIsRefusedWithTheHoldersPid) {
  auto data = dir_ / "data";
  auto first = DataDirLock::acquire(data);
  struct stat st {};
  ASSERT_EQ(::stat(data.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // made by us: private
  const std::string why = error_of([&] { DataDirLock::acquire(data); });
  EXPECT_NE(why.find("in use by another procmond (pid " + std::to_string(::getpid()) + ")"),
            std::string::npos)
      << why;
}

TEST_F(TempDir, TheLockGoesWithItsHolder) {
  auto data = dir_ / "data";
  { auto held = DataDirLock::acquire(data); }
  EXPECT_NO_THROW(DataDirLock::acquire(data));
}

TEST_F(TempDir, AStaleSocketIsRemovedALiveOneRefused) {
  auto sock = dir_ / "run" / "procmond.sock";
  EXPECT_NO_THROW(claim_socket_path(sock));  // nothing there; the directory is made
  {
    auto live = listen_on(sock);
    EXPECT_NE(error_of([&] { claim_socket_path(sock); }).find("is in use by a running procmond"),
              std::string::npos);
  }
  // The listener closed without unlinking, as after a SIGKILL: stale.
  ASSERT_TRUE(std::filesystem::exists(sock));
  EXPECT_NO_THROW(claim_socket_path(sock));
  EXPECT_FALSE(std::filesystem::exists(sock));
}

TEST_F(TempDir, AFileThatIsNoSocketIsNeverRemoved) {
  auto path = dir_ / "precious";
  std::ofstream(path) << "data";
  EXPECT_NE(error_of([&] { claim_socket_path(path); }).find("is not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace procmond
