#define BOOST_TEST_MODULE cluster_media
// Cluster mode doing real work: several renderrushd nodes on this machine share one storage
// root and one throwaway PostgreSQL, all watching the same folder. One dropped file becomes one
// job whose chunks run on several nodes; the output is frame-exact and decodes to the same
// frames as a single-node run. A node killed (-9) or stopped (SIGSTOP) while it holds leases
// costs nothing but time: its chunks are taken over after the lease, a late completion is
// refused and its file removed. Short settings: lease 2 s, heartbeat 0.5 s, poll 0.2 s.

#include <signal.h>

#include <array>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <thread>

#include "store/db.h"
#include "store/job_store.h"
#include "store/pg.h"
#include "store/task_queue.h"
#include "support/cli.h"
#include "support/ctl.h"
#include "support/daemon.h"
#include "support/media.h"
#include "support/must.h"
#include "support/pg_fixture.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
namespace utf = boost::unit_test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// 8 s with a keyframe every 0.5 s: 16 chunks of 0.5 s.
fs::path clip() {
    return t::fixture("cluster_clip_8s_320x240.mp4",
                      "-f lavfi -i testsrc2=size=320x240:rate=24:duration=8 -f lavfi -i "
                      "sine=frequency=440:duration=8 -c:v libx264 -preset veryfast -g 12 "
                      "-keyint_min 12 -sc_threshold 0 -pix_fmt yuv420p -c:a aac -shortest");
}

constexpr int kFrames = 192;

const char* kProfile =
    "profiles:\n  farm:\n    stages: [{blur: {radius: 3}}]\n"
    "    video: {codec: h264, preset: ultrafast, crf: 23, hwaccel: none}\n";

// 4 s at 640x480, a keyframe every 2 s: with slow_work(), 2 chunks of 48 frames that take
// seconds each, long enough to watch a job while its chunks run.
fs::path slow_clip() {
    return t::fixture("cluster_clip_4s_640x480_gop48.mp4",
                      "-f lavfi -i testsrc2=size=640x480:rate=24:duration=4 -c:v libx264 -preset "
                      "veryfast -g 48 -keyint_min 48 -sc_threshold 0 -pix_fmt yuv420p");
}

// Profile "farm" denoising with nlmeans, 2 s chunks unless told.
std::string slow_work(const std::string& chunk_seconds = "2") {
    return "chunk_seconds: " + chunk_seconds +
           "\nprofiles:\n  farm:\n"
           "    stages: [{denoise: {method: nlmeans, strength: high}}]\n"
           "    video: {codec: h264, preset: ultrafast, crf: 23, hwaccel: none}\n";
}

// What every node runs, unless a case asks for other chunks: chunk_seconds and profile "farm".
std::string default_work() {
    return std::string("chunk_seconds: 0.5\n") + kProfile;
}

struct Share {
    t::Sandbox box;
    std::string conninfo;
    // `db` "sqlite:NAME": the nodes share a SQLite queue file NAME.db on this host instead of
    // a database on the throwaway PostgreSQL server.
    explicit Share(const std::string& db) {
        if (db.starts_with("sqlite:")) {
            conninfo = "sqlite:" + (box / (db.substr(7) + ".db")).string();
        } else {
            conninfo = t::shared_pg_server().create_database(db);
            // As on a production server, a commit is durable once it returned (the throwaway
            // server turns that off for speed, and its stop() is a crash).
            t::shared_pg_server().sql("postgres",
                                      "ALTER DATABASE " + db + " SET synchronous_commit = on");
        }
        for (const char* d : {"storage/inbox", "storage/outbox", "storage/done"})
            fs::create_directories(box / d);
    }
    [[nodiscard]] fs::path root() const { return box / "storage"; }
    [[nodiscard]] fs::path inbox() const { return root() / "inbox"; }
    [[nodiscard]] fs::path outbox() const { return root() / "outbox"; }
    [[nodiscard]] fs::path work() const { return root() / ".renderrush-work"; }
};

// How a test node is configured; the defaults are every farm node's.
struct NodeOptions {
    // Where this node mounts the share (empty: the share itself). work_dir is always on the
    // share: a node without the share claims nothing, so it never writes there.
    fs::path root{};
    std::string poll_seconds = "0.2";
    std::string on_success = "keep";
    std::string work = default_work();  // chunk_seconds and the profile
    std::string inbox = "inbox";        // the folder under the root that the node watches
    int workers = 1;
    int max_attempts = 3;
};

// The watch's priority is not the default, so a test can see it reach the queue.
std::string node_config(const Share& s, const std::string& node_id, NodeOptions o = {}) {
    if (o.root.empty()) o.root = s.root();
    fs::create_directories(o.root / o.inbox);
    return "workers: " + std::to_string(o.workers) +
           "\nmax_attempts: " + std::to_string(o.max_attempts) +
           "\nwatches:\n  - {path: " + (o.root / o.inbox).string() +
           ", profile: farm, priority: 3, output: " + (o.root / "outbox").string() +
           ", on_success: " + o.on_success + "}\n" + o.work +
           "storage:\n  root: " + o.root.string() + "\ncluster:\n  database: \"" + s.conninfo +
           "\"\n  node_id: " + node_id +
           "\n  lease_seconds: 2\n  heartbeat_seconds: 0.5\n  poll_seconds: " + o.poll_seconds +
           "\n  work_dir: " + s.work().string() + "\n";
}

struct FarmOptions {
    NodeOptions node{};  // every node's; root and inbox are set per node
    // Every node's extra environment (with `binary`, the fault hooks).
    std::map<std::string, std::string> env{};
    fs::path binary{};
    std::map<int, fs::path> roots{};  // node i's storage root instead of the share
    // Node `hanging`, if any, runs the fault hooks' build and every chunk worker it starts
    // hangs (`hang`: another task's): it holds its lease until it dies or loses it, so a test
    // can stop or kill it while it surely holds one.
    int hanging = -1;
    std::string hang = "hang:chunk";
    bool own_inboxes = false;  // node i watches inbox-i instead of the shared inbox
};

