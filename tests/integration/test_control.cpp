#define BOOST_TEST_MODULE integration_control
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <set>
#include <thread>

#include "control/client.h"
#include "support/ctl.h"
#include "support/daemon.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using rr::control::Client;
using rr::control::Code;
using rr::store::JobState;
using namespace std::chrono_literals;

namespace {

const std::string kProfiles = R"(profiles:
  plain:
    video: {codec: h264, preset: ultrafast, hwaccel: none}
  slow:
    stages: [{blur: {radius: 6}}]
    video: {codec: h264, preset: medium, hwaccel: none}
)";

std::string config_for(const t::Daemon& d, const std::string& extra = "") {
    return "chunk_seconds: 2\nwatches:\n  - {path: " + d.dir("inbox").string() +
           ", profile: by-folder, output: " + d.dir("outbox").string() +
           ", settle_seconds: 1}\nsubmit_roots: [" + d.dir("uploads").string() + "]\n" + extra +
           kProfiles;
}

std::filesystem::path socket_of(const t::Daemon& d) {
    return d.dir("run") / "control.sock";
}

Client connect(const t::Daemon& d) {
    BOOST_REQUIRE(t::wait_until([&] { return std::filesystem::exists(socket_of(d)); }, 20s));
    auto c = Client::connect(socket_of(d));
    BOOST_REQUIRE_MESSAGE(c.ok(), (c.ok() ? "" : c.error().message));
    return std::move(c).value();
}

std::filesystem::path clip() {
    return t::fixture(
        "control_clip_4s.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -f lavfi -i sine=duration=4 "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac");
}

// Raw lines over a plain socket, for what the client library would never send.
struct RawConnection {
    int fd = -1;
    explicit RawConnection(const std::filesystem::path& path) {
        fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
        BOOST_REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    }
    ~RawConnection() { ::close(fd); }
    void send(const std::string& s) const {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
            if (n <= 0) return;
            off += static_cast<size_t>(n);
        }
    }
    // Next line, or "" on EOF/timeout.
    std::string line(std::chrono::milliseconds timeout = 5000ms) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (auto nl = buf.find('\n'); nl != std::string::npos) {
                auto l = buf.substr(0, nl);
                buf.erase(0, nl + 1);
                return l;
            }
            char tmp[4096];
            struct timeval tv {
                0, 100000
            };
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
            ssize_t n = ::recv(fd, tmp, sizeof tmp, 0);
            if (n == 0) return "";
            if (n > 0) buf.append(tmp, static_cast<size_t>(n));
        }
        return "";
    }
    bool closed_by_peer() {
        char c;
        struct timeval tv {
            2, 0
        };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        return ::recv(fd, &c, 1, 0) == 0;
    }
    std::string buf;
};

}  // namespace

