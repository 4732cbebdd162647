#define BOOST_TEST_MODULE media_frame_pool
#include <boost/test/unit_test.hpp>
#include <cstring>

#include "media/frame_converter.h"
#include "media/frame_pool.h"
#include "support/frames.h"

using namespace rr;
namespace t = rr::test;

// Frames an encoder or filter still holds must never be handed out again: a converter that
// recycled them would change pictures already queued for encoding.
BOOST_AUTO_TEST_CASE(frames_still_held_downstream_keep_their_pictures) {
    const auto from = t::yuv420_format(64, 48);
    auto to = from;
    to.width = 32;
    to.height = 24;
    auto conv = media::FrameConverter::create(from, to);
    BOOST_REQUIRE(conv.ok());
    std::vector<av::FramePtr> held;
    for (int luma : {40, 120, 200}) {
        auto out = conv->convert(t::make_yuv420(64, 48, luma, 128, 128));
        BOOST_REQUIRE(out.ok());
        held.push_back(std::move(*out));
    }
    // Released frames are recycled; the held ones still show what they were made from.
    for (int i = 0; i < 5; ++i) {
        auto out = conv->convert(t::make_yuv420(64, 48, 235, 128, 128));
        BOOST_REQUIRE(out.ok());
    }
    BOOST_TEST(t::plane_mean(*held[0], 0) == 40.0, boost::test_tools::tolerance(1.0));
    BOOST_TEST(t::plane_mean(*held[1], 0) == 120.0, boost::test_tools::tolerance(1.0));
    BOOST_TEST(t::plane_mean(*held[2], 0) == 200.0, boost::test_tools::tolerance(1.0));
    for (const auto& f : held) BOOST_TEST(av_frame_is_writable(f.get()) == 1);
}

BOOST_AUTO_TEST_CASE(a_released_buffer_is_reused_and_layout_matches_av_frame_get_buffer) {
    auto pool = media::FramePool::create(1918, 1078, AV_PIX_FMT_YUV420P10LE);
    BOOST_REQUIRE(pool.ok());
    av::FramePtr plain = av::make_frame();
    plain->width = 1918;
    plain->height = 1078;
    plain->format = AV_PIX_FMT_YUV420P10LE;
    BOOST_REQUIRE(av_frame_get_buffer(plain.get(), 0) >= 0);
    auto a = pool->get();
    BOOST_REQUIRE(a.ok());
    for (int p = 0; p < 3; ++p) BOOST_TEST((*a)->linesize[p] == plain->linesize[p]);
    BOOST_TEST((*a)->buf[0]->size == plain->buf[0]->size);
    const uint8_t* first = (*a)->data[0];
    a->reset();
    auto b = pool->get();
    BOOST_REQUIRE(b.ok());
    BOOST_TEST((*b)->data[0] == first);
    // A second reference (an encoder's) keeps the buffer out of the pool.
    av::FramePtr ref = av::ref_frame(b->get());
    b->reset();
    auto c = pool->get();
    BOOST_REQUIRE(c.ok());
    BOOST_TEST((*c)->data[0] != ref->data[0]);
}

BOOST_AUTO_TEST_CASE(frame_like_carries_timestamps_and_colour_and_refuses_other_shapes) {
    auto src = t::make_yuv420(64, 48, 100, 128, 128);
    src->pts = 1234;
    src->color_primaries = AVCOL_PRI_BT709;
    src->colorspace = AVCOL_SPC_BT709;
    auto pool = media::FramePool::create(64, 48, AV_PIX_FMT_YUV420P);
    BOOST_REQUIRE(pool.ok());
    auto f = media::frame_like(*src, *pool);
    BOOST_REQUIRE(f.ok());
    BOOST_TEST((*f)->pts == 1234);
    BOOST_TEST((*f)->color_primaries == AVCOL_PRI_BT709);
    BOOST_TEST((*f)->colorspace == AVCOL_SPC_BT709);
    auto other = media::FramePool::create(32, 48, AV_PIX_FMT_YUV420P);
    BOOST_REQUIRE(other.ok());
    BOOST_TEST(!media::frame_like(*src, *other).ok());
}
