#define BOOST_TEST_MODULE media_input
#include <sys/resource.h>
#include <xxhash.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <fstream>

#include "media/checksum.h"
#include "media/chunk_source.h"
#include "media/demuxer.h"
#include "media/frame_index.h"
#include "media/mmap_avio.h"
#include "support/media.h"
#include "support/sandbox.h"

using namespace rr::media;
namespace t = rr::test;

namespace {

// B-frames, open GOPs, a keyframe every 25 frames: the hardest case for exact chunks.
std::filesystem::path bframes_clip() {
    return t::fixture(
        "unit_bframes_opengop.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=8 -c:v libx264 -preset veryfast "
        "-g 25 -bf 3 -x264-params open-gop=1:scenecut=0");
}

}  // namespace

BOOST_AUTO_TEST_CASE(checksum_matches_xxh3_128_of_the_bytes) {
    t::Sandbox box;
    std::string data(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 2654435761u) >> 13);
    t::write_file(box / "blob", data);
    auto file = MappedFile::open(box / "blob");
    BOOST_REQUIRE(file.ok());
    XXH128_canonical_t c;
    XXH128_canonicalFromHash(&c, XXH3_128bits(data.data(), data.size()));
    char hex[33];
    for (int i = 0; i < 16; ++i) std::snprintf(hex + 2 * i, 3, "%02x", c.digest[i]);
    BOOST_TEST(xxh3_128_hex(*file) == std::string(hex));
    BOOST_TEST(xxh3_128_file(box / "blob").value() == std::string(hex));
}

BOOST_AUTO_TEST_CASE(avio_reads_and_seeks_within_the_mapping) {
    t::Sandbox box;
    std::string data;
    for (int i = 0; i < 100000; ++i) data += static_cast<char>('a' + i % 26);
    t::write_file(box / "letters", data);
    auto file = MappedFile::open(box / "letters");
    BOOST_REQUIRE(file.ok());
    auto io = MmapAvio::create(*file);
    BOOST_REQUIRE(io.ok());
    AVIOContext* ctx = (*io)->context();
    BOOST_TEST(avio_size(ctx) == 100000);
    unsigned char buf[4];
    BOOST_TEST(avio_seek(ctx, 27, SEEK_SET) == 27);
    BOOST_TEST(avio_read(ctx, buf, 3) == 3);
    BOOST_TEST(std::string(reinterpret_cast<char*>(buf), 3) == "bcd");
    BOOST_TEST(avio_seek(ctx, 99998, SEEK_SET) == 99998);
    BOOST_TEST(avio_read(ctx, buf, 4) == 2);
    BOOST_TEST(avio_feof(ctx) != 0);  // reading past the end reports EOF, not an error
}