struct Farm {
    Share share;
    std::vector<std::unique_ptr<t::Daemon>> nodes;
    Farm(const std::string& db, int n, const FarmOptions& o = {}) : share(db) {
        for (int i = 0; i < n; ++i) {
            nodes.push_back(std::make_unique<t::Daemon>(""));
            NodeOptions node = o.node;
            node.root = o.roots.count(i) ? o.roots.at(i) : fs::path();
            node.inbox = o.own_inboxes ? "inbox-" + std::to_string(i) : "inbox";
            nodes.back()->write_config(node_config(share, "node-" + std::to_string(i), node));
            if (!o.binary.empty()) nodes.back()->set_binary(o.binary);
        }
        auto r = t::run({t::renderrushd().string(), "cluster", "init", "--config",
                         nodes.front()->config_path().string()},
                        60s);
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out + r.err);
        for (int i = 0; i < n; ++i) {
            auto e = o.env;
            if (i == o.hanging) {
                nodes[static_cast<size_t>(i)]->set_binary(t::bin_dir() / "renderrushd-faults");
                e["RENDERRUSH_FAULT"] = o.hang;
            }
            nodes[static_cast<size_t>(i)]->start(e);
        }
    }
    // Each node's log, headed by its process's state and where the kernel has it waiting: a
    // node that wrote nothing was either gone or blocked (e.g. reading a database socket).
    [[nodiscard]] std::string logs() const {
        std::string all;
        for (const auto& d : nodes) {
            std::string head = "not running";
            if (d->running()) {
                const std::string proc = "/proc/" + std::to_string(d->pid());
                const std::string stat = t::read_file(proc + "/stat");
                const auto state = stat.find(") ");
                head = "pid " + std::to_string(d->pid()) + ", state " +
                       (state == std::string::npos ? "?" : stat.substr(state + 2, 1)) +
                       ", waiting in " + t::read_file(proc + "/wchan");
            }
            all += "---- node (" + head + ")\n" + d->log();
        }
        return all;
    }
    // The sidecar of the published output, once every node's job for it ended.
    [[nodiscard]] fs::path output() const { return share.outbox() / "clip.mp4"; }
    [[nodiscard]] fs::path sidecar() const { return share.outbox() / "clip.renderrush.json"; }
};

// The node whose watcher made the job (its local job is not a duplicate), once one has.
std::optional<size_t> owner_of(const Farm& f) {
    for (size_t i = 0; i < f.nodes.size(); ++i) {
        if (!f.nodes[i]->running()) continue;
        for (const auto& j : f.nodes[i]->jobs())
            if (j.state != rr::store::JobState::duplicate &&
                j.state != rr::store::JobState::queued && j.state != rr::store::JobState::probing)
                return i;
    }
    return std::nullopt;
}

int64_t leases_of(const t::Daemon& any, const std::string& id) {
    const auto n = t::listed_node(any, id);
    return n.is_object() ? n.value("leases", int64_t{0}) : 0;
}

nlohmann::json read_json(const fs::path& p) {
    return nlohmann::json::parse(t::read_file(p), nullptr, false);
}

// Decoded frames, one hash each (ffmpeg's framemd5), so two outputs can be compared frame by
// frame whatever their containers say.
std::vector<std::string> frame_hashes(const fs::path& file) {
    auto r = t::run(
        {"ffmpeg", "-v", "error", "-i", file.string(), "-map", "0:v", "-f", "framemd5", "-"}, 120s);
    std::vector<std::string> hashes;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        hashes.push_back(line.substr(line.rfind(',') + 1));
    }
    return hashes;
}

std::set<std::string> chunk_nodes(const nlohmann::json& sidecar) {
    std::set<std::string> nodes;
    for (const auto& c : sidecar.value("chunks", nlohmann::json::array()))
        nodes.insert(c.value("node", ""));
    return nodes;
}

bool published(const Farm& f) {
    std::error_code ec;
    return fs::exists(f.output(), ec) && fs::exists(f.sidecar(), ec);
}

// Every node's local job for the clip reached a final state: done on the owner, duplicate
// (owned elsewhere) on the others.
bool all_settled(const Farm& f) {
    for (const auto& d : f.nodes) {
        if (!d->running()) continue;
        for (const auto& j : d->jobs())
            if (!rr::store::is_final(j.state)) return false;
    }
    return true;
}

std::vector<std::string> reference_hashes() {
    t::Sandbox box;
    t::write_file(box / "ref.yaml", std::string("chunk_seconds: 0.5\n") + kProfile);
    const fs::path out = box / "ref.mp4";
    auto r =
        t::run({t::renderrushd().string(), "process", clip().string(), "-o", out.string(),
                "--config", (box / "ref.yaml").string(), "--profile", "farm", "--workers", "1"},
               300s);
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.out + r.err);
    return frame_hashes(out);
}

// What every node sees once a farm of n nodes published the clip: 16 chunks that ran on at
// least two of them, a frame-exact output, one node's job done and every other node's a
// duplicate (owned elsewhere). Returns the nodes that ran chunks.
std::set<std::string> expect_published_once_by_the_farm(const Farm& f) {
    const auto sidecar = read_json(f.sidecar());
    BOOST_REQUIRE(sidecar.is_object());
    BOOST_TEST(sidecar["chunks"].size() == 16u);
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    const auto nodes = chunk_nodes(sidecar);
    BOOST_TEST_MESSAGE("chunks ran on " << nodes.size() << " nodes");
    BOOST_TEST(nodes.size() >= 2u, sidecar["chunks"].dump());
    BOOST_TEST(!nodes.count(""));
    int done = 0, elsewhere = 0;
    for (const auto& d : f.nodes) {
        for (const auto& j : d->jobs()) {
            if (rr::store::published(j.state)) ++done;
            if (j.state == rr::store::JobState::duplicate) ++elsewhere;
        }
    }
    BOOST_TEST(done == 1);
    BOOST_TEST(elsewhere == static_cast<int>(f.nodes.size()) - 1);
    BOOST_TEST(frame_hashes(f.output()) == reference_hashes());
    return nodes;
}

// Dedupe across the farm: the same content dropped under two names into two nodes' own
// folders is processed once, whichever node records it first; the other ends as its
// duplicate, naming the cluster job and node. `db`: the queue (PostgreSQL or SQLite).
void expect_one_of_two_copies_processed(const std::string& db) {
    Farm f(db, 2, {.node = {.on_success = "move"}, .own_inboxes = true});
    const std::array<std::string, 2> names{"clip.mp4", "copy.mp4"};
    for (size_t i = 0; i < 2; ++i)
        fs::copy_file(clip(), f.share.root() / ("inbox-" + std::to_string(i)) / names[i]);
    std::array<std::optional<rr::store::JobRow>, 2> jobs;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (size_t i = 0; i < 2; ++i)
                                      for (const auto& j : f.nodes[i]->jobs())
                                          if (rr::store::is_final(j.state)) jobs[i] = j;
                                  return jobs[0] && jobs[1];
                              },
                              120s),
                          f.logs());
    const size_t made = rr::store::published(jobs[0]->state) ? 0 : 1;
    const size_t dup = 1 - made;
    BOOST_TEST_MESSAGE("node-" << made << " made it, node-" << dup << "'s is the duplicate");
    BOOST_TEST(rr::store::published(jobs[made]->state), f.logs());
    BOOST_REQUIRE_MESSAGE(jobs[dup]->state == rr::store::JobState::duplicate, f.logs());
    // One output, the processed job's.
    std::vector<std::string> outputs;
    for (const auto& e : fs::directory_iterator(f.share.outbox()))
        if (e.path().extension() == ".mp4") outputs.push_back(e.path().filename().string());
    BOOST_TEST(outputs == std::vector<std::string>{names[made]});
    BOOST_TEST(t::count_frames(f.share.outbox() / names[made]) == kFrames);
    // The queue: the processed job ran its 16 chunks and the audio; the duplicate's job ended
    // without a task, saying whose duplicate it is, its disposition claimed by its own owner.
    auto q = rr::store::open_task_queue({.database = f.share.conninfo, .node_id = "test"});
    BOOST_REQUIRE_MESSAGE(q.ok(), (q.ok() ? std::string() : q.error().message));
    std::map<std::string, rr::store::JobView> by_source;
    for (int64_t id = 1; id <= 10; ++id)
        if (auto j = (*q)->job(id); j.ok()) by_source[j->source_path] = *j;
    const std::string made_source = "inbox-" + std::to_string(made) + "/" + names[made];
    const std::string dup_source = "inbox-" + std::to_string(dup) + "/" + names[dup];
    BOOST_REQUIRE(by_source.count(made_source));
    BOOST_REQUIRE(by_source.count(dup_source));
    const auto& first = by_source[made_source];
    const auto& second = by_source[dup_source];
    BOOST_TEST(first.state == "done");
    BOOST_TEST(t::must((*q)->tasks(first.id)).size() == 17u);
    // The other node's local id means nothing on this one: the cluster job and its node do.
    const std::string expected = "duplicate of cluster job " + std::to_string(first.id) +
                                 " on node node-" + std::to_string(made) + " (job " +
                                 std::to_string(jobs[made]->id) + " there)";
    BOOST_TEST(jobs[dup]->error.value_or("") == expected);
    BOOST_TEST(!jobs[dup]->duplicate_of.has_value());
    BOOST_TEST(second.state == "cancelled");
    BOOST_TEST(second.error.value_or("") == expected);
    BOOST_TEST(second.disposed_by.value_or("") == "node-" + std::to_string(dup));
    BOOST_TEST(t::must((*q)->tasks(second.id)).empty());
    // Both sources disposed of as done, each by its own owner.
    for (size_t i = 0; i < 2; ++i) {
        BOOST_TEST(fs::exists(f.share.root() / "done" / names[i]), names[i]);
        BOOST_TEST(!fs::exists(f.share.root() / ("inbox-" + std::to_string(i)) / names[i]));
    }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_media, *utf::precondition(t::have_postgres))

