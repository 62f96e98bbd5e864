#include "run/wire.hpp"

#include <gtest/gtest.h>

namespace procmond::wire {
namespace {

TEST(Wire, FramesSurviveAnySplitOfTheStream) {
  std::string stream;
  append_frame(stream, FrameType::kRequest, R"({"op":"status"})");
  append_frame(stream, FrameType::kEvent, std::string("\0\1\2", 3));
  append_frame(stream, FrameType::kControl, "");
  // Fed one byte at a time and in two halves at every point: the same frames.
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameParser p;
    std::vector<std::pair<FrameType, std::string>> got;
    p.feed(std::string_view(stream).substr(0, cut));
    while (auto f = p.next()) got.emplace_back(f->type, std::string(f->body));
    p.feed(std::string_view(stream).substr(cut));
    while (auto f = p.next()) got.emplace_back(f->type, std::string(f->body));
    ASSERT_EQ(got.size(), 3u) << "cut at " << cut;
    EXPECT_EQ(got[0].first, FrameType::kRequest);
    EXPECT_EQ(got[0].second, R"({"op":"status"})");
    EXPECT_EQ(got[1].second, std::string("\0\1\2", 3));
    EXPECT_EQ(got[2].first, FrameType::kControl);
    EXPECT_EQ(got[2].second, "");
  }
}

TEST(Wire, TheHeaderIsLittleEndianLengthThenType) {
  std::string out;
  append_frame(out, FrameType::kEvent, "abc");
  ASSERT_EQ(out.size(), 8u);
  EXPECT_EQ(out.substr(0, 5), std::string("\x04\0\0\0\x02", 5));
}

TEST(Wire, HostileFramesAreRefused) {
  FrameParser small(16);
  std::string big;
  append_frame(big, FrameType::kRequest, std::string(17, 'x'));
  small.feed(big);
  EXPECT_THROW(small.next(), std::runtime_error);

  FrameParser p;
  p.feed(std::string("\x01\0\0\0\x09", 5));  // unknown type
  EXPECT_THROW(p.next(), std::runtime_error);

  FrameParser z;
  z.feed(std::string("\0\0\0\0\x01", 5));  // a length that holds no type
  EXPECT_THROW(z.next(), std::runtime_error);

  FrameParser huge;
  huge.feed(std::string("\xff\xff\xff\xff\x01", 5));
  EXPECT_THROW(huge.next(), std::runtime_error);
}

}  // namespace
}  // namespace procmond::wire
