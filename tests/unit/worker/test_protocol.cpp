#define BOOST_TEST_MODULE unit_worker_protocol
// The worker conversation: frames survive any split, broken bytes are refused, and job
// settings cross the socket whole.

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "core/config.h"
#include "worker/protocol.h"
#include "worker/settings_json.h"

namespace w = rr::worker;
using nlohmann::json;

namespace {

struct SocketPair {
    int fd[2] = {-1, -1};
    SocketPair() { BOOST_REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fd) == 0); }
    ~SocketPair() {
        for (int f : fd)
            if (f >= 0) ::close(f);
    }
};

}  // namespace

BOOST_AUTO_TEST_CASE(messages_arrive_whole_and_in_order_even_byte_by_byte) {
    SocketPair sp;
    const json big = {{"ok", true}, {"result", {{"text", std::string(100000, 'x')}}}};
    // Written one byte at a time from another thread, read incrementally.
    std::string frames;
    {
        SocketPair tmp;
        BOOST_REQUIRE(w::send_message(tmp.fd[0], {{"progress", 7}}).ok());
        BOOST_REQUIRE(w::send_message(tmp.fd[0], big).ok());
        ::shutdown(tmp.fd[0], SHUT_WR);
        char buf[4096];
        ssize_t n;
        while ((n = ::read(tmp.fd[1], buf, sizeof buf)) > 0)
            frames.append(buf, static_cast<size_t>(n));
    }
    std::thread writer([&] {
        for (char c : frames) (void)!::write(sp.fd[0], &c, 1);
        ::shutdown(sp.fd[0], SHUT_WR);
    });
    ::fcntl(sp.fd[1], F_SETFL, O_NONBLOCK);
    w::MessageReader reader;
    std::vector<json> got;
    bool open = true;
    while (open) {
        auto more = reader.feed(sp.fd[1]);
        BOOST_REQUIRE(more.ok());
        open = *more;
        while (true) {
            auto m = reader.next();
            BOOST_REQUIRE(m.ok());
            if (!*m) break;
            got.push_back(**m);
        }
        if (open) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    writer.join();
    BOOST_REQUIRE_EQUAL(got.size(), 2u);
    BOOST_TEST(got[0]["progress"] == 7);
    BOOST_TEST(got[1] == big);
}

BOOST_AUTO_TEST_CASE(broken_frames_are_refused) {
    SocketPair sp;
    const std::string not_json("\x05\x00\x00\x00hello", 9);
    BOOST_REQUIRE(::write(sp.fd[0], not_json.data(), not_json.size()) == 9);
    auto m = w::read_message(sp.fd[1]);
    BOOST_TEST(!m.ok());
    const std::string huge("\xff\xff\xff\x7f", 4);
    BOOST_REQUIRE(::write(sp.fd[0], huge.data(), huge.size()) == 4);
    m = w::read_message(sp.fd[1]);
    BOOST_TEST(!m.ok());
    BOOST_TEST(m.error().message.find("too large") != std::string::npos);
    // A clean end before a frame is no message, not an error.
    ::shutdown(sp.fd[0], SHUT_WR);
    m = w::read_message(sp.fd[1]);
    BOOST_REQUIRE(m.ok());
    BOOST_TEST(!m->has_value());
}

BOOST_AUTO_TEST_CASE(errors_keep_their_kind) {
    const auto e = w::error_from_json(w::error_to_json(rr::make_error(rr::Errc::no_space, "full")));
    BOOST_TEST(e.code == rr::Errc::no_space);
    BOOST_TEST(e.message == "full");
}

BOOST_AUTO_TEST_CASE(job_settings_cross_the_socket_whole) {
    auto cfg = rr::parse_config_text(R"(
workers: 3
chunk_seconds: 4.5
limits: {max_pixels: 1000000, decode_error_ratio: 0.25, truncated: fail, worker_memory_mb: 1234,
         worker_seconds_per_chunk: 77}
profiles:
  p:
    stages: [grayscale, {blur: {radius: 3}}]
    video: {codec: hevc, crf: 30, preset: slow, hwaccel: none, pix_fmt: yuv420p10le}
    audio: {codec: opus, bitrate: 96k}
    container: mkv
)",
                                     "test.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    rr::pipeline::JobSettings s;
    s.profile = cfg->profiles.at("p");
    s.workers = cfg->workers;
    s.chunk_seconds = cfg->chunk_seconds;
    s.limits = cfg->limits;
    s.models_dir = "/models";
    s.work_dir = "/work/job-1";
    const json j = w::settings_to_json(s);
    auto back = w::settings_from_json(json::parse(j.dump()));
    BOOST_REQUIRE(back.ok());
    BOOST_TEST(w::settings_to_json(*back) == j);
    BOOST_TEST(back->limits.worker_memory_mb == 1234);
    BOOST_TEST(back->limits.worker_seconds_per_chunk == 77);
    // Damage policy decides what a worker delivers: it must reach the worker as configured.
    BOOST_TEST(back->limits.decode_error_ratio == 0.25);
    BOOST_TEST(back->limits.truncated == "fail");
    BOOST_TEST(back->profile.stages.size() == 2u);
    BOOST_TEST(back->profile.stages[1].params["radius"] == 3);
    BOOST_TEST(back->profile.video.pix_fmt == "yuv420p10le");
    BOOST_TEST((back->profile.container == rr::Container::mkv));
    BOOST_TEST(!w::settings_from_json(json{{"profile", 1}}).ok());
}
