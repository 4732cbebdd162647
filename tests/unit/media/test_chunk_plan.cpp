#define BOOST_TEST_MODULE media_chunk_plan
#include <boost/test/unit_test.hpp>

#include "media/chunk_plan.h"

using namespace rr::media;

namespace {

// A constant-rate index: `frames` frames at `fps`, a keyframe every `gop` frames.
FrameIndex regular(int frames, int fps, int gop) {
    FrameIndex idx;
    idx.time_base = AVRational{1, fps * 100};
    for (int i = 0; i < frames; ++i) {
        idx.pts.push_back(int64_t{i} * 100);
        if (i % gop == 0) idx.keys.push_back({int64_t{i} * 100, int64_t{i} * 100 - 200});
    }
    idx.last_duration = 100;
    return idx;
}

void check_partition(const std::vector<ChunkSpan>& chunks, int64_t frames) {
    BOOST_REQUIRE(!chunks.empty());
    BOOST_TEST(chunks.front().first_frame == 0);
    BOOST_TEST(chunks.back().end_frame == frames);
    for (size_t i = 1; i < chunks.size(); ++i) {
        BOOST_TEST(chunks[i].first_frame == chunks[i - 1].end_frame);
        BOOST_TEST(chunks[i].start_pts == chunks[i - 1].end_pts);
        BOOST_TEST(chunks[i].frames() > 0);
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(cuts_on_keyframes_near_the_target_length) {
    auto idx = regular(30 * 60, 30, 60);  // 60 s, keyframe every 2 s
    auto chunks = plan_chunks(idx, {10.0, {}});
    check_partition(chunks, 1800);
    BOOST_TEST(chunks.size() == 6u);
    for (const auto& c : chunks) {
        BOOST_TEST(c.starts_on_key);
        BOOST_TEST(c.frames() == 300);
    }
}

BOOST_AUTO_TEST_CASE(sparse_keyframes_give_exact_non_key_starts) {
    auto idx = regular(30 * 30, 30, 100000);  // one GOP for the whole clip
    auto chunks = plan_chunks(idx, {5.0, {}});
    check_partition(chunks, 900);
    BOOST_TEST(chunks.size() == 6u);
    BOOST_TEST(chunks[0].starts_on_key);
    for (size_t i = 1; i < chunks.size(); ++i) {
        BOOST_TEST(!chunks[i].starts_on_key);
        BOOST_TEST(chunks[i].first_frame == static_cast<int64_t>(i) * 150);
    }
    // Decoding of a non-key chunk starts at the only keyframe.
    BOOST_TEST(idx.key_before(chunks[3].start_pts)->pts == 0);
}

BOOST_AUTO_TEST_CASE(no_tiny_tail_chunk) {
    auto idx = regular(30 * 21, 30, 30);  // 21 s with 10 s chunks: 10 + 11, not 10 + 10 + 1
    auto chunks = plan_chunks(idx, {10.0, {}});
    check_partition(chunks, 630);
    BOOST_TEST(chunks.size() == 2u);
}

BOOST_AUTO_TEST_CASE(short_input_is_one_chunk) {
    auto idx = regular(40, 30, 30);
    auto chunks = plan_chunks(idx, {10.0, {}});
    BOOST_REQUIRE_EQUAL(chunks.size(), 1u);
    BOOST_TEST(chunks[0].end_pts == INT64_MAX);
    BOOST_TEST(chunks[0].end_time == 40.0 / 30.0, boost::test_tools::tolerance(1e-9));
}

BOOST_AUTO_TEST_CASE(variable_frame_rate_uses_time_not_frame_counts) {
    FrameIndex idx;
    idx.time_base = AVRational{1, 1000};
    int64_t t = 0;
    for (int i = 0; i < 600; ++i) {
        idx.pts.push_back(t);
        if (i % 20 == 0) idx.keys.push_back({t, t});
        t += i < 300 ? 20 : 80;  // 50 fps for 6 s, then 12.5 fps for 24 s
    }
    idx.last_duration = 80;
    auto chunks = plan_chunks(idx, {6.0, {}});
    check_partition(chunks, 600);
    for (size_t i = 0; i + 1 < chunks.size(); ++i) {
        double len = chunks[i].end_time - chunks[i].start_time;
        BOOST_TEST(len >= 3.0);
        BOOST_TEST(len <= 9.0);
    }
}

BOOST_AUTO_TEST_CASE(preferred_cuts_win_inside_the_window) {
    auto idx = regular(30 * 40, 30, 30);
    std::vector<int64_t> scene_cuts = {390};  // 13 s, a keyframe
    auto chunks = plan_chunks(idx, {10.0, scene_cuts});
    check_partition(chunks, 1200);
    BOOST_TEST(chunks[1].first_frame == 390);
}

BOOST_AUTO_TEST_CASE(inexact_index_is_a_single_chunk) {
    auto idx = regular(30 * 60, 30, 30);
    idx.exact = false;
    auto chunks = plan_chunks(idx, {5.0, {}});
    BOOST_REQUIRE_EQUAL(chunks.size(), 1u);
    BOOST_TEST(chunks[0].frames() == 1800);
}

BOOST_AUTO_TEST_CASE(a_narrow_keyframe_window_cuts_even_chunks) {
    // 10 s with a keyframe every 4 s, cut in two: the nearest keyframe (4 s) would leave
    // 4 s and 6 s; with a narrow window the cut lands on the midpoint instead.
    auto idx = regular(300, 30, 120);
    PlanOptions wide{5.0, {}};
    auto chunks = plan_chunks(idx, wide);
    check_partition(chunks, 300);
    BOOST_REQUIRE_EQUAL(chunks.size(), 2u);
    BOOST_TEST(chunks[1].first_frame == 120);
    PlanOptions even{5.0, {}, 0.1};
    chunks = plan_chunks(idx, even);
    check_partition(chunks, 300);
    BOOST_REQUIRE_EQUAL(chunks.size(), 2u);
    BOOST_TEST(chunks[1].first_frame == 150);
    BOOST_TEST(!chunks[1].starts_on_key);
    // A keyframe within the window still wins.
    auto near = regular(300, 30, 140);  // keyframe at 140 (4.67 s): 0.33 s from the target
    BOOST_TEST(plan_chunks(near, even)[1].first_frame == 140);
}

BOOST_AUTO_TEST_CASE(with_preroll_cuts_fall_where_decoding_starts_on_a_keyframe) {
    // Keyframes every 60 frames; stages want 32 frames of pre-roll. A cut 32 frames after a
    // keyframe lets its worker start decoding on that keyframe, wasting nothing.
    auto idx = regular(300, 30, 60);
    PlanOptions o{5.0, {}, 0.1, 32};
    auto chunks = plan_chunks(idx, o);
    check_partition(chunks, 300);
    BOOST_REQUIRE_EQUAL(chunks.size(), 2u);
    BOOST_TEST(chunks[1].first_frame == 152);  // 120 + 32, 0.07 s from the midpoint
    BOOST_TEST(idx.key_before(idx.pts[152 - 32])->pts == idx.pts[120]);
}