BOOST_AUTO_TEST_CASE(three_nodes_share_one_files_chunks_and_publish_it_once) {
    // Polling every 30 s: idle nodes can only join in this soon because LISTEN wakes them
    // when the owner queues the tasks.
    Farm f("media3", 3, {.node = {.poll_seconds = "30"}});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 25s),
                          f.logs());
    const auto nodes = expect_published_once_by_the_farm(f);
    const auto sidecar = read_json(f.sidecar());
    // The owner's `jobs` lists the nodes that produced the chunks, as the sidecar records them.
    int listed = 0;
    for (const auto& d : f.nodes) {
        auto r = ctl(*d, {"--json", "jobs"});
        BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
        const auto listing = nlohmann::json::parse(r.out);
        for (const auto& j : listing["jobs"]) {
            if (j["state"] == "duplicate") {
                BOOST_TEST(j["nodes"] == nlohmann::json::array(), j.dump());
                continue;
            }
            ++listed;
            const auto from_jobs = j["nodes"].get<std::set<std::string>>();
            BOOST_TEST(from_jobs.size() >= 2u, j.dump());
            BOOST_TEST((from_jobs == nodes), j.dump());
            const auto table = ctl(*d, {"jobs"}).out;
            std::string joined;
            for (const auto& n : from_jobs) joined += (joined.empty() ? "" : ",") + n;
            BOOST_TEST(table.find(joined) != std::string::npos, table);
            // `job ID` names each chunk's node.
            const auto shown = t::ctl(*d, {"job", std::to_string(j["id"].get<int64_t>())}).out;
            BOOST_TEST(shown.find("NODE") != std::string::npos, shown);
            for (const auto& n : from_jobs) BOOST_TEST(shown.find(n) != std::string::npos, shown);
        }
    }
    BOOST_TEST(listed == 1);
    // The watch's priority went into the queue with the job (every node claims by it).
    {
        rr::store::PgConn db = t::must(rr::store::PgConn::connect(f.share.conninfo));
        const auto r =
            t::must(db.query("SELECT j.priority, min(t.priority), max(t.priority) "
                             "FROM jobs j JOIN tasks t ON t.job_id = j.id "
                             "GROUP BY j.id"));
        BOOST_REQUIRE_EQUAL(r.rows(), 1);
        for (int c = 0; c < 3; ++c) BOOST_TEST(r.integer(0, c) == 3);
    }
    // The dashboard's pictures were published with the output (after its record), and
    // nothing was left staged beside it.
    BOOST_TEST(sidecar["preview"]["folder"] == "clip.mp4.frames", sidecar["preview"].dump());
    for (const char* picture : {"before", "after"}) {
        const auto file = f.share.outbox() / "clip.mp4.frames" /
                          sidecar["preview"][picture].value("file", std::string("?"));
        BOOST_TEST((fs::exists(file) && fs::file_size(file) > 0), file);
    }
    BOOST_TEST(t::only_contains(f.share.outbox(),
                                {"clip.mp4", "clip.mp4.frames", "clip.renderrush.json"}));
    // The shared work folder is cleaned up once the owner finished.
    BOOST_TEST(t::wait_until([&] { return fs::is_empty(f.share.work()); }, 10s));
}

// Every node lists every node of the farm as active: each has seen the others' heartbeats.
bool all_active(const Farm& f) {
    for (const auto& d : f.nodes)
        for (size_t i = 0; i < f.nodes.size(); ++i)
            if (t::node_state(*d, "node-" + std::to_string(i)) != "active") return false;
    return true;
}

// A file shorter than two chunks for the whole farm is cut for every active node's workers,
// not only the owner's: with 10 s chunks a node of one worker alone would run the 8 s clip as
// one chunk while the other two nodes idle.
BOOST_AUTO_TEST_CASE(a_short_file_is_cut_for_every_node_of_the_farm) {
    Farm f("farmplan", 3, {.node = {.work = slow_work("10")}});
    // Whichever node owns the file counts every node's workers.
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return all_active(f); }, 30s), f.logs());
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 120s),
                          f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_REQUIRE(sidecar.is_object());
    BOOST_TEST(sidecar["plan_workers"] == 3);
    BOOST_TEST(sidecar["workers"] == 1);
    BOOST_REQUIRE(sidecar["chunks"].size() == 3u);
    for (const auto& c : sidecar["chunks"]) {
        const auto frames = c["frames"].get<int64_t>();
        BOOST_TEST((frames >= 56 && frames <= 76), c.dump());  // about even: 192 in three
    }
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    const auto nodes = chunk_nodes(sidecar);
    BOOST_TEST_MESSAGE("3 chunks ran on " << nodes.size() << " nodes");
    BOOST_TEST(nodes.size() >= 2u, sidecar["chunks"].dump());
}