BOOST_AUTO_TEST_CASE(protocol_replies_codes_and_survives_bad_requests) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    auto c = connect(d);
    auto v = c.call("version");
    BOOST_REQUIRE(v.ok());
    BOOST_TEST(v->data["version"].get<std::string>() == "0.1.0");
    auto list = c.call("list-commands");
    std::set<std::string> names;
    for (const auto& e : list->data["commands"]) names.insert(e["name"].get<std::string>());
    for (const char* cmd : {"version", "list-commands", "health", "status", "jobs", "job", "submit",
                            "cancel", "retry", "pause", "resume", "reload", "metrics", "subscribe",
                            "nodes", "cluster-jobs", "drain", "undrain"}) {
        BOOST_TEST(names.count(cmd) == 1u, cmd);
    }
    // Single node: the cluster commands say cluster mode is off; status has no cluster.
    BOOST_TEST(static_cast<int>(c.call("nodes")->code) == 2);
    BOOST_TEST(static_cast<int>(c.call("cluster-jobs")->code) == 2);
    BOOST_TEST(!c.call("status")->data.contains("cluster"));

    RawConnection raw(socket_of(d));
    raw.send("{not json\n");
    auto bad = nlohmann::json::parse(raw.line());
    BOOST_TEST(bad["code"].get<int>() == 1);
    BOOST_TEST(bad["id"].is_null());
    raw.send(R"({"id": "a", "cmd": 42})"
             "\n");
    auto wrong = nlohmann::json::parse(raw.line());
    BOOST_TEST(wrong["id"].get<std::string>() == "a");
    BOOST_TEST(wrong["error"].get<std::string>().find("\"cmd\" must be a string") !=
               std::string::npos);
    raw.send(R"({"id": {"x": [1]}, "cmd": "jobs", "args": [1]})"
             "\n");
    auto args = nlohmann::json::parse(raw.line());
    BOOST_TEST(args["id"]["x"][0].get<int>() == 1);
    BOOST_TEST(args["code"].get<int>() == 1);
    raw.send(R"({"id": 7, "cmd": "frobnicate"})"
             "\n"
             R"({"id": 8, "cmd": "job", "args": {"id": 999}})"
             "\n"
             R"({"id": 9, "cmd": "job", "args": {"id": "x"}})"
             "\n"
             R"({"id": 10, "cmd": "health"})"
             "\n");
    BOOST_TEST(nlohmann::json::parse(raw.line())["code"].get<int>() == 2);
    BOOST_TEST(nlohmann::json::parse(raw.line())["code"].get<int>() == 3);
    BOOST_TEST(nlohmann::json::parse(raw.line())["code"].get<int>() == 1);
    auto health = nlohmann::json::parse(raw.line());
    BOOST_TEST(health["id"].get<int>() == 10);
    BOOST_TEST(health["data"]["healthy"].get<bool>());

    // Over one MiB without a newline: an error reply, then the daemon hangs up.
    RawConnection big(socket_of(d));
    big.send(std::string((1u << 20) + 1000, 'x'));
    auto over = nlohmann::json::parse(big.line());
    BOOST_TEST(over["error"].get<std::string>().find("longer than 1 MiB") != std::string::npos);
    BOOST_TEST(big.closed_by_peer());
    // The daemon is fine.
    BOOST_TEST(c.call("health")->code == Code::ok);
}

BOOST_AUTO_TEST_CASE(status_reports_workers_jobs_watches_and_hardware) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    auto c = connect(d);
    auto st = c.call("status");
    BOOST_REQUIRE(st.ok());
    const auto& s = st->data;
    BOOST_TEST(s["workers"]["total"].get<int>() >= 1);
    BOOST_TEST(s["jobs"]["queued"].get<int>() == 0);
    BOOST_TEST(s["watches"].size() == 1u);
    BOOST_TEST(s["watches"][0]["profile"].get<std::string>() == "by-folder");
    const auto& hw = s["hardware"];
    BOOST_TEST(hw["cores"].get<int>() >= 1);
    BOOST_TEST(hw["ram_bytes"].get<int64_t>() > 0);
    const std::string tier = hw["tier"];
    BOOST_TEST((tier == "ultra" || tier == "high" || tier == "medium" || tier == "low"));
    BOOST_TEST(hw["onevpl"].is_array());  // empty without an Intel GPU: not an error
    BOOST_TEST(hw["vaapi"].is_array());
    BOOST_TEST(hw["nvidia"].contains("cuda"));
    // The codec and format lists (most of the bytes) come with `hardware` or a verbose status.
    BOOST_TEST(!hw.contains("encoders"));
    auto full = c.call("hardware");
    BOOST_REQUIRE(full.ok());
    BOOST_TEST(c.call("status", {{"verbose", true}})->data["hardware"] == full->data);
    bool h264 = false, mp4 = false;
    for (const auto& e : full->data["encoders"]["video"]) h264 = h264 || e == "libx264";
    for (const auto& f : full->data["input_formats"])
        mp4 = mp4 || f.get<std::string>().find("mp4") != std::string::npos;
    BOOST_TEST(h264);
    BOOST_TEST(mp4);
    auto human = ctl(d, {"status"});
    BOOST_TEST(human.exit_code == 0);
    BOOST_TEST(human.out.find("WATCH") != std::string::npos);
    BOOST_TEST(human.out.find("tier " + tier) != std::string::npos);
    auto json = ctl(d, {"--json", "status"});
    BOOST_TEST(nlohmann::json::parse(json.out)["hardware"]["tier"].get<std::string>() == tier);
}

