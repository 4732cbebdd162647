#define BOOST_TEST_MODULE media_filter_graph
#include <boost/test/unit_test.hpp>

extern "C" {
#include <libavutil/channel_layout.h>
}

#include "core/logging.h"
#include "media/filter_graph.h"
#include "media/video_filter.h"

using namespace rr::media;

namespace {
// As in the daemon: FFmpeg's messages go through the bridge, which is what captures its reasons.
struct FfmpegLogs {
    FfmpegLogs() { rr::install_ffmpeg_log_bridge(rr::null_logger()); }
};
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(FfmpegLogs);
namespace av = rr::av;

namespace {

constexpr int kRate = 48000;

// A mono float frame of `n` samples, all `value`.
av::FramePtr tone_frame(int n, float value, int64_t pts) {
    av::FramePtr f = av::make_frame();
    f->format = AV_SAMPLE_FMT_FLTP;
    f->sample_rate = kRate;
    f->nb_samples = n;
    f->ch_layout = AV_CHANNEL_LAYOUT_MONO;
    f->pts = pts;
    BOOST_REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
    auto* s = reinterpret_cast<float*>(f->data[0]);
    for (int i = 0; i < n; ++i) s[i] = value;
    return f;
}

AudioSourceFormat mono_float() {
    static const AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    return {kRate, AV_SAMPLE_FMT_FLTP, &mono, AVRational{1, kRate}};
}

// Every sample that leaves the graph, after feeding `frames` frames of `n` samples of `value`.
std::vector<float> run_audio(FilterGraph& g, int frames, int n, float value,
                             std::vector<int>* sizes = nullptr) {
    std::vector<float> out;
    av::FramePtr got = av::make_frame();
    auto drain = [&] {
        while (true) {
            auto r = g.pull(got.get());
            BOOST_REQUIRE(r.ok());
            if (!*r) return;
            BOOST_REQUIRE(got->format == AV_SAMPLE_FMT_FLTP);
            auto* s = reinterpret_cast<const float*>(got->data[0]);
            out.insert(out.end(), s, s + got->nb_samples);
            if (sizes) sizes->push_back(got->nb_samples);
            av_frame_unref(got.get());
        }
    };
    for (int k = 0; k < frames; ++k) {
        av::FramePtr f = tone_frame(n, value, int64_t{k} * n);
        BOOST_REQUIRE(g.push(f.get()).ok());
        drain();
    }
    BOOST_REQUIRE(g.push(nullptr).ok());
    drain();
    return out;
}

FrameFormat small_yuv() {
    FrameFormat f;
    f.width = 64;
    f.height = 48;
    f.pix_fmt = AV_PIX_FMT_YUV420P;
    f.time_base = {1, 25};
    f.frame_rate = {25, 1};
    return f;
}

av::FramePtr flat_picture(const FrameFormat& fmt, uint8_t y, int64_t pts) {
    av::FramePtr f = av::make_frame();
    f->format = fmt.pix_fmt;
    f->width = fmt.width;
    f->height = fmt.height;
    f->pts = pts;
    BOOST_REQUIRE(av_frame_get_buffer(f.get(), 0) == 0);
    for (int r = 0; r < fmt.height; ++r) memset(f->data[0] + r * f->linesize[0], y, fmt.width);
    for (int p = 1; p < 3; ++p)
        for (int r = 0; r < fmt.height / 2; ++r)
            memset(f->data[p] + r * f->linesize[p], 128, fmt.width / 2);
    return f;
}

}  // namespace

BOOST_AUTO_TEST_CASE(audio_chain_trims_and_scales_the_samples) {
    auto g = FilterGraph::audio(mono_float(), "atrim=start_sample=1000,volume=0.5");
    BOOST_REQUIRE_MESSAGE(g.ok(), (g.ok() ? std::string() : g.error().message));
    const auto out = run_audio(*g, 3, 1024, 0.5f);
    BOOST_TEST(out.size() == 3u * 1024u - 1000u);
    for (float s : out) BOOST_REQUIRE_CLOSE(s, 0.25f, 1e-4);
    BOOST_TEST(g->output_sample_rate() == kRate);
}

BOOST_AUTO_TEST_CASE(empty_audio_chain_passes_samples_through_in_the_frame_size_asked) {
    auto g = FilterGraph::audio(mono_float(), "");
    BOOST_REQUIRE(g.ok());
    g->set_frame_size(256);
    std::vector<int> sizes;
    const auto out = run_audio(*g, 3, 1000, 0.75f, &sizes);
    BOOST_TEST(out.size() == 3000u);
    for (float s : out) BOOST_REQUIRE_EQUAL(s, 0.75f);
    BOOST_REQUIRE(!sizes.empty());
    for (size_t i = 0; i + 1 < sizes.size(); ++i) BOOST_TEST(sizes[i] == 256);
    BOOST_TEST(sizes.back() == 3000 % 256);
}

BOOST_AUTO_TEST_CASE(audio_resampling_changes_the_sample_count_and_time_base) {
    auto g = FilterGraph::audio(mono_float(), "aresample=24000");
    BOOST_REQUIRE(g.ok());
    const auto out = run_audio(*g, 4, 1200, 0.1f);
    BOOST_TEST(out.size() == 2400u);
    BOOST_TEST(g->output_sample_rate() == 24000);
    BOOST_TEST(av_cmp_q(g->output_time_base(), AVRational{1, 24000}) == 0);
}

BOOST_AUTO_TEST_CASE(a_refused_audio_chain_carries_ffmpegs_reason) {
    auto g = FilterGraph::audio(mono_float(), "nosuchfilter=3");
    BOOST_REQUIRE(!g.ok());
    BOOST_TEST(g.error().code == rr::Errc::invalid_argument);
    BOOST_TEST(g.error().message.find("audio filter 'nosuchfilter=3'") != std::string::npos);
    BOOST_TEST(g.error().message.find("No such filter") != std::string::npos, g.error().message);
}

BOOST_AUTO_TEST_CASE(a_bad_option_names_the_option) {
    auto g = FilterGraph::audio(mono_float(), "volume=volume=loud");
    BOOST_REQUIRE(!g.ok());
    BOOST_TEST(g.error().message.find("loud") != std::string::npos, g.error().message);
}

BOOST_AUTO_TEST_CASE(video_chain_changes_the_pixels) {
    const FrameFormat fmt = small_yuv();
    auto g = FilterGraph::video(fmt, "lutyuv=y=val+20", 1);
    BOOST_REQUIRE_MESSAGE(g.ok(), (g.ok() ? std::string() : g.error().message));
    int frames = 0;
    av::FramePtr got = av::make_frame();
    for (int k = 0; k < 3; ++k) {
        av::FramePtr f = flat_picture(fmt, 100, k);
        BOOST_REQUIRE(g->push(f.get()).ok());
        while (*g->pull(got.get())) {
            ++frames;
            BOOST_TEST(got->width == 64);
            BOOST_TEST(got->height == 48);
            for (int r = 0; r < 48; ++r)
                for (int c = 0; c < 64; ++c)
                    BOOST_REQUIRE_EQUAL(int{got->data[0][r * got->linesize[0] + c]}, 120);
            BOOST_TEST(int{got->data[1][0]} == 128);
            av_frame_unref(got.get());
        }
    }
    BOOST_REQUIRE(g->push(nullptr).ok());
    while (*g->pull(got.get())) {
        ++frames;
        av_frame_unref(got.get());
    }
    BOOST_TEST(frames == 3);
}

BOOST_AUTO_TEST_CASE(video_filter_converts_to_the_format_asked) {
    const FrameFormat fmt = small_yuv();
    auto vf = VideoFilter::create(fmt, "", AV_PIX_FMT_YUV444P, 1);
    BOOST_REQUIRE(vf.ok());
    std::vector<av::FramePtr> out;
    BOOST_REQUIRE(vf->push(flat_picture(fmt, 77, 0), out).ok());
    BOOST_REQUIRE(vf->push(nullptr, out).ok());
    BOOST_REQUIRE(out.size() == 1u);
    BOOST_TEST(out[0]->format == AV_PIX_FMT_YUV444P);
    BOOST_TEST(int{out[0]->data[0][10 * out[0]->linesize[0] + 5]} == 77);
    BOOST_TEST(int{out[0]->data[1][40 * out[0]->linesize[1] + 60]} == 128);  // full-size chroma
}

BOOST_AUTO_TEST_CASE(a_refused_video_chain_carries_ffmpegs_reason) {
    auto vf = VideoFilter::create(small_yuv(), "hqdn3d=luma_spatial=-5", AV_PIX_FMT_NONE, 1);
    BOOST_REQUIRE(!vf.ok());
    BOOST_TEST(
        vf.error().message.find("video filter 'hqdn3d=luma_spatial=-5'") != std::string::npos,
        vf.error().message);
}