// Nodes need not be configured alike: a node with other `workers` and `chunk_seconds` than the
// owner runs the owner's chunks as the owner cut them (the plan records what it was cut for).
// Before, it cut the file its own way and refused each chunk it took ("the input no longer
// gives the job's recorded plan").
BOOST_AUTO_TEST_CASE(a_node_configured_unlike_the_owner_runs_the_owners_plan) {
    Farm f("unlike", 2, {.own_inboxes = true});
    auto& other = *f.nodes[1];
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return all_active(f); }, 30s), f.logs());
    other.signal(SIGTERM);  // started alike; it comes back configured otherwise
    BOOST_REQUIRE(other.wait_exit(30s) == 0);
    other.write_config(node_config(
        f.share, "node-1",
        {.work = std::string("chunk_seconds: 3\n") + kProfile, .inbox = "inbox-1", .workers = 2}));
    other.start();
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return all_active(f); }, 30s), f.logs());
    // node-0 owns it: 0.5 s chunks.
    fs::copy_file(clip(), f.share.root() / "inbox-0" / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 120s),
                          f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_REQUIRE(sidecar.is_object());
    BOOST_TEST(sidecar["chunks"].size() == 16u);
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST(frame_hashes(f.output()) == reference_hashes());
    BOOST_TEST(chunk_nodes(sidecar).count("node-1") == 1u, sidecar["chunks"].dump());
    auto conn = rr::store::PgConn::connect(f.share.conninfo);
    BOOST_REQUIRE(conn.ok());
    auto retried = conn->query("SELECT count(*) FROM tasks WHERE attempt <> 1");
    BOOST_REQUIRE(retried.ok());
    BOOST_TEST(retried->text(0, 0) == "0");  // no chunk was refused anywhere
}

BOOST_AUTO_TEST_CASE(a_node_killed_mid_chunk_costs_only_its_lease) {
    // node-2's chunk workers hang, so it holds a lease when it is killed.
    Farm f("kill9", 3, {.hanging = 2});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return leases_of(*f.nodes[0], "node-2") > 0; }, 120s),
                          f.logs());
    f.nodes[2]->kill9();
    // Whether or not node-2 owned the job, the others finish and publish it.
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 240s),
                          f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST(!chunk_nodes(sidecar).count("node-2"));
    // The killed node's lease expired and another node redid that chunk.
    BOOST_TEST(f.logs().find("held by node-2 expired") != std::string::npos, f.logs());
}

BOOST_AUTO_TEST_CASE(a_stopped_node_cannot_complete_after_its_lease_was_taken_over) {
    // node-1's chunk workers hang: stopped, it surely holds a lease that node-0 takes over.
    Farm f("sigstop", 2, {.hanging = 1});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return leases_of(*f.nodes[0], "node-1") > 0; }, 120s),
                          f.logs());
    auto& stopped = *f.nodes[1];
    stopped.signal(SIGSTOP);
    // node-0 publishes the whole job once the stopped node's lease ran out.
    const bool finished = t::wait_until([&] { return published(f); }, 240s);
    stopped.signal(SIGCONT);
    BOOST_REQUIRE_MESSAGE(finished, f.logs());
    // Resumed, the stopped node learns from its renewal that it lost the lease: its worker
    // is stopped and its file removed. It publishes nothing, and its job (if it owned it)
    // finishes with node-0's output.
    BOOST_TEST(
        t::wait_until(
            [&] { return stopped.log().find("was lost; abandoning it") != std::string::npos; },
            30s),
        stopped.log());
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return all_settled(f); }, 60s), f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST((chunk_nodes(sidecar) == std::set<std::string>{"node-0"}));
    BOOST_TEST(t::wait_until(
        [&] {
            std::error_code ec;
            return !fs::exists(f.share.work(), ec) || fs::is_empty(f.share.work(), ec);
        },
        30s));
    // Exactly one output: nothing was published twice or under another name.
    int outputs = 0;
    for (const auto& e : fs::directory_iterator(f.share.outbox()))
        if (e.path().extension() == ".mp4") ++outputs;
    BOOST_TEST(outputs == 1);
}

BOOST_AUTO_TEST_CASE(the_owner_killed_mid_job_the_others_publish_it_and_dispose_of_its_source) {
    Farm f("owner", 3, {.node = {.on_success = "move"}});
    const fs::path source = f.share.inbox() / "clip.mp4";
    const fs::path moved = f.share.root() / "done" / "clip.mp4";
    fs::copy_file(clip(), source);
    std::optional<size_t> owner;
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return (owner = owner_of(f)).has_value(); }, 120s),
                          f.logs());
    const size_t other = (*owner + 1) % 3;
    const std::string owner_id = "node-" + std::to_string(*owner);
    BOOST_REQUIRE(t::wait_until([&] { return leases_of(*f.nodes[other], owner_id) > 0; }, 60s));
    f.nodes[*owner]->kill9();
    // The job needs no owner to finish: the last completer joins and publishes.
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f); }, 240s), f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST(!chunk_nodes(sidecar).count(""));
    // Once the owner is lost, a node whose watch holds the file adopts the job and disposes of
    // the source as the watch says (moved to done/), the owner being gone for good or not.
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return fs::exists(moved) && !fs::exists(source); }, 60s), f.logs());
    BOOST_TEST(fs::file_size(moved) == fs::file_size(clip()));
    auto conn = rr::store::PgConn::connect(f.share.conninfo);
    BOOST_REQUIRE(conn.ok());
    auto row = conn->query("SELECT owner, coalesce(disposed_by, '') FROM jobs");
    BOOST_REQUIRE(row.ok());
    BOOST_REQUIRE(row->rows() == 1);
    const std::string adopter = row->text(0, 0);
    BOOST_TEST(adopter != owner_id);
    BOOST_TEST(row->text(0, 1) == adopter);
    BOOST_TEST(f.logs().find("before disposing of its source") != std::string::npos);
    // Restarted once its id is free again, the old owner finds the job handled by the
    // adopter: it neither processes nor moves anything again.
    f.nodes[*owner]->start();
    BOOST_TEST(t::wait_until(
                   [&] {
                       for (const auto& j : f.nodes[*owner]->jobs())
                           if (!rr::store::is_final(j.state)) return false;
                       return true;
                   },
                   60s),
               f.nodes[*owner]->log());
    for (const auto& j : f.nodes[*owner]->jobs())
        BOOST_TEST((j.state == rr::store::JobState::duplicate), j.error.value_or(""));
    int outputs = 0;
    for (const auto& e : fs::directory_iterator(f.share.outbox()))
        if (e.path().extension() == ".mp4") ++outputs;
    BOOST_TEST(outputs == 1);
    BOOST_TEST(fs::exists(moved));
}

BOOST_AUTO_TEST_CASE(the_owner_killed_while_preparing_another_node_takes_the_job_over) {
    // node-0's prepare worker hangs: it owns the job, still 'preparing', when it is killed.
    Farm f("adopt", 1, {.hanging = 0, .hang = "hang:prepare"});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    auto has_job_in = [](const t::Daemon& d, rr::store::JobState state) {
        for (const auto& j : d.jobs())
            if (j.state == state) return true;
        return false;
    };
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return has_job_in(*f.nodes[0], rr::store::JobState::probing); }, 60s),
        f.logs());
    // node-1 sees the same file and leaves it to its owner, as every other watcher would.
    f.nodes.push_back(std::make_unique<t::Daemon>(""));
    auto& adopter = *f.nodes.back();
    adopter.write_config(node_config(f.share, "node-1"));
    adopter.start();
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return has_job_in(adopter, rr::store::JobState::duplicate); }, 60s),
        f.logs());
    f.nodes[0]->kill9();
    const auto killed = std::chrono::steady_clock::now();
    // Once node-0 is lost, node-1 prepares the file itself, runs every chunk and publishes.
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 240s),
                          f.logs());
    BOOST_TEST_MESSAGE(
        "published "
        << std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count()
        << " s after the owner was killed");
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST((chunk_nodes(sidecar) == std::set<std::string>{"node-1"}));
    int published_here = 0;
    for (const auto& j : adopter.jobs()) published_here += rr::store::published(j.state) ? 1 : 0;
    BOOST_TEST(published_here == 1, adopter.log());
    BOOST_TEST(adopter.log().find("was lost while preparing it; taking over") != std::string::npos,
               adopter.log());
    int outputs = 0;
    for (const auto& e : fs::directory_iterator(f.share.outbox()))
        if (e.path().extension() == ".mp4") ++outputs;
    BOOST_TEST(outputs == 1);
}