// A submitted file has no watch and its source is kept, but its queue job's disposition is
// still claimed: `reprocess` then gets a queue job of its own and makes the file again,
// instead of finding the published one and reporting its output.
BOOST_AUTO_TEST_CASE(a_submitted_file_is_made_again_by_reprocess) {
    t::Daemon d("");
    d.write_config(config_for(d));
    std::filesystem::create_directories(d.dir("uploads"));
    std::filesystem::copy_file(clip(), d.dir("uploads") / "clip.mp4");
    d.start();
    (void)connect(d);
    auto ok = ctl(
        d, {"submit", (d.dir("uploads") / "clip.mp4").string(), "--profile", "plain", "--wait"});
    BOOST_REQUIRE_MESSAGE(ok.exit_code == 0, ok.out << ok.err << d.log());
    BOOST_REQUIRE_EQUAL(d.jobs().size(), 1u);
    const auto first = d.jobs()[0];
    BOOST_REQUIRE(first.output_path.has_value());
    auto again = ctl(d, {"reprocess", std::to_string(first.id)});
    BOOST_REQUIRE_MESSAGE(again.exit_code == 0, again.out << again.err);
    std::optional<rr::store::JobRow> second;
    BOOST_REQUIRE_MESSAGE(
        t::wait_until(
            [&] {
                for (const auto& j : d.jobs())
                    if (j.reprocess_of == first.id && rr::store::is_final(j.state)) second = j;
                return second.has_value();
            },
            120s),
        d.log());
    BOOST_TEST(second->state == JobState::done, second->error.value_or(""));
    BOOST_REQUIRE(second->output_path.has_value());
    BOOST_TEST(*second->output_path != *first.output_path);
    BOOST_TEST(std::filesystem::exists(*first.output_path));
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(*second->output_path), d.log());
    BOOST_TEST(t::count_frames(*second->output_path) == 100);
    BOOST_TEST(std::filesystem::exists(d.dir("uploads") / "clip.mp4"));  // still kept
}

// The same claim lets `retry` run a cancelled submitted file again: its ended queue job is
// retired and the retry gets one of its own, instead of following the cancelled one and
// ending cancelled again without running.
BOOST_AUTO_TEST_CASE(a_cancelled_submitted_file_is_made_by_retry) {
    t::Daemon d("");
    d.write_config(config_for(d));
    const auto in = t::fixture("control_clip_10s.mp4",
                               "-f lavfi -i testsrc2=size=640x360:rate=25:duration=10 -c:v libx264 "
                               "-preset veryfast -g 25");
    std::filesystem::create_directories(d.dir("uploads"));
    const auto source = d.dir("uploads") / "clip10.mp4";
    std::filesystem::copy_file(in, source);
    d.start();
    (void)connect(d);
    auto sub = ctl(d, {"submit", source.string(), "--profile", "plain"});
    BOOST_REQUIRE_MESSAGE(sub.exit_code == 0, sub.out << sub.err << d.log());
    BOOST_REQUIRE(t::wait_until(
        [&] { return !d.jobs().empty() && d.jobs()[0].state == JobState::running; }, 60s));
    const int64_t id = d.jobs()[0].id;
    BOOST_TEST(ctl(d, {"cancel", std::to_string(id)}).exit_code == 0);
    BOOST_REQUIRE(t::wait_until([&] { return d.jobs()[0].state == JobState::cancelled; }, 30s));
    auto retried = ctl(d, {"retry", std::to_string(id)});
    BOOST_REQUIRE_MESSAGE(retried.exit_code == 0, retried.out << retried.err);
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return rr::store::is_final(d.jobs()[0].state); }, 120s), d.log());
    const auto job = d.jobs()[0];
    BOOST_TEST(job.state == JobState::done, job.error.value_or(""));
    BOOST_REQUIRE(job.output_path.has_value());
    BOOST_REQUIRE_MESSAGE(std::filesystem::exists(*job.output_path), d.log());
    BOOST_TEST(t::count_frames(*job.output_path) == 250);
    BOOST_TEST(std::filesystem::exists(source));  // a submitted source is kept
    BOOST_TEST(d.jobs().size() == 1u);
}

