#include "run/event_filter.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace procmond {
namespace {

TEST(EventFilter, KindsUidAndCommPrefix) {
  auto f = EventFilter::from_request(
      nlohmann::json{{"kinds", {"started", "exited"}}, {"uid", 1000}, {"comm_prefix", "ba"}});
  EXPECT_TRUE(f.matches(EventKind::kStarted, 1000, "bash"));
  EXPECT_TRUE(f.matches(EventKind::kExited, 1000, "ba"));
  EXPECT_FALSE(f.matches(EventKind::kChanged, 1000, "bash"));
  EXPECT_FALSE(f.matches(EventKind::kStarted, 0, "bash"));
  EXPECT_FALSE(f.matches(EventKind::kStarted, 1000, "b"));
  EXPECT_FALSE(f.matches(EventKind::kStarted, 1000, "zsh"));
  EXPECT_FALSE(f.everything());
  EXPECT_TRUE(EventFilter::from_request(nlohmann::json::object()).everything());
}

TEST(EventFilter, BadRequestsAreNamed) {
  auto why = [](const nlohmann::json& j) -> std::string {
    try {
      EventFilter::from_request(j);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(why({{"kinds", {"born"}}}).find("kinds"), std::string::npos);
  EXPECT_NE(why({{"kinds", "started"}}).find("kinds"), std::string::npos);
  EXPECT_NE(why({{"uid", -1}}).find("uid"), std::string::npos);
  EXPECT_NE(why({{"uid", "root"}}).find("uid"), std::string::npos);
  EXPECT_NE(why({{"comm_prefix", 7}}).find("comm_prefix"), std::string::npos);
}

}  // namespace
}  // namespace procmond