BOOST_AUTO_TEST_CASE(empty_and_garbage_files_are_refused_with_reasons) {
    t::Sandbox box;
    t::write_file(box / "empty.mp4", "");
    auto empty = MappedFile::open(box / "empty.mp4");
    BOOST_REQUIRE(empty.ok());
    auto d = Demuxer::open(*empty, true);
    BOOST_REQUIRE(!d.ok());
    BOOST_TEST(d.error().message.find("empty") != std::string::npos);

    std::string junk(50000, '\0');
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>((i * 7919u) ^ (i >> 3));
    t::write_file(box / "junk.mp4", junk);
    auto garbage = MappedFile::open(box / "junk.mp4");
    BOOST_REQUIRE(garbage.ok());
    auto g = Demuxer::open(*garbage, true);
    BOOST_REQUIRE(!g.ok());
    BOOST_TEST(g.error().message.find("not a recognised media file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(index_lists_every_frame_and_keyframe) {
    auto file = MappedFile::open(bframes_clip());
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    int vs = demuxer->best_video_stream();
    auto index = build_frame_index(*demuxer, vs, file->size());
    BOOST_REQUIRE(index.ok());
    BOOST_TEST(index->exact);
    BOOST_TEST(index->frames() == 200u);
    BOOST_TEST(index->keys.size() >= 8u);
    for (size_t i = 1; i < index->pts.size(); ++i) BOOST_TEST(index->pts[i] > index->pts[i - 1]);
}

// Found by fuzz.media: the index reserved room for every frame the header promised, so an AVI
// whose stream header claims 2^31 frames asked for 48 GiB. With the address space limited to
// what the process has plus 2 GiB (as a worker's limits.worker_memory_mb would), indexing must
// still work, and count the frames that are there.
BOOST_AUTO_TEST_CASE(index_of_a_header_promising_billions_of_frames_stays_small) {
    auto clip = t::fixture("unit_mpeg4_short.avi",
                           "-f lavfi -i testsrc2=size=96x64:rate=25:duration=1 -c:v mpeg4 -q:v 8");
    std::string bytes = t::read_file(clip);
    const auto strh = bytes.find("strh");
    BOOST_REQUIRE(strh != std::string::npos);
    const uint32_t claimed = 0x7fffffff;  // dwLength: fcc, size, then 8 fields of 4 bytes
    std::memcpy(bytes.data() + strh + 8 + 32, &claimed, sizeof claimed);
    t::Sandbox box;
    t::write_file(box / "claims.avi", bytes);

    auto file = MappedFile::open(box / "claims.avi");
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    const int vs = demuxer->best_video_stream();
    BOOST_REQUIRE(demuxer->stream(vs)->nb_frames == claimed);

    size_t vm_kb = 0;
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmSize:", 0) == 0) vm_kb = std::stoul(line.substr(7));
    rlimit old{};
    getrlimit(RLIMIT_AS, &old);
    rlimit tight = old;
    tight.rlim_cur = (vm_kb << 10) + (size_t{2} << 30);
    BOOST_REQUIRE(setrlimit(RLIMIT_AS, &tight) == 0);
    auto index = [&] {
        try {
            return build_frame_index(*demuxer, vs, file->size(), true);
        } catch (const std::bad_alloc&) {
            setrlimit(RLIMIT_AS, &old);
            throw;
        }
    }();
    setrlimit(RLIMIT_AS, &old);
    BOOST_REQUIRE(index.ok());
    BOOST_TEST(index->frames() == 25u);
}

// Found by `scripts/fuzz --files`: one flipped byte in a transport stream's PES header put a
// frame two hours after its decode time; the index kept it there and the job failed ("no
// decodable frame near 7550 s") where the ffmpeg CLI delivers every frame.
BOOST_AUTO_TEST_CASE(a_damaged_presentation_time_keeps_its_frame_in_decode_order) {
    auto clip = t::fixture("unit_h264_bframes.ts",
                           "-f lavfi -i testsrc2=size=96x64:rate=25:duration=1 -c:v libx264 "
                           "-preset ultrafast -bf 2 -g 10");
    std::string bytes = t::read_file(clip);
    // The 9th video PES header that carries a PTS and a DTS: move its PTS ~2 h ahead.
    size_t at = 0;
    for (int found = 0; found < 9; ++at) {
        at = bytes.find(std::string("\x00\x00\x01\xe0", 4), at);
        BOOST_REQUIRE(at != std::string::npos);
        if ((static_cast<uint8_t>(bytes[at + 7]) & 0xc0) == 0xc0) ++found;
    }
    --at;
    const int64_t pts = int64_t{679635648};
    char* p = bytes.data() + at + 9;
    p[0] = static_cast<char>((p[0] & 0xf1) | ((pts >> 29) & 0x0e));
    p[1] = static_cast<char>((pts >> 22) & 0xff);
    p[2] = static_cast<char>(((pts >> 14) & 0xfe) | 1);
    p[3] = static_cast<char>((pts >> 7) & 0xff);
    p[4] = static_cast<char>(((pts << 1) & 0xfe) | 1);
    t::Sandbox box;
    t::write_file(box / "damaged.ts", bytes);

    auto file = MappedFile::open(box / "damaged.ts");
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    const int vs = demuxer->best_video_stream();
    auto index = build_frame_index(*demuxer, vs, file->size(), true);
    BOOST_REQUIRE(index.ok());
    BOOST_TEST(index->frames() == 25u);
    BOOST_TEST(!index->exact);
    BOOST_TEST(index->seconds(index->pts.back()) < 1.0);
    for (size_t i = 1; i < index->pts.size(); ++i) BOOST_TEST(index->pts[i] > index->pts[i - 1]);
}

BOOST_AUTO_TEST_CASE(chunk_source_delivers_exactly_the_chunk_from_any_start) {
    auto file = MappedFile::open(bframes_clip());
    BOOST_REQUIRE(file.ok());
    auto demuxer = Demuxer::open(*file, true);
    BOOST_REQUIRE(demuxer.ok());
    int vs = demuxer->best_video_stream();
    auto index = build_frame_index(*demuxer, vs, file->size());
    BOOST_REQUIRE(index.ok());
    // On a keyframe, just after one, and just before one (leading B-frames of an open GOP).
    for (auto [first, end] :
         {std::pair<int64_t, int64_t>{50, 75}, {51, 90}, {74, 76}, {0, 30}, {190, 200}}) {
        auto src = ChunkSource::open(*file, vs, *index, first, end, 1);
        BOOST_REQUIRE(src.ok());
        std::vector<int64_t> got;
        while (true) {
            auto f = src->next();
            BOOST_REQUIRE(f.ok());
            if (!*f) break;
            got.push_back((*f)->pts);
        }
        std::vector<int64_t> want(index->pts.begin() + first, index->pts.begin() + end);
        BOOST_TEST(got == want, boost::test_tools::per_element());
        BOOST_TEST(src->lost().empty());
        BOOST_TEST(src->damaged().empty());
    }
}