BOOST_AUTO_TEST_CASE(submit_checks_paths_and_wait_follows_the_job) {
    t::Daemon d("");
    d.write_config(config_for(d));
    std::filesystem::create_directories(d.dir("uploads"));
    std::filesystem::copy_file(clip(), d.dir("uploads") / "clip.mp4");
    t::write_file(d.dir("uploads") / "broken.mp4", std::string(5000, 'x'));
    std::filesystem::copy_file(clip(), d.dir("outside.mp4"));
    d.start();
    (void)connect(d);  // the socket exists
    auto ok = ctl(
        d, {"submit", (d.dir("uploads") / "clip.mp4").string(), "--profile", "plain", "--wait"});
    BOOST_TEST(ok.exit_code == 0, ok.out << ok.err);
    BOOST_TEST(ok.out.find("done") != std::string::npos);
    BOOST_TEST(std::filesystem::exists(d.dir("uploads") / "clip.plain.mp4"));
    BOOST_TEST(
        std::filesystem::exists(d.dir("uploads") / "clip.mp4"));  // submitted sources are kept

    auto failed = ctl(
        d, {"submit", (d.dir("uploads") / "broken.mp4").string(), "--profile", "plain", "--wait"});
    BOOST_TEST(failed.exit_code == 1);
    BOOST_TEST(failed.out.find("failed") != std::string::npos);

    // Outside every allowed folder, also when smuggled in through ".." or a symlink.
    auto outside = ctl(d, {"submit", (d.dir("outside.mp4")).string(), "--profile", "plain"});
    BOOST_TEST(outside.exit_code == 1);
    BOOST_TEST(outside.err.find("not inside a watched folder or submit_roots") !=
               std::string::npos);
    std::filesystem::create_symlink(d.dir("outside.mp4"), d.dir("uploads") / "link.mp4");
    auto c = connect(d);
    auto link = c.call("submit",
                       {{"path", (d.dir("uploads") / "link.mp4").string()}, {"profile", "plain"}});
    BOOST_TEST(static_cast<int>(link->code) == 5);
    auto dots = c.call("submit", {{"path", (d.dir("uploads") / ".." / "outside.mp4").string()},
                                  {"profile", "plain"}});
    BOOST_TEST(static_cast<int>(dots->code) == 5);
    auto missing = c.call(
        "submit", {{"path", (d.dir("uploads") / "nope.mp4").string()}, {"profile", "plain"}});
    BOOST_TEST(static_cast<int>(missing->code) == 3);
    auto profile = c.call(
        "submit", {{"path", (d.dir("uploads") / "clip.mp4").string()}, {"profile", "nosuch"}});
    BOOST_TEST(static_cast<int>(profile->code) == 3);
}

BOOST_AUTO_TEST_CASE(subscribe_streams_state_changes_and_progress) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    auto sub = connect(d);
    BOOST_REQUIRE(sub.call("subscribe")->code == Code::ok);
    const auto in = t::fixture("control_clip_10s.mp4",
                               "-f lavfi -i testsrc2=size=640x360:rate=25:duration=10 -c:v libx264 "
                               "-preset veryfast -g 25");
    std::filesystem::create_directories(d.dir("inbox") / "slow");
    std::filesystem::copy_file(in, d.dir("inbox") / "slow" / "x.mp4");
    std::vector<std::string> states;
    bool progress_with_fps = false, chunk_done = false;
    const auto deadline = std::chrono::steady_clock::now() + 120s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto ev = sub.next(1000ms);
        BOOST_REQUIRE(ev.ok());
        if (!*ev) continue;
        const auto& e = **ev;
        if (e["event"] == "job") states.push_back(e["state"]);
        if (e["event"] == "chunk" && e["state"] == "done") chunk_done = true;
        if (e["event"] == "progress" && e.contains("fps") && e.contains("eta") &&
            e["chunks_total"].get<int>() > 0) {
            progress_with_fps = true;
        }
        if (!states.empty() && states.back() == "done") break;
    }
    const std::vector<std::string> want = {"queued", "probing", "running", "assembling", "done"};
    BOOST_TEST(states == want, boost::test_tools::per_element());
    BOOST_TEST(chunk_done);
    BOOST_TEST(progress_with_fps);
}