// Taking a preparation over is an attempt (queue migration 10): a node whose max_attempts
// is used up by the owners lost preparing a file fails its job instead of preparing it again,
// names the lost owner, and disposes of the source as a failure.
BOOST_AUTO_TEST_CASE(a_preparation_whose_owners_were_lost_max_attempts_times_fails_its_job) {
    Farm f("giveup", 1, {.hanging = 0, .hang = "hang:prepare"});
    const fs::path source = f.share.inbox() / "clip.mp4";
    fs::copy_file(clip(), source);
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (const auto& j : f.nodes[0]->jobs())
                                      if (j.state == rr::store::JobState::probing) return true;
                                  return false;
                              },
                              60s),
                          f.logs());
    f.nodes[0]->kill9();
    // node-1 starts after node-0 was killed: one attempt was all it allows.
    f.nodes.push_back(std::make_unique<t::Daemon>(""));
    auto& last = *f.nodes.back();
    last.write_config(node_config(f.share, "node-1", {.max_attempts = 1}));
    last.start();
    const fs::path failed = f.share.root() / "failed" / "clip.mp4";
    // The node records its job failed once the move is done and recorded in the queue: the
    // moved file shows up a moment before the job's state does.
    std::string error;
    auto failed_job = [&] {
        for (const auto& j : last.jobs())
            if (j.state == rr::store::JobState::failed) {
                error = j.error.value_or("");
                return true;
            }
        return false;
    };
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return fs::exists(failed) && !fs::exists(source) && failed_job(); },
                      90s),
        f.logs());
    const std::string why =
        "preparing was interrupted 1 time, each time by its node being lost (node-0)";
    BOOST_TEST(error.find(why) != std::string::npos, error);
    BOOST_TEST(fs::exists(failed.string() + ".error.txt"));
    BOOST_TEST(t::read_file(failed.string() + ".error.txt").find(why) != std::string::npos);
    BOOST_TEST(!fs::exists(f.output()));
    auto conn = rr::store::PgConn::connect(f.share.conninfo);
    BOOST_REQUIRE(conn.ok());
    auto row = conn->query("SELECT state, owner, disposed_by, prepare_attempt FROM jobs");
    BOOST_REQUIRE(row.ok());
    BOOST_REQUIRE(row->rows() == 1);
    BOOST_TEST(row->text(0, 0) == "failed");
    BOOST_TEST(row->text(0, 1) == "node-1");
    BOOST_TEST(row->text(0, 2) == "node-1");
    BOOST_TEST(row->text(0, 3) == "1");
    auto tasks = conn->query("SELECT count(*) FROM tasks");
    BOOST_REQUIRE(tasks.ok());
    BOOST_TEST(tasks->text(0, 0) == "0");  // nothing was queued
}

// A disposition is done once recorded done, not once claimed (queue migration 11): the owner
// killed after claiming it (`hang:dispose`: its source still in the inbox), or after moving
// the source but before recording that (`hang:disposed`), leaves it to the next node, which
// moves the source or finds it moved, and records it. Before, the claim alone counted, and
// such a source stayed in the inbox for good. The file is not processed again.
void expect_disposition_finished_by_the_next_node(const std::string& db, const std::string& fault) {
    Farm f(db, 1,
           {.node = {.on_success = "move"},
            .env = {{"RENDERRUSH_DAEMON_FAULT", fault}},
            .binary = t::bin_dir() / "renderrushd-faults"});
    const fs::path source = f.share.inbox() / "clip.mp4";
    const fs::path moved = f.share.root() / "done" / "clip.mp4";
    fs::copy_file(clip(), source);
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  return f.nodes[0]->log().find("fault hook: hanging after") !=
                                         std::string::npos;
                              },
                              180s),
                          f.logs());
    f.nodes[0]->kill9();
    BOOST_REQUIRE(published(f));
    BOOST_REQUIRE(fs::exists(source) == (fault == "hang:dispose"));
    auto conn = rr::store::PgConn::connect(f.share.conninfo);
    BOOST_REQUIRE(conn.ok());
    auto disposed = [&] {
        auto r = conn->query("SELECT disposed_at IS NOT NULL FROM jobs");
        return r.ok() && r->rows() == 1 && r->text(0, 0) == "t";
    };
    BOOST_TEST(!disposed());
    f.nodes.push_back(std::make_unique<t::Daemon>(""));
    auto& next = *f.nodes.back();
    next.write_config(node_config(f.share, "node-1", {.on_success = "move"}));
    next.start();
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return disposed() && fs::exists(moved) && !fs::exists(source); }, 90s),
        f.logs());
    auto row = conn->query("SELECT state, owner, disposed_by FROM jobs");
    BOOST_REQUIRE(row.ok());
    BOOST_REQUIRE(row->rows() == 1);  // one job: the file was not made again
    BOOST_TEST(row->text(0, 0) == "done");
    BOOST_TEST(row->text(0, 1) == "node-1");
    BOOST_TEST(row->text(0, 2) == "node-1");
    auto redone = conn->query("SELECT count(*) FROM tasks WHERE attempt <> 1");
    BOOST_REQUIRE(redone.ok());
    BOOST_TEST(redone->text(0, 0) == "0");
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    const std::string said =
        fault == "hang:dispose" ? "takes over the disposition" : "nothing to dispose of";
    BOOST_TEST(next.log().find(said) != std::string::npos, next.log());
}

BOOST_AUTO_TEST_CASE(an_owner_lost_after_claiming_a_disposition_leaves_it_to_the_next_node) {
    expect_disposition_finished_by_the_next_node("dispclaimed", "hang:dispose");
}

BOOST_AUTO_TEST_CASE(an_owner_lost_after_moving_its_source_leaves_the_record_to_the_next_node) {
    expect_disposition_finished_by_the_next_node("dispmoved", "hang:disposed");
}

