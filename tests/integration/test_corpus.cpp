// The input corpus: short clips in the containers and codecs people bring (legacy, broadcast,
// camera, web), made at test time with lavfi and FFmpeg's own encoders. Each one goes through
// `renderrushd process` and must come out with every frame the ffmpeg CLI decodes, at its
// time, with every audio stream kept (or its re-encoding explained) and as long as before; or,
// where no video can come out, fail with a named reason and leave nothing behind.
//
// One test case per variant (`--run_test=corpus/<name>`), registered from the table below.

#define BOOST_TEST_MODULE integration_corpus
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <fstream>
#include <sstream>

#include "support/cli.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
namespace utf = boost::unit_test;

namespace {

enum class Expect {
    delivers,      // every decoded frame and every audio stream comes out
    named_failure  // no video can come out: refused with `symptom` in the message
};

struct Variant {
    std::string name;    // test case name; the cached file is corpus_<name>.<ext>
    std::string ext;     // the file's extension
    std::string recipe;  // shell command writing "$OUT"
    Expect expect = Expect::delivers;
    std::string symptom;    // named_failure: text the error must contain
    std::string encoder;    // an encoder the recipe needs ("" = always present)
    int dropped_audio = 0;  // audio streams that cannot come out (explained in the sidecar)
};

// 1.2 s of moving picture and a tone, small enough that the whole corpus runs in about a
// minute on two cores.
const std::string kVideo = "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1.2 ";
const std::string kTone48 = "-f lavfi -i sine=frequency=440:sample_rate=48000:duration=1.2 ";
const std::string kTone44 = "-f lavfi -i sine=frequency=440:sample_rate=44100:duration=1.2 ";
const std::string kX264 = "-c:v libx264 -preset ultrafast ";

// python3 IN OUT: copies a transport stream, setting the sampling-frequency index of the fifth
// ADTS header in the audio PID (0x101, FFmpeg's first audio stream) to 15, which is invalid.
const std::string kBreakFifthAdtsHeader =
    "python3 -c \"import sys\n"
    "d = bytearray(open(sys.argv[1], 'rb').read()); n = 0\n"
    "for k in range(0, len(d) - 188, 188):\n"
    "    if ((d[k + 1] & 0x1f) << 8 | d[k + 2]) != 0x101: continue\n"
    "    i = d.find(b'\\xff\\xf1', k + 4, k + 185)\n"
    "    if i < 0: continue\n"
    "    n += 1\n"
    "    if n == 5: d[i + 2] |= 0x3c; break\n"
    "open(sys.argv[2], 'wb').write(d)\n"
    "sys.exit(0 if n == 5 else 1)\"";

// python3 IN OUT: copies an MP4, overwriting the body of the sample-size table (stsz) of the
// first sound track (the first stsz after the 'soun' handler) with 0xff bytes.
const std::string kBreakAudioSampleTable =
    "python3 -c \"import sys\n"
    "d = bytearray(open(sys.argv[1], 'rb').read())\n"
    "i = d.find(b'stsz', d.find(b'soun'))\n"
    "if d.find(b'soun') < 0 or i < 0: sys.exit(1)\n"
    "n = int.from_bytes(d[i - 4:i], 'big')\n"
    "d[i + 4:i - 4 + n] = b'\\xff' * (n - 8)\n"
    "open(sys.argv[2], 'wb').write(d)\"";

std::string ff(const std::string& args, const std::string& muxer, const std::string& out = "$OUT") {
    return "ffmpeg -hide_banner -nostdin -loglevel error -y " + args + " -f " + muxer + " \"" +
           out + "\"";
}

std::vector<Variant> variants() {
    std::vector<Variant> v;
    auto add = [&](std::string name, std::string ext, std::string recipe,
                   std::string encoder = "") {
        v.push_back({std::move(name), std::move(ext), std::move(recipe), Expect::delivers, "",
                     std::move(encoder)});
    };
    // AVI: MPEG-4 ASP with B-frames unpacked (FFmpeg) and packed (Xvid), H.264 B-frames (no
    // presentation times at all), MJPEG.
    add("avi_mpeg4_bframes_mp3", "avi",
        ff(kVideo + kTone44 + "-c:v mpeg4 -bf 2 -vtag XVID -q:v 5 -c:a libmp3lame -b:a 64k", "avi"),
        "libmp3lame");
    add("avi_xvid_packed_pcm", "avi",
        ff(kVideo + kTone44 + "-c:v libxvid -bf 2 -q:v 5 -c:a pcm_s16le", "avi"), "libxvid");
    add("avi_h264_bframes_ac3", "avi",
        ff(kVideo + kTone48 + kX264 + "-bf 2 -c:a ac3 -b:a 96k", "avi"));
    add("avi_mjpeg_pcm", "avi", ff(kVideo + kTone48 + "-c:v mjpeg -q:v 5 -c:a pcm_s16le", "avi"));
    // ASF: WMV8 with WMA2, whose decoded frames carry no timestamps.
    add("asf_wmv2_wmav2", "wmv",
        ff(kVideo + kTone44 + "-c:v wmv2 -q:v 5 -c:a wmav2 -b:a 64k", "asf"));
    // MPEG program streams (MPEG-1 and MPEG-2) and transport streams.
    add("ps_mpeg1_mp2", "mpg",
        ff(kVideo + kTone44 + "-c:v mpeg1video -bf 2 -q:v 5 -c:a mp2 -b:a 128k", "mpeg"));
    add("ps_mpeg2_mp2", "vob",
        ff(kVideo + kTone48 + "-c:v mpeg2video -bf 2 -q:v 5 -c:a mp2 -b:a 128k", "vob"));
    add("ts_mpeg2_mp2", "ts",
        ff(kVideo + kTone48 + "-c:v mpeg2video -bf 2 -q:v 5 -c:a mp2 -b:a 128k", "mpegts"));
    // Timestamps start 0.5 s before the 33-bit clock wraps (2^33 / 90 kHz = 95443.72 s).
    add("ts_h264_ac3_pts_wrap", "ts",
        ff(kVideo + kTone48 + kX264 + "-bf 2 -c:a ac3 -b:a 96k -output_ts_offset 95443.2",
           "mpegts"));
    // Two recordings cut together: the second segment's clock starts over, 8 s earlier.
    add("ts_discontinuity", "ts",
        ff(kVideo + kTone48 + kX264 + "-c:a aac -output_ts_offset 10", "mpegts", "$OUT.1") +
            " && " +
            ff(kVideo + kTone48 + kX264 + "-c:a aac -output_ts_offset 2", "mpegts", "$OUT.2") +
            " && cat \"$OUT.1\" \"$OUT.2\" > \"$OUT\"; rm -f \"$OUT.1\" \"$OUT.2\"");
    // One AAC frame's ADTS header damaged (sampling index 15): the ffmpeg CLI decodes around
    // it; a copy into MP4 went through aac_adtstoasc, which refused it and the whole output.
    add("ts_aac_damaged_adts_header", "ts",
        ff(kVideo + kTone48 + kX264 + "-c:a aac", "mpegts", "$OUT.src") + " && " +
            kBreakFifthAdtsHeader + " \"$OUT.src\" \"$OUT\"; rm -f \"$OUT.src\"");
    add("dv_pal", "dv",
        ff(kVideo + kTone48 +
               "-vf scale=720:576,setsar=16/15 -pix_fmt yuv420p -c:v dvvideo -c:a pcm_s16le -ac "
               "2 -t 1",
           "dv"));
    add("flv_sorenson_mp3", "flv",
        ff(kVideo + kTone44 + "-c:v flv -q:v 5 -c:a libmp3lame -b:a 64k", "flv"), "libmp3lame");
    add("flv_h264_aac", "flv", ff(kVideo + kTone44 + kX264 + "-bf 2 -c:a aac -b:a 64k", "flv"));
    add("ogg_theora_vorbis", "ogv",
        ff(kVideo + kTone48 + "-c:v libtheora -q:v 5 -c:a libvorbis -q:a 2", "ogg"), "libtheora");
    add("3gp_h263_aac_8k", "3gp",
        ff(kVideo + kTone48 + "-vf scale=176:144 -c:v h263 -q:v 5 -c:a aac -b:a 32k -ac 1 -ar 8000",
           "3gp"));
    // Cut with stream copy off a keyframe: the MP4/MOV edit list hides the frames before the
    // cut, which are still in the file.
    for (const std::string muxer : {"mp4", "mov"}) {
        const std::string src =
            ff("-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 "
               "-f lavfi -i sine=sample_rate=48000:duration=2 " +
                   kX264 + "-bf 2 -g 25 -c:a aac",
               "mp4", "$OUT.src");
        add(muxer + "_edit_list", muxer,
            src + " && " + ff("-ss 0.5 -i \"$OUT.src\" -c copy", muxer) + "; rm -f \"$OUT.src\"");
    }
    add("mov_prores_pcm24", "mov",
        ff(kVideo + kTone48 + "-c:v prores_ks -profile:v 0 -c:a pcm_s24le", "mov"));
    add("mov_dnxhr_422_pcm", "mov",
        ff(kVideo + kTone48 + "-c:v dnxhd -profile:v dnxhr_lb -pix_fmt yuv422p -c:a pcm_s16le",
           "mov"));
    add("mov_h264_pcm", "mov", ff(kVideo + kTone48 + kX264 + "-c:a pcm_s16le", "mov"));
    add("webm_vp9_opus", "webm",
        ff(kVideo + kTone48 +
               "-c:v libvpx-vp9 -deadline realtime -cpu-used 8 -b:v 200k -c:a libopus -b:a 48k",
           "webm"),
        "libvpx-vp9");
    add("mkv_hevc_10bit_aac", "mkv",
        ff(kVideo + kTone48 +
               "-c:v libx265 -preset ultrafast -pix_fmt yuv420p10le -x265-params log-level=error "
               "-c:a aac",
           "matroska"),
        "libx265");
    add("mp4_av1", "mp4", ff(kVideo + "-c:v libsvtav1 -preset 12 -crf 50", "mp4"), "libsvtav1");
    add("gif_animated", "gif", ff("-f lavfi -i testsrc2=size=160x120:rate=10:duration=1.2", "gif"));
    add("mkv_h264_yuv422", "mkv",
        ff(kVideo + kTone48 + kX264 + "-pix_fmt yuv422p -c:a aac", "matroska"));
    // FLAC, which MP4 holds only experimentally in FFmpeg 5.1.
    add("mkv_h264_yuv444_flac", "mkv",
        ff(kVideo + kTone48 + kX264 + "-pix_fmt yuv444p -c:a flac", "matroska"));
    // testsrc2 makes its pictures even-sized whatever size it is asked for: scale to the odd
    // size afterwards, and 4:4:4 so that the encoder keeps it.
    add("mp4_odd_size_321x241_yuv444", "mp4",
        ff("-f lavfi -i testsrc2=size=320x240:rate=25:duration=1.2 " + kTone48 +
               "-vf scale=321:241 " + kX264 + "-pix_fmt yuv444p -c:a aac",
           "mp4"));
    // Damaged MP4 whose sound track's sample table is unreadable: the ffmpeg CLI delivers the
    // video alone, and so does RenderRush, saying why.
    v.push_back({"mp4_damaged_audio_sample_table", "mp4",
                 ff(kVideo + kTone48 + kX264 + "-c:a aac", "mp4", "$OUT.src") + " && " +
                     kBreakAudioSampleTable + " \"$OUT.src\" \"$OUT\"; rm -f \"$OUT.src\"",
                 Expect::delivers, "", "", 1});
    add("mkv_two_audio_streams", "mkv",
        ff(kVideo + kTone48 + "-f lavfi -i sine=frequency=880:sample_rate=44100:duration=1.2 " +
               "-map 0:v -map 1:a -map 2:a " + kX264 + "-c:a:0 aac -c:a:1 ac3",
           "matroska"));
    add("mkv_h264_mp2", "mkv", ff(kVideo + kTone48 + kX264 + "-c:a mp2", "matroska"));
    add("mp4_no_audio", "mp4", ff(kVideo + kX264 + "-bf 2", "mp4"));
    // Variable frame rate: gaps of 0.3 s and 0.1 s.
    add("mkv_vfr", "mkv",
        ff(kVideo + kTone48 +
               "-vf \"setpts='PTS+if(gte(N,10),0.3/TB,0)+if(gte(N,20),0.1/TB,0)'\" -vsync vfr " +
               kX264 + "-c:a aac",
           "matroska"));
    // A phone held upright: the display matrix says 90°.
    add("mp4_rotated_90", "mp4",
        ff(kVideo + kTone48 + kX264 + "-c:a aac", "mp4", "$OUT.src") + " && " +
            ff("-i \"$OUT.src\" -c copy -metadata:s:v:0 rotate=90", "mp4") +
            "; rm -f \"$OUT.src\"");
    v.push_back({"audio_only_m4a", "m4a", ff(kTone48 + "-c:a aac", "ipod"), Expect::named_failure,
                 "audio-only", ""});
    v.push_back({"still_image_png", "png",
                 ff("-f lavfi -i testsrc2=size=320x240:rate=1 -frames:v 1", "image2"),
                 Expect::named_failure, "still image", ""});
    return v;
}

bool has_encoder(const std::string& name) {
    auto r = t::run({"ffmpeg", "-hide_banner", "-encoders"});
    return r.out.find(" " + name + " ") != std::string::npos;
}

// The shipped configuration with every profile at x264's fastest preset.
std::filesystem::path fast_config(const t::Sandbox& box) {
    std::string text = t::read_file(t::source_dir() / "config/renderrush.yaml");
    for (size_t at = 0; (at = text.find("preset: medium", at)) != std::string::npos;)
        text.replace(at, 14, "preset: ultrafast");
    t::write_file(box / "corpus.yaml", text);
    return box / "corpus.yaml";
}

int audio_streams(const std::filesystem::path& file) {
    return static_cast<int>(
        t::ffprobe(file, "-select_streams a -show_entries stream=index")["streams"].size());
}

std::optional<double> rotation(const std::filesystem::path& file) {
    auto s = t::video_stream(file);
    if (!s.contains("side_data_list")) return std::nullopt;
    for (const auto& d : s["side_data_list"])
        if (d.contains("rotation")) return d["rotation"].get<double>();
    return std::nullopt;
}

// How long stream `sel` plays as the ffmpeg libraries decode it (edit lists and skipped
// samples applied), read the way the ffmpeg CLI reads a clock: a frame without a timestamp
// (AVI) lasts as long as the one before, and a jump back in time or ahead by more than 10 s
// (transport streams cut together) counts as one frame.
double decoded_span(const std::filesystem::path& file, const std::string& sel) {
    auto j = t::ffprobe(file, "-select_streams " + sel +
                                  " -show_entries frame=best_effort_timestamp_time,"
                                  "pkt_duration_time");
    auto number = [](const nlohmann::json& f, const char* key) {
        return f.contains(key) ? std::stod(f[key].get<std::string>()) : -1.0;
    };
    double total = 0, last = -1, step = 0;
    for (const auto& f : j["frames"]) {
        const double at = number(f, "best_effort_timestamp_time");
        const double d = number(f, "pkt_duration_time");
        if (at >= 0 && last >= 0) {
            const double delta = at - last;
            total += (delta < 0 || delta > 10) ? step : delta;
            step = d > 0 ? d : (delta > 0 && delta <= 10 ? delta : step);
        } else if (last >= 0) {
            total += step;  // no timestamp: one more frame at the same pace
        } else if (d > 0) {
            step = d;
        }
        if (at >= 0)
            last = at;
        else if (last >= 0)
            last += step;
    }
    return total + step;
}

void delivers(const Variant& v, const std::filesystem::path& in) {
    const int64_t reference = t::ffmpeg_cli_frames(in);
    BOOST_REQUIRE_MESSAGE(reference > 0, "the ffmpeg CLI decodes no frame of " << in);
    t::Sandbox box;
    auto r = t::process(in, box / "out.mp4",
                        {"--config", fast_config(box).string(), "--chunk-seconds", "0.5"});
    BOOST_REQUIRE_MESSAGE(r.cmd.exit_code == 0, v.name << ": " << r.cmd.err);
    const auto side = r.sidecar();
    const auto frames = side["frames"];
    BOOST_TEST_MESSAGE(v.name << ": ffmpeg " << reference << " frames; sidecar " << frames.dump()
                              << "; audio " << side["audio"].dump());

    // Every frame, once, at its time.
    const auto out = box / "out.mp4";
    BOOST_TEST(frames["input"].get<int64_t>() == reference);
    BOOST_TEST(frames["output"].get<int64_t>() == reference);
    BOOST_TEST(frames["lost"].get<int64_t>() == 0);
    const auto out_times = t::frame_times(out);
    BOOST_TEST(static_cast<int64_t>(out_times.size()) == reference);
    for (size_t i = 1; i < out_times.size(); ++i) BOOST_TEST(out_times[i] > out_times[i - 1]);
    const double in_video = decoded_span(in, "v:0");
    const double out_video = decoded_span(out, "v:0");
    const double frame = in_video / static_cast<double>(reference);
    // Or as long as the container's own count of frame times (packed AVI: the encoder's
    // delay is two empty chunks, the first picture fills their slots).
    const double declared = t::stream_duration(t::video_stream(in));
    BOOST_TEST((std::abs(out_video - in_video) <= frame + 1e-3 ||
                std::abs(out_video - declared) <= frame + 1e-3),
               "video lasts " << in_video << " s in (" << declared << " s declared), " << out_video
                              << " s out");

    // Every audio stream kept, encoded only where the sidecar says why, as long as before and
    // as long as the video within one video frame plus one audio frame.
    const int in_audio = audio_streams(in);
    BOOST_TEST(static_cast<int>(side["audio"].size()) == in_audio);
    int dropped = 0;
    for (const auto& a : side["audio"]) {
        BOOST_TEST(!a["reason"].get<std::string>().empty());
        dropped += a["mode"] == "dropped" ? 1 : 0;
    }
    BOOST_TEST(dropped == v.dropped_audio);
    BOOST_TEST(audio_streams(out) == in_audio - dropped);
    // Stream i out is stream i in only where none was dropped.
    for (int i = 0; dropped == 0 && i < std::min(in_audio, audio_streams(out)); ++i) {
        const std::string sel = "a:" + std::to_string(i);
        const double in_a = decoded_span(in, sel);
        const double out_a = decoded_span(out, sel);
        const double tolerance = frame + 1024.0 / 8000;  // the longest audio frame here
        BOOST_TEST(std::abs(out_a - in_a) <= tolerance,
                   sel << " lasts " << in_a << " s in, " << out_a << " s out");
        BOOST_TEST(std::abs(out_a - out_video) <= std::abs(in_a - in_video) + tolerance,
                   sel << " " << out_a << " s against video " << out_video << " s (input " << in_a
                       << " against " << in_video << ")");
    }
    BOOST_TEST((rotation(out) == rotation(in)), "rotation kept");

    // 4:2:0 output needs even sizes: an odd column or row is cropped, and the sidecar says so.
    const auto in_v = t::video_stream(in), out_v = t::video_stream(out);
    const int in_w = in_v["width"].get<int>(), in_h = in_v["height"].get<int>();
    const bool odd = in_w % 2 != 0 || in_h % 2 != 0;
    BOOST_TEST(frames["cropped_to_even"].get<bool>() == odd);
    BOOST_TEST(out_v["width"].get<int>() == (in_w & ~1));
    BOOST_TEST(out_v["height"].get<int>() == (in_h & ~1));
}

void named_failure(const Variant& v, const std::filesystem::path& in) {
    t::Sandbox box;
    auto r = t::process(in, box / "out.mp4", {"--config", fast_config(box).string()});
    BOOST_TEST(r.cmd.exit_code != 0);
    BOOST_TEST(r.cmd.err.find(v.symptom) != std::string::npos, r.cmd.err);
    BOOST_TEST(box.list() == std::vector<std::string>{"corpus.yaml"});
}

void check(const Variant& v) {
    if (!v.encoder.empty() && !has_encoder(v.encoder)) {
        BOOST_TEST_MESSAGE(v.name << ": no " << v.encoder << " encoder here; not tested");
        return;
    }
    const auto in = t::fixture_by("corpus_" + v.name + "." + v.ext, v.recipe);
    if (v.expect == Expect::delivers)
        delivers(v, in);
    else
        named_failure(v, in);
}

// One test case per variant, registered before the runner starts (as BOOST_AUTO_TEST_CASE
// does), so each is listed, run and reported by its own name.
struct RegisterCorpus {
    RegisterCorpus() {
        auto* suite = BOOST_TEST_SUITE("corpus");
        for (const auto& v : variants())
            suite->add(utf::make_test_case([v] { check(v); }, v.name, __FILE__, __LINE__));
        utf::framework::master_test_suite().add(suite);
    }
};
const RegisterCorpus register_corpus;

}  // namespace