BOOST_AUTO_TEST_CASE(cancelling_a_queued_job_streams_its_input) {
    t::Daemon d("");
    d.write_config(config_for(d));
    std::filesystem::create_directories(d.dir("uploads"));
    std::filesystem::copy_file(clip(), d.dir("uploads") / "queued.mp4");
    d.start();
    auto c = connect(d);
    auto sub = connect(d);
    BOOST_REQUIRE(sub.call("subscribe")->code == Code::ok);
    // Paused, the job stays queued, so cancel takes the path without a running job.
    BOOST_REQUIRE(c.call("pause")->code == Code::ok);
    const auto path = std::filesystem::canonical(d.dir("uploads") / "queued.mp4").string();
    auto submitted = c.call("submit", {{"path", path}, {"profile", "plain"}});
    BOOST_REQUIRE(submitted->code == Code::ok);
    const int64_t id = submitted->data["id"].get<int64_t>();
    BOOST_REQUIRE(c.call("cancel", {{"id", id}})->code == Code::ok);
    std::vector<nlohmann::json> seen;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
        auto ev = sub.next(500ms);
        BOOST_REQUIRE(ev.ok());
        if (!*ev) continue;
        seen.push_back(**ev);
        if ((**ev)["event"] == "job" && (**ev)["state"] == "cancelled") break;
    }
    BOOST_REQUIRE(seen.size() == 2u);
    BOOST_TEST(seen[0].dump() ==
               nlohmann::json({{"event", "job"}, {"id", id}, {"state", "queued"}, {"input", path}})
                   .dump());
    BOOST_TEST(seen[1]["state"] == "cancelled");
    BOOST_TEST(seen[1]["id"] == id);
    BOOST_TEST(seen[1].value("input", "") == path);
}