BOOST_AUTO_TEST_CASE(a_joiner_restarted_before_anyone_found_it_lost_joins_its_job_again) {
    // One node: owner and joiner. Its join worker hangs, it is killed mid-join and started
    // again (the normal binary) before any node marked it lost: active again, nobody would take
    // the join over, so the new process must finish it.
    Farm f("rejoin", 1, {.hanging = 0, .hang = "hang:publish"});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    auto conn = rr::store::PgConn::connect(f.share.conninfo);
    BOOST_REQUIRE(conn.ok());
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  auto r = conn->query("SELECT state FROM jobs");
                                  return r.ok() && r->rows() == 1 && r->text(0, 0) == "joining";
                              },
                              120s),
                          f.logs());
    f.nodes[0]->kill9();
    BOOST_TEST(!published(f));
    std::this_thread::sleep_for(2500ms);  // its id is free once its heartbeat is a lease old
    f.nodes[0]->set_binary(t::renderrushd());
    f.nodes[0]->start();
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 120s),
                          f.logs());
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST(f.logs().find("joining it again") != std::string::npos, f.logs());
    auto r = conn->query("SELECT state, joiner FROM jobs");
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->text(0, 0) == "done");
    BOOST_TEST(r->text(0, 1) == "node-0");
}

BOOST_AUTO_TEST_CASE(a_poison_file_fails_its_job_after_max_attempts_on_every_node) {
    // Every chunk worker crashes on this file, on every node.
    Farm f("poison", 2,
           {.env = {{"RENDERRUSH_FAULT", "crash:chunk:poison"}},
            .binary = t::bin_dir() / "renderrushd-faults"});
    fs::copy_file(clip(), f.share.inbox() / "poison.mp4");
    std::optional<rr::store::JobRow> failed;
    const t::Daemon* owner = nullptr;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (const auto& d : f.nodes)
                                      for (const auto& j : d->jobs())
                                          if (j.state == rr::store::JobState::failed) {
                                              failed = j;
                                              owner = d.get();
                                          }
                                  return failed.has_value() && all_settled(f);
                              },
                              120s),
                          f.logs());
    const std::string error = failed->error.value_or("");
    BOOST_TEST_MESSAGE("poison job: " << error);
    // The owner recorded every node's failed attempts as its own chunks' failures: the chunk
    // rows' errors and one event per attempt, naming the node.
    int crashed_chunks = 0;
    for (const auto& c : owner->chunks(failed->id))
        crashed_chunks += c.error.value_or("").find("SIGSEGV") != std::string::npos ? 1 : 0;
    BOOST_TEST(crashed_chunks >= 1);
    int attempt_events = 0;
    auto store = rr::store::JobStore::open_read_only(owner->dir("state") / "renderrush.db");
    BOOST_REQUIRE(store.ok());
    for (const auto& e : t::must(store->events(failed->id, 1000)))
        attempt_events += e.message.find("on node node-") != std::string::npos &&
                                  e.message.find("SIGSEGV") != std::string::npos
                              ? 1
                              : 0;
    BOOST_TEST(attempt_events >= 3, "attempt events: " << attempt_events);
    BOOST_TEST(error.find("failed after 3 attempts") != std::string::npos, error);
    BOOST_TEST(error.find("attempt 1 on node-") != std::string::npos, error);
    BOOST_TEST(error.find("SIGSEGV") != std::string::npos, error);
    BOOST_TEST(!fs::exists(f.share.outbox() / "poison.mp4"));
    // Both daemons are still up and answering.
    for (const auto& d : f.nodes) BOOST_TEST(ctl(*d, {"status"}).exit_code == 0);
}

// The owner's prepare refuses the file (it is not media): its job fails on that node, with the
// reason, and the queue job ends too rather than staying 'preparing' for another node to adopt.
BOOST_AUTO_TEST_CASE(a_file_that_cannot_be_prepared_ends_its_queue_job) {
    Farm f("unpreparable", 1);
    {
        std::ofstream junk(f.share.inbox() / "junk.mp4", std::ios::binary);
        junk << std::string(64 * 1024, 'x');
    }
    std::optional<rr::store::JobRow> failed;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (const auto& j : f.nodes[0]->jobs())
                                      if (j.state == rr::store::JobState::failed) failed = j;
                                  return failed.has_value();
                              },
                              60s),
                          f.logs());
    BOOST_TEST_MESSAGE("junk job: " << failed->error.value_or(""));
    BOOST_TEST(!failed->error.value_or("").empty());
    auto conn = rr::store::PgConn::connect(f.share.conninfo);
    BOOST_REQUIRE(conn.ok());
    std::string state, error;
    BOOST_REQUIRE(t::wait_until(
        [&] {
            auto r = conn->query(
                "SELECT state, coalesce(error, '') FROM jobs "
                "WHERE source_path = 'inbox/junk.mp4'");
            if (!r.ok() || r->rows() != 1) return false;
            state = r->text(0, 0);
            error = r->text(0, 1);
            return state == "failed";
        },
        10s));
    BOOST_TEST(state == "failed");
    BOOST_TEST(error == failed->error.value_or(""));
    // The source is not lost: it stays in the inbox or moves to the watch's failed folder.
    int sources = 0;
    for (const auto& e : fs::recursive_directory_iterator(f.share.box.path()))
        sources += e.path().filename() == "junk.mp4" ? 1 : 0;
    BOOST_TEST(sources == 1);
}

BOOST_AUTO_TEST_CASE(a_drained_node_and_one_without_the_share_claim_nothing) {
    t::Sandbox unmounted;  // node-2's mount point, empty: no storage marker
    Farm f("drain", 3, {.roots = {{2, unmounted.path()}}});
    BOOST_REQUIRE(t::wait_until(
        [&] {
            auto j = t::ctl_json(*f.nodes[0], {"nodes"});
            return j.is_object() && j["nodes"].size() == 3u;
        },
        30s));
    BOOST_REQUIRE(ctl(*f.nodes[0], {"drain", "node-1"}).exit_code == 0);
    BOOST_REQUIRE(t::wait_until(
        [&] {
            auto s = ctl(*f.nodes[1], {"--json", "status"});
            auto j = nlohmann::json::parse(s.out, nullptr, false);
            return j.is_object() && j["cluster"]["claiming"] == false;
        },
        10s));
    // Either node that may own the file (node-0 and node-1 watch the share's inbox) knows why
    // node-2 claims nothing.
    BOOST_REQUIRE(t::wait_until(
        [&] {
            for (int i : {0, 1})
                if (!t::listed_node(*f.nodes[i], "node-2")["storage_problem"].is_string())
                    return false;
            return true;
        },
        10s));
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 240s),
                          f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    // The plan is cut for the one node that can claim, not for three.
    BOOST_TEST(sidecar["plan_workers"] == 1);
    BOOST_TEST((chunk_nodes(sidecar) == std::set<std::string>{"node-0"}), sidecar["chunks"].dump());
}

BOOST_AUTO_TEST_CASE(the_database_restarted_mid_job_the_nodes_reconnect_and_finish) {
    Farm f("dbrestart", 2);
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE(t::wait_until(
        [&] { return leases_of(*f.nodes[0], "node-0") + leases_of(*f.nodes[0], "node-1") > 0; },
        120s));
    // Down for longer than a lease: the nodes stop claiming and say so.
    t::shared_pg_server().stop();
    BOOST_TEST(t::wait_until(
        [&] {
            auto s = ctl(*f.nodes[0], {"--json", "status"});
            auto j = nlohmann::json::parse(s.out, nullptr, false);
            return j.is_object() && j["cluster"]["claiming"] == false;
        },
        10s));
    std::this_thread::sleep_for(3s);
    t::shared_pg_server().start();
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 240s),
                          f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(sidecar["frames"]["output"] == kFrames);
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST(f.logs().find("database reachable again") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_same_content_in_two_nodes_own_folders_is_processed_once) {
    expect_one_of_two_copies_processed("farmdedupe");
}

