#define BOOST_TEST_MODULE media_audio_decode
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "core/logging.h"
#include "media/audio_decode.h"
#include "media/audio_track.h"
#include "media/loudness.h"
#include "media/loudness_meter.h"
#include "media/sound_span.h"
#include "support/measure.h"
#include "support/media.h"
#include "support/sandbox.h"

using namespace rr::media;

namespace {
// As in the daemon: FFmpeg's messages go through the bridge, which is what captures its reasons.
struct FfmpegLogs {
    FfmpegLogs() { rr::install_ffmpeg_log_bridge(rr::null_logger()); }
};
}  // namespace
BOOST_TEST_GLOBAL_FIXTURE(FfmpegLogs);
namespace t = rr::test;

namespace {

// Exactly 2 s of 48 kHz stereo PCM: sample counts are exact.
std::filesystem::path pcm_tone() {
    return t::fixture("unit_ad_tone.mkv",
                      "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=2 -ac 2 "
                      "-c:a pcm_s16le");
}

// Silence, a tone from 1.0 s to 2.0 s, silence until 3 s (AAC in MP4, as users drop them).
std::filesystem::path tone_in_silence() {
    return t::fixture("unit_ad_gap.mp4",
                      "-f lavfi -i \"aevalsrc=exprs=0.5*sin(2*PI*440*t)*between(t\\,1\\,2):"
                      "sample_rate=48000:duration=3\" -c:a aac -b:a 128k");
}

}  // namespace

BOOST_AUTO_TEST_CASE(decode_audio_hands_out_every_sample_once) {
    auto file = MappedFile::open(pcm_tone());
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    const int index = demuxer->best_audio_stream();
    BOOST_REQUIRE(index >= 0);
    auto decoder = AudioDecoder::open(demuxer->stream(index));
    BOOST_REQUIRE(decoder.ok());
    BOOST_TEST(decoder->format().layout->nb_channels == 2);
    int64_t samples = 0;
    int64_t last_pts = -1;
    bool increasing = true;
    auto s = decode_audio(*demuxer, index, *decoder, {}, [&](AVFrame& f) -> rr::Status {
        increasing = increasing && f.pts != AV_NOPTS_VALUE && f.pts > last_pts;
        last_pts = f.pts;
        samples += f.nb_samples;
        return {};
    });
    BOOST_REQUIRE(s.ok());
    BOOST_TEST(samples == 96000);
    BOOST_TEST(increasing);
}

BOOST_AUTO_TEST_CASE(decode_audio_stops_when_asked) {
    auto file = MappedFile::open(pcm_tone());
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    auto decoder = AudioDecoder::open(demuxer->stream(0));
    BOOST_REQUIRE(decoder.ok());
    std::stop_source stop;
    int frames = 0;
    auto s = decode_audio(*demuxer, 0, *decoder, stop.get_token(), [&](AVFrame&) -> rr::Status {
        if (++frames == 2) stop.request_stop();
        return {};
    });
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(s.error().code == rr::Errc::cancelled);
}

BOOST_AUTO_TEST_CASE(loudness_matches_ffmpegs_own_ebur128) {
    auto file = MappedFile::open(pcm_tone());
    BOOST_REQUIRE(file.ok());
    auto l = measure_loudness(*file, 0, "", {});
    BOOST_REQUIRE(l.ok());
    const auto cli = t::cli_loudness(pcm_tone());
    BOOST_TEST(std::abs(l->integrated - cli.integrated) < 0.15);
    BOOST_TEST(std::abs(l->true_peak - cli.true_peak) < 0.15);
    BOOST_TEST(std::abs(l->seconds - 2.0) < 1e-6);
    auto quieter = measure_loudness(*file, 0, "volume=-6dB", {});
    BOOST_REQUIRE(quieter.ok());
    BOOST_TEST(std::abs(quieter->integrated - (l->integrated - 6.0)) < 0.1);
}

BOOST_AUTO_TEST_CASE(sound_is_found_where_the_tone_plays) {
    auto file = MappedFile::open(tone_in_silence());
    BOOST_REQUIRE(file.ok());
    auto span = find_sound(*file, -50.0);
    BOOST_REQUIRE(span.ok());
    BOOST_TEST(span->has_audio);
    BOOST_TEST(span->audible);
    BOOST_TEST(std::abs(span->first - 1.0) < 0.03, span->first);
    BOOST_TEST(std::abs(span->last - 2.0) < 0.03, span->last);
}

// Before the shared FilterGraph, the audio track reported only "Invalid argument".
BOOST_AUTO_TEST_CASE(a_bad_audio_filter_is_reported_in_ffmpegs_words) {
    t::Sandbox box;
    auto file = MappedFile::open(pcm_tone());
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    auto plan = plan_audio(demuxer->format(), rr::AudioSettings{}, rr::Container::mp4, true);
    BOOST_REQUIRE(plan.ok());
    BOOST_REQUIRE(plan->streams.size() == 1u);
    plan->streams[0].filter = "highpass=f=80,nosuchfilter=1";
    auto s = write_audio(*file, *plan, box / "audio.nut", {});
    BOOST_REQUIRE(!s.ok());
    BOOST_TEST(s.error().code == rr::Errc::invalid_argument);
    BOOST_TEST(s.error().message.find("No such filter: 'nosuchfilter'") != std::string::npos,
               s.error().message);
}

BOOST_AUTO_TEST_CASE(write_audio_keeps_every_sample_of_a_trimmed_stream) {
    t::Sandbox box;
    auto file = MappedFile::open(pcm_tone());
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    rr::AudioSettings settings;
    auto plan = plan_audio(demuxer->format(), settings, rr::Container::mkv, false);
    BOOST_REQUIRE(plan.ok());
    trim_audio(*plan, 0.5, 1.5, settings);
    BOOST_REQUIRE(write_audio(*file, *plan, box / "audio.nut", {}).ok());
    auto written = MappedFile::open(box / "audio.nut");
    BOOST_REQUIRE(written.ok());
    auto l = measure_loudness(*written, 0, "", {});
    BOOST_REQUIRE(l.ok());
    BOOST_TEST(std::abs(l->seconds - 1.0) < 0.03, l->seconds);
}

BOOST_AUTO_TEST_CASE(a_meter_decodes_a_short_stream_once_and_measures_the_same) {
    auto file = MappedFile::open(pcm_tone());
    BOOST_REQUIRE(file.ok());
    LoudnessMeter meter(*file, 0, size_t{64} << 20);
    auto plain = meter.measure("", {});
    auto quieter = meter.measure("volume=-6dB", {});
    auto again = meter.measure("", {});
    BOOST_REQUIRE(plain.ok());
    BOOST_REQUIRE(quieter.ok());
    BOOST_REQUIRE(again.ok());
    BOOST_TEST(meter.decodes() == 1);
    auto fresh = measure_loudness(*file, 0, "volume=-6dB", {});
    BOOST_REQUIRE(fresh.ok());
    BOOST_TEST(quieter->integrated == fresh->integrated);
    BOOST_TEST(quieter->true_peak == fresh->true_peak);
    BOOST_TEST(quieter->seconds == fresh->seconds);
    BOOST_TEST(again->integrated == plain->integrated);

    LoudnessMeter small(*file, 0, 1000);  // too little room: every measurement decodes
    BOOST_REQUIRE(small.measure("", {}).ok());
    auto small_quieter = small.measure("volume=-6dB", {});
    BOOST_REQUIRE(small_quieter.ok());
    BOOST_TEST(small.decodes() == 2);
    BOOST_TEST(small_quieter->integrated == fresh->integrated);
}