BOOST_AUTO_TEST_CASE(cancel_retry_pause_and_resume) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    const auto in = t::fixture("control_clip_10s.mp4",
                               "-f lavfi -i testsrc2=size=640x360:rate=25:duration=10 -c:v libx264 "
                               "-preset veryfast -g 25");
    (void)connect(d);
    // Paused: nothing is taken.
    BOOST_TEST(ctl(d, {"pause"}).exit_code == 0);
    std::filesystem::create_directories(d.dir("inbox") / "slow");
    std::filesystem::copy_file(in, d.dir("inbox") / "slow" / "a.mp4");
    std::this_thread::sleep_for(2500ms);
    BOOST_TEST(d.jobs().empty());
    BOOST_TEST(ctl(d, {"resume"}).exit_code == 0);
    BOOST_REQUIRE(t::wait_until(
        [&] { return !d.jobs().empty() && d.jobs()[0].state == JobState::running; }, 60s));
    const int64_t id = d.jobs()[0].id;
    auto cancel = ctl(d, {"cancel", std::to_string(id)});
    BOOST_TEST(cancel.exit_code == 0, cancel.err);
    BOOST_REQUIRE(t::wait_until([&] { return d.jobs()[0].state == JobState::cancelled; }, 30s));
    BOOST_TEST(
        std::filesystem::exists(d.dir("inbox") / "slow" / "a.mp4"));  // a cancelled source stays
    auto again = ctl(d, {"cancel", std::to_string(id)});
    BOOST_TEST(again.exit_code == 1);
    BOOST_TEST(again.err.find("already ended") != std::string::npos);
    BOOST_TEST(ctl(d, {"retry", std::to_string(id)}).exit_code == 0);
    BOOST_REQUIRE(t::wait_until([&] { return d.jobs()[0].state == JobState::done; }, 120s));
    // One watch paused, the others not.
    auto pw = ctl(d, {"pause", d.dir("inbox").string()});
    BOOST_TEST(pw.exit_code == 0, pw.err);
    auto st = nlohmann::json::parse(ctl(d, {"--json", "status"}).out);
    BOOST_TEST(st["watches"][0]["paused"].get<bool>());
    BOOST_TEST(ctl(d, {"pause", "/no/such/watch"}).exit_code == 1);
    BOOST_TEST(ctl(d, {"resume", d.dir("inbox").string()}).exit_code == 0);
    st = nlohmann::json::parse(ctl(d, {"--json", "status"}).out);
    BOOST_TEST(!st["watches"][0]["paused"].get<bool>());
    // Another spelling of the same folder pauses the same watch.
    BOOST_TEST(ctl(d, {"pause", d.dir("inbox").string() + "/"}).exit_code == 0);
    st = nlohmann::json::parse(ctl(d, {"--json", "status"}).out);
    BOOST_TEST(st["watches"][0]["paused"].get<bool>());
    BOOST_TEST(ctl(d, {"resume", d.dir("inbox").string() + "/./"}).exit_code == 0);
    st = nlohmann::json::parse(ctl(d, {"--json", "status"}).out);
    BOOST_TEST(!st["watches"][0]["paused"].get<bool>());
    auto jobs = ctl(d, {"jobs", "--state", "done"});
    BOOST_TEST(jobs.out.find("ID") != std::string::npos);
    BOOST_TEST(jobs.out.find("a.mp4") != std::string::npos);
    // A job this daemon ran alone lists no cluster nodes: "-" in the table, [] in JSON.
    BOOST_TEST(jobs.out.find("NODES") != std::string::npos, jobs.out);
    BOOST_TEST(jobs.out.find(" - ") != std::string::npos, jobs.out);
    const auto listed = nlohmann::json::parse(ctl(d, {"--json", "jobs", "--state", "done"}).out);
    BOOST_REQUIRE(!listed["jobs"].empty());
    for (const auto& j : listed["jobs"])
        BOOST_TEST(j["nodes"] == nlohmann::json::array(), j.dump());
    auto job = ctl(d, {"job", std::to_string(id)});
    BOOST_TEST(job.out.find("CHUNK") != std::string::npos);
    // Each chunk ran once, on one of this daemon's workers (the queue's task, run here).
    const auto detail = nlohmann::json::parse(ctl(d, {"--json", "job", std::to_string(id)}).out);
    BOOST_REQUIRE(!detail["chunks"].empty());
    for (const auto& c : detail["chunks"]) {
        BOOST_TEST(c["state"] == "done", c.dump());
        BOOST_TEST(c["attempts"] == 1, c.dump());
        BOOST_TEST(c.value("worker", -1) >= 0, c.dump());
        BOOST_TEST(!c.contains("node"), c.dump());
    }
}