BOOST_AUTO_TEST_SUITE_END()

// Nodes on one host (say, one daemon per GPU) can share a SQLite queue file: the same queue
// code and the same cases as on PostgreSQL, without a server.
BOOST_AUTO_TEST_SUITE(cluster_media_sqlite)

BOOST_AUTO_TEST_CASE(three_nodes_on_one_host_share_a_sqlite_queue) {
    Farm f("sqlite:media3", 3);
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 60s),
                          f.logs());
    expect_published_once_by_the_farm(f);
    // `nodes` reads the same table the claimers write.
    const auto listing = t::ctl_json(*f.nodes[0], {"nodes"});
    for (const char* id : {"node-0", "node-1", "node-2"})
        BOOST_TEST(t::node_of(listing, id).is_object(), listing.dump());
    BOOST_TEST(f.logs().find("SQLite queue") != std::string::npos);
    // The owner's timeline (the dashboard's): every task, the audio pass too, with when it ran
    // on the node that ran it.
    const auto owner = owner_of(f);
    BOOST_REQUIRE(owner.has_value());
    const auto& d = *f.nodes[*owner];
    const auto job = d.jobs().front();
    bool audio = false;
    for (const auto& c : d.chunks(job.id)) {
        audio = audio || c.task.is_audio();
        BOOST_TEST(c.started_at.value_or(0) > 0, c.task.name());
        BOOST_TEST(c.finished_at.value_or(0) >= c.started_at.value_or(0), c.task.name());
    }
    BOOST_TEST(audio);
}

BOOST_AUTO_TEST_CASE(the_owner_shows_frames_progress_before_the_first_chunk_is_done) {
    // 4 s at 640x480, a keyframe every 2 s, denoised with nlmeans: 2 chunks of 48 frames that
    // take seconds each, one on each node. The owner learns of frames only through the queue
    // (what the nodes report at each heartbeat), its own chunk's as much as the other's.
    Farm f("sqlite:progress", 2, {.node = {.work = slow_work()}});
    fs::copy_file(slow_clip(), f.share.inbox() / "clip.mp4");
    std::set<int64_t> shown;  // frames the owner's status showed while no chunk was done
    int64_t listed = 0;       // the most `jobs --json` showed meanwhile
    bool chunk_done = false;
    std::optional<size_t> owner;
    nlohmann::json farm;     // the job in the other node's `cluster-jobs` while both ran a chunk
    std::string farm_table;  // the same, for people
    const bool watched = t::wait_until(
        [&] {
            owner = owner_of(f);
            if (!owner) return false;
            const auto& d = *f.nodes[*owner];
            const auto in_hand = t::ctl_json(*f.nodes[1 - *owner], {"cluster-jobs"});
            for (const auto& j : in_hand.value("jobs", nlohmann::json::array())) {
                if (j.value("leases", nlohmann::json::object()).size() != 2) continue;
                farm = j;
                farm_table = t::ctl(*f.nodes[1 - *owner], {"cluster-jobs"}).out;
            }
            for (const auto& j :
                 t::ctl_json(d, {"status"}).value("running", nlohmann::json::array())) {
                if (j.value("chunks_done", 0) > 0) chunk_done = true;
                if (!chunk_done && j.value("frames_done", int64_t{0}) > 0)
                    shown.insert(j["frames_done"].get<int64_t>());
            }
            for (const auto& j : t::ctl_json(d, {"jobs"}).value("jobs", nlohmann::json::array())) {
                const auto live = j.value("live", nlohmann::json::object());
                if (live.value("chunks_done", 0) > 0) chunk_done = true;
                if (!chunk_done) listed = std::max(listed, live.value("frames_done", int64_t{0}));
            }
            // The two chunks run side by side and may finish within one of the owner's polls,
            // the job then leaving `running` before any poll here saw a chunk counted.
            return chunk_done || published(f);
        },
        120s);
    BOOST_REQUIRE_MESSAGE(watched, f.logs());
    std::string counts;
    for (int64_t n : shown) counts += " " + std::to_string(n);
    BOOST_TEST_MESSAGE("frames shown before the first chunk was done:" << counts);
    // Moving, frame by frame, before any chunk was done: more than one count, all short of
    // the job's 96 frames.
    BOOST_TEST(shown.size() >= 2u, f.logs());
    if (!shown.empty()) BOOST_TEST(*shown.rbegin() < 96);
    BOOST_TEST(listed > 0);
    // What the farm is working on, seen from the node that does not own the job: the job,
    // its owner and the owner's own job id, a chunk leased on each node.
    BOOST_TEST_MESSAGE("cluster-jobs on the other node: " << farm.dump());
    BOOST_REQUIRE_MESSAGE(farm.is_object(), f.logs());
    const std::string owner_id = "node-" + std::to_string(*owner);
    BOOST_TEST(farm["state"] == "running");
    BOOST_TEST(farm["owner"] == owner_id);
    BOOST_TEST(farm["owner_job"] == f.nodes[*owner]->jobs().front().id);
    BOOST_TEST(farm["chunks_total"] == 2);
    BOOST_TEST(farm["leases"] == (nlohmann::json{{"node-0", 1}, {"node-1", 1}}));
    BOOST_TEST(farm["source"].get<std::string>().ends_with("clip.mp4"));
    BOOST_TEST_MESSAGE(farm_table);
    BOOST_TEST(farm_table.find("RUNNING ON") != std::string::npos, farm_table);
    BOOST_TEST(farm_table.find(owner_id + " (job ") != std::string::npos, farm_table);
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 120s),
                          f.logs());
    BOOST_TEST(t::count_frames(f.output()) == 96);
    // Published and its source disposed of: no node has it in hand any more.
    BOOST_TEST(t::wait_until(
        [&] {
            for (const auto& d : f.nodes)
                if (!t::ctl_json(*d, {"cluster-jobs"})["jobs"].empty()) return false;
            return true;
        },
        10s));
    const auto table = t::ctl(*f.nodes[0], {"cluster-jobs"});
    BOOST_TEST(table.out.find("the farm has no jobs in hand") != std::string::npos, table.out);
}