BOOST_AUTO_TEST_CASE(access_is_checked_with_peer_credentials) {
    if (::getuid() != 0 || !std::filesystem::exists("/usr/bin/setpriv")) {
        BOOST_TEST_MESSAGE("needs root and setpriv to act as another user; skipped");
        return;
    }
    t::Daemon d("");
    // Members of nogroup may read; nobody is a member, but not an admin.
    d.write_config(config_for(d, "control: {group: nogroup}\n"));
    std::filesystem::permissions(d.box().path(), std::filesystem::perms::owner_all |
                                                     std::filesystem::perms::group_exec |
                                                     std::filesystem::perms::others_exec);
    std::filesystem::permissions(d.dir("run"), std::filesystem::perms::owner_all |
                                                   std::filesystem::perms::group_exec |
                                                   std::filesystem::perms::others_exec);
    d.start();
    (void)connect(d);
    auto as_nobody = [&](std::vector<std::string> args) {
        args.insert(args.begin(),
                    {"/usr/bin/setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                     t::renderrushctl().string(), "--socket", socket_of(d).string()});
        return t::run(args);
    };
    auto read = as_nobody({"status"});
    BOOST_TEST(read.exit_code == 0, read.err);
    auto change = as_nobody({"pause"});
    BOOST_TEST(change.exit_code == 1);
    BOOST_TEST(change.err.find("not allowed for uid") != std::string::npos);
    BOOST_TEST(d.log().find("refused \"pause\"") != std::string::npos);
    // Root may.
    BOOST_TEST(ctl(d, {"pause"}).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(idle_connections_time_out_and_connections_are_capped) {
    t::Daemon d("");
    d.write_config(config_for(d, "control: {idle_timeout_seconds: 1, max_connections: 2}\n"));
    d.start();
    (void)connect(d);
    RawConnection idle(socket_of(d));
    std::this_thread::sleep_for(1500ms);
    BOOST_TEST(idle.closed_by_peer());
    RawConnection a(socket_of(d)), b(socket_of(d)), c(socket_of(d));
    auto refused = nlohmann::json::parse(c.line());
    BOOST_TEST(refused["error"].get<std::string>() == "too many connections");
}

BOOST_AUTO_TEST_CASE(metrics_are_prometheus_text_and_written_to_a_textfile) {
    t::Daemon d("");
    d.write_config(config_for(d, "metrics: {textfile_path: " + d.dir("state").string() +
                                     "/renderrush.prom, interval_seconds: 1}\n"));
    d.start();
    std::filesystem::create_directories(d.dir("inbox") / "plain");
    std::filesystem::copy_file(clip(), d.dir("inbox") / "plain" / "m.mp4");
    BOOST_REQUIRE(t::wait_until(
        [&] { return !d.jobs().empty() && d.jobs()[0].state == JobState::done; }, 60s));
    auto m = ctl(d, {"metrics"});
    BOOST_TEST(m.exit_code == 0);
    for (const char* needle :
         {"# TYPE renderrush_jobs gauge", "renderrush_jobs{state=\"done\"} 1",
          "renderrush_chunks_processed_total",
          "renderrush_chunk_duration_seconds_bucket{le=\"+Inf\"}",
          "renderrush_frames_total{direction=\"in\"} 100",
          "renderrush_bytes_total{direction=\"out\"}", "renderrush_queue_depth 0",
          "renderrush_workers ", "renderrush_workers_busy ", "renderrush_build_info{version=\"",
          "renderrush_start_time_seconds ", "renderrush_intake_paused",
          "renderrush_disk_free_bytes{path="}) {
        BOOST_TEST(m.out.find(needle) != std::string::npos, needle);
    }
    BOOST_REQUIRE(t::wait_until(
        [&] {
            return t::read_file(d.dir("state") / "renderrush.prom")
                       .find("renderrush_jobs{state=\"done\"} 1") != std::string::npos;
        },
        10s));
}

// What node exporter on Debian needs: a file its `prometheus` user can read although the unit
// runs with UMask=0027, valid for promtool, and gone once the daemon stopped (no stale values).
BOOST_AUTO_TEST_CASE(metrics_textfile_is_world_readable_lint_clean_and_removed_on_stop) {
    t::Daemon d("");
    std::filesystem::create_directories(d.dir("node-exporter"));
    const auto prom = d.dir("node-exporter") / "renderrush.prom";
    d.write_config(
        config_for(d, "metrics: {textfile_path: " + prom.string() + ", interval_seconds: 1}\n"));
    const mode_t old_umask = ::umask(0027);  // inherited by the daemon, as systemd would set it
    d.start();
    ::umask(old_umask);
    BOOST_REQUIRE(t::wait_until([&] { return std::filesystem::exists(prom); }, 20s));
    const auto perms = std::filesystem::status(prom).permissions();
    BOOST_TEST(static_cast<int>(perms) == 0644, std::oct << static_cast<int>(perms));
    const std::string text = t::read_file(prom);
    BOOST_TEST(text.find("renderrush_workers_busy 0") != std::string::npos);
    BOOST_TEST(text.find("state=\"busy\"") == std::string::npos);

    if (t::run({"sh", "-c", "command -v promtool"}).exit_code == 0) {
        auto lint = t::run({"sh", "-c", "promtool check metrics < \"$0\"", prom.string()});
        BOOST_TEST(lint.exit_code == 0, lint.out << lint.err);
        BOOST_TEST(lint.out + lint.err == "", lint.out << lint.err);
    } else {
        BOOST_TEST_MESSAGE("promtool is not installed (apt-get install prometheus); lint skipped");
    }

    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
    BOOST_TEST(!std::filesystem::exists(prom));
    BOOST_TEST(d.log().find("metrics: cannot") == std::string::npos, d.log());
}

// Without node exporter's folder there is no reader: one info line, no warning every interval.
BOOST_AUTO_TEST_CASE(a_missing_metrics_folder_is_reported_once_and_not_created) {
    t::Daemon d("");
    const auto prom = d.dir("absent") / "renderrush.prom";
    d.write_config(
        config_for(d, "metrics: {textfile_path: " + prom.string() + ", interval_seconds: 1}\n"));
    d.start();
    (void)connect(d);
    std::this_thread::sleep_for(2500ms);
    d.signal(SIGTERM);
    BOOST_TEST(d.wait_exit(30s) == 0);
    const std::string log = d.log();
    BOOST_TEST(log.find(d.dir("absent").string() + " does not exist") != std::string::npos, log);
    BOOST_TEST(log.find("metrics: cannot") == std::string::npos, log);
    BOOST_TEST(!std::filesystem::exists(d.dir("absent")));
}

BOOST_AUTO_TEST_CASE(ctl_exit_codes) {
    auto unreachable =
        t::run({t::renderrushctl().string(), "--socket", "/nonexistent/control.sock", "status"});
    BOOST_TEST(unreachable.exit_code == 3);
    BOOST_TEST(unreachable.err.find("/nonexistent/control.sock") != std::string::npos);
    auto env = t::run({t::renderrushctl().string(), "health"}, 30s,
                      {{"RENDERRUSH_SOCKET", "/elsewhere.sock"}});
    BOOST_TEST(env.exit_code == 3);
    BOOST_TEST(env.err.find("/elsewhere.sock") != std::string::npos);
    BOOST_TEST(t::run({t::renderrushctl().string(), "job"}).exit_code == 2);
    BOOST_TEST(t::run({t::renderrushctl().string(), "--version"}).exit_code == 0);
}

BOOST_AUTO_TEST_CASE(a_subscriber_that_does_not_read_is_dropped_not_waited_for) {
    t::Daemon d("");
    d.write_config(
        config_for(d, "max_concurrent_jobs: 4\ncontrol: {max_subscriber_backlog_kb: 16}\n"));
    d.start();
    auto other = connect(d);
    RawConnection lazy(socket_of(d));
    lazy.send(R"({"id": 1, "cmd": "subscribe"})"
              "\n");
    // A flood of events: 400 tiny jobs, each queued, probing, running, chunk, assembling, done.
    const auto tiny = t::fixture(
        "control_tiny.mp4",
        "-f lavfi -i testsrc2=size=64x48:rate=10:duration=0.2 -c:v libx264 -preset ultrafast");
    const std::string base = t::read_file(tiny);
    std::filesystem::create_directories(d.dir("staging"));
    std::filesystem::create_directories(d.dir("inbox") / "plain");
    for (int i = 0; i < 400; ++i) {
        std::string box = std::string("\0\0\0\x10", 4) + "free" + std::string(8, '\0');
        std::snprintf(box.data() + 8, 8, "%07d", i);
        t::write_file(d.dir("staging") / ("f" + std::to_string(i) + ".mp4"), base + box);
        std::filesystem::rename(d.dir("staging") / ("f" + std::to_string(i) + ".mp4"),
                                d.dir("inbox") / "plain" / ("f" + std::to_string(i) + ".mp4"));
    }
    BOOST_REQUIRE(t::wait_until(
        [&] { return d.log().find("dropping a subscriber") != std::string::npos; }, 120s));
    // The daemon kept answering meanwhile.
    BOOST_TEST(other.call("health")->code == Code::ok);
    // The lazy reader finally reads: what was queued, then the reason, then the end.
    std::string last, line;
    while (!(line = lazy.line(3000ms)).empty()) last = line;
    BOOST_TEST(last.find("subscriber too slow") != std::string::npos, last);
    BOOST_TEST(lazy.closed_by_peer());
}