// An operator cancels a cluster job while its chunks run, then retries it: the retry runs the
// file again as a new queue job (the cancelled one keeps its history) and publishes it whole;
// `reprocess` of the published job makes it once more.
BOOST_AUTO_TEST_CASE(a_cancelled_cluster_job_can_be_retried_and_a_published_one_reprocessed) {
    Farm f("sqlite:retry", 2, {.node = {.work = slow_work()}});
    fs::copy_file(slow_clip(), f.share.inbox() / "clip.mp4");
    std::optional<size_t> owner;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  owner = owner_of(f);
                                  return owner && f.nodes[*owner]->jobs().front().state ==
                                                      rr::store::JobState::running;
                              },
                              60s),
                          f.logs());
    auto& d = *f.nodes[*owner];
    const int64_t id = d.jobs().front().id;
    BOOST_REQUIRE(ctl(d, {"cancel", std::to_string(id)}).exit_code == 0);
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return d.jobs().front().state == rr::store::JobState::cancelled; },
                      30s),
        f.logs());
    BOOST_TEST(!published(f));
    BOOST_TEST(fs::exists(f.share.inbox() / "clip.mp4"));  // a cancelled source stays
    const auto retried = ctl(d, {"retry", std::to_string(id)});
    BOOST_REQUIRE_MESSAGE(retried.exit_code == 0, retried.err);
    BOOST_REQUIRE_MESSAGE(
        t::wait_until(
            [&] { return d.jobs().front().state == rr::store::JobState::done && published(f); },
            120s),
        f.logs());
    BOOST_TEST(t::count_frames(f.output()) == 96);
    // Made again on request: another new queue job, and a second output beside the first.
    const auto again = t::ctl_json(d, {"reprocess", std::to_string(id)});
    BOOST_REQUIRE_MESSAGE(again.contains("id"), again.dump());
    const int64_t second = again["id"].get<int64_t>();
    std::optional<rr::store::JobRow> made;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (const auto& j : d.jobs())
                                      if (j.id == second && rr::store::is_final(j.state)) made = j;
                                  return made.has_value();
                              },
                              120s),
                          f.logs());
    BOOST_TEST((made->state == rr::store::JobState::done), made->error.value_or(""));
    BOOST_REQUIRE(made->output_path.has_value());
    BOOST_TEST(*made->output_path != f.output().string());
    BOOST_TEST(t::count_frames(*made->output_path) == 96);
    // Three queue jobs for the one version of the file: the cancelled one and the first
    // retry's, both retired, and the reprocess's.
    auto db = rr::store::Db::open(f.share.conninfo.substr(7), true);
    BOOST_REQUIRE(db.ok());
    auto rows = rr::store::Stmt::prepare(
        *db, "SELECT state || ' ' || (instr(source_key, '#') > 0) FROM jobs ORDER BY id");
    BOOST_REQUIRE(rows.ok());
    std::vector<std::string> jobs;
    for (auto more = rows->step(); more.ok() && *more; more = rows->step())
        jobs.push_back(rows->text(0));
    BOOST_TEST((jobs == std::vector<std::string>{"cancelled 1", "done 1", "done 0"}));
}

// dedupe (the default) in cluster mode: the owner's job database knows the clip was published,
// so the same bytes under another name are a duplicate there, as on a single node. Its queue
// job ends without a task (the farm does not transcode it again), no second output appears,
// and its source moves to the done folder like the first one.
BOOST_AUTO_TEST_CASE(the_same_content_again_is_a_duplicate_and_queues_no_tasks) {
    Farm f("sqlite:dedupe", 1, {.node = {.on_success = "move"}});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 120s),
                          f.logs());
    fs::copy_file(clip(), f.share.inbox() / "again.mp4");
    std::optional<rr::store::JobRow> first, again;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  for (const auto& j : f.nodes[0]->jobs()) {
                                      const auto name = fs::path(j.source_path).filename();
                                      if (name == "clip.mp4") first = j;
                                      if (name == "again.mp4" && rr::store::is_final(j.state))
                                          again = j;
                                  }
                                  return first && again;
                              },
                              60s),
                          f.logs());
    const std::string expected = "duplicate of job " + std::to_string(first->id);
    BOOST_TEST(rr::store::published(first->state));
    BOOST_TEST(again->state == rr::store::JobState::duplicate, f.logs());
    BOOST_TEST(again->duplicate_of.value_or(0) == first->id);
    BOOST_TEST(again->error.value_or("") == expected);
    // One output, the first job's.
    std::vector<std::string> outputs;
    for (const auto& e : fs::directory_iterator(f.share.outbox()))
        if (e.path().extension() == ".mp4") outputs.push_back(e.path().filename().string());
    BOOST_TEST(outputs == std::vector<std::string>{"clip.mp4"});
    // Disposed of as a done job: both sources in the done folder, none left in the inbox.
    BOOST_TEST(fs::exists(f.share.root() / "done" / "clip.mp4"));
    BOOST_TEST(fs::exists(f.share.root() / "done" / "again.mp4"));
    BOOST_TEST(!fs::exists(f.share.inbox() / "again.mp4"));
    // The queue: the duplicate's job ended without a task; the first one's ran its 16 chunks.
    auto q = rr::store::open_task_queue({.database = f.share.conninfo, .node_id = "test"});
    BOOST_REQUIRE_MESSAGE(q.ok(), (q.ok() ? std::string() : q.error().message));
    std::map<std::string, rr::store::JobView> by_source;
    for (int64_t id = 1; id <= 10; ++id)
        if (auto j = (*q)->job(id); j.ok()) by_source[j->source_path] = *j;
    BOOST_REQUIRE(by_source.count("inbox/again.mp4"));
    BOOST_REQUIRE(by_source.count("inbox/clip.mp4"));
    const auto& dup = by_source["inbox/again.mp4"];
    BOOST_TEST(dup.state == "cancelled");
    BOOST_TEST(dup.error.value_or("") == expected);
    BOOST_TEST(dup.disposed_by.value_or("") == "node-0");
    auto tasks = (*q)->tasks(dup.id);
    BOOST_REQUIRE(tasks.ok());
    BOOST_TEST(tasks->empty());
    auto first_tasks = (*q)->tasks(by_source["inbox/clip.mp4"].id);
    BOOST_REQUIRE(first_tasks.ok());
    BOOST_TEST(first_tasks->size() == 17u);  // 16 chunks and the audio
}

// dedupe across the farm: the same bytes under two names, dropped into folders that two
// different nodes watch, are two jobs with two owners, whose job databases each know only
// their own. The queue knows both: exactly one is processed, the other ends as a duplicate
// naming the first's cluster job and node, its queue job without a task, and its source is
// disposed of as a duplicate's is on one node (moved to the done folder, on_success: move).
BOOST_AUTO_TEST_CASE(the_same_content_in_two_nodes_own_folders_is_processed_once) {
    expect_one_of_two_copies_processed("sqlite:farmdedupe");
}

BOOST_AUTO_TEST_CASE(a_node_killed_mid_chunk_on_a_sqlite_queue_costs_only_its_lease) {
    Farm f("sqlite:kill9", 3, {.hanging = 2});
    fs::copy_file(clip(), f.share.inbox() / "clip.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return leases_of(*f.nodes[0], "node-2") > 0; }, 120s),
                          f.logs());
    f.nodes[2]->kill9();
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return published(f) && all_settled(f); }, 240s),
                          f.logs());
    const auto sidecar = read_json(f.sidecar());
    BOOST_TEST(t::count_frames(f.output()) == kFrames);
    BOOST_TEST(!chunk_nodes(sidecar).count("node-2"));
    BOOST_TEST(f.logs().find("held by node-2 expired") != std::string::npos, f.logs());
}

BOOST_AUTO_TEST_SUITE_END()
