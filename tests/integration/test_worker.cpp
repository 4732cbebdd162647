#define BOOST_TEST_MODULE integration_worker
// Worker processes: whatever a hostile input does to the process that reads it (crash, hang,
// runaway memory, reaching for the network or other files) costs that attempt only; the
// daemon keeps serving and other jobs finish. Faults come from the test build's
// renderrushd-faults (RENDERRUSH_FAULT, lib/worker/fault_hook.h).

#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <thread>

#include "store/db.h"
#include "store/job_store.h"
#include "support/daemon.h"
#include "support/media.h"
#include "support/must.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using rr::store::JobState;
using namespace std::chrono_literals;

namespace {

const std::string kProfiles = R"(profiles:
  plain:
    video: {codec: h264, preset: ultrafast, hwaccel: none}
)";

std::filesystem::path faults_binary() {
    return t::bin_dir() / "renderrushd-faults";
}

std::filesystem::path clip() {
    return t::fixture(
        "worker_clip_4s.mp4",
        "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 -f lavfi -i sine=duration=4 "
        "-c:v libx264 -preset veryfast -g 25 -c:a aac");
}

// The same picture without a sound track: every task of its job is a chunk.
std::filesystem::path silent_clip() {
    return t::fixture("worker_clip_4s_silent.mp4",
                      "-f lavfi -i testsrc2=size=320x240:rate=25:duration=4 "
                      "-c:v libx264 -preset veryfast -g 25");
}

void drop(const std::filesystem::path& to, const std::filesystem::path& from = clip()) {
    std::filesystem::create_directories(to.parent_path());
    const auto tmp = to.parent_path() / ("." + to.filename().string() + ".part");
    std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, to);
}

// A daemon running renderrushd-faults with `fault`, watching inbox/plain; `env`: more of its
// environment (RENDERRUSH_DAEMON_FAULT).
struct FaultyDaemon {
    t::Daemon d{""};
    FaultyDaemon(const std::string& fault, const std::string& extra,
                 std::map<std::string, std::string> env = {}) {
        d.set_binary(faults_binary());
        d.write_config("chunk_seconds: 2\nworkers: 2\n" + extra +
                       "watches:\n  - {path: " + d.dir("inbox").string() +
                       ", profile: by-folder, output: " + d.dir("outbox").string() +
                       ", settle_seconds: 1}\n" + kProfiles);
        env["RENDERRUSH_FAULT"] = fault;
        d.start(env);
        BOOST_REQUIRE(t::wait_until(
            [&] { return std::filesystem::exists(d.dir("run") / "control.sock"); }, 20s));
    }
};

std::optional<rr::store::JobRow> job_for(const t::Daemon& d, const std::string& name) {
    for (auto& j : d.jobs())
        if (std::filesystem::path(j.source_path).filename() == name) return j;
    return std::nullopt;
}

bool in_state(const t::Daemon& d, const std::string& name, JobState state) {
    auto j = job_for(d, name);
    return j && j->state == state;
}

bool status_answers(const t::Daemon& d) {
    auto r = t::run({t::renderrushctl().string(), "--socket",
                     (d.dir("run") / "control.sock").string(), "status"},
                    10s);
    return r.exit_code == 0;
}

// Worker processes (`renderrushd worker --fd N`) whose parent is `parent`.
// The children of `parent` whose arguments contain `marker` (workers: `worker --fd`, and the
// zygote: `worker --zygote`).
std::vector<pid_t> children_of(pid_t parent, const std::string& marker) {
    std::vector<pid_t> out;
    for (const auto& e : std::filesystem::directory_iterator("/proc")) {
        const std::string name = e.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::ifstream stat(e.path() / "stat");
        std::string line;
        std::getline(stat, line);
        const auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        if (ppid != parent) continue;
        std::ifstream cmd(e.path() / "cmdline");
        std::string args((std::istreambuf_iterator<char>(cmd)), {});
        if (args.find(marker) != std::string::npos) out.push_back(std::stoi(name));
    }
    return out;
}

std::vector<pid_t> workers_of(pid_t parent) {
    return children_of(parent, std::string("worker\0--fd", 11));
}

// The job of `name` is running and the daemon has worker processes for it.
bool running_on_workers(const t::Daemon& d, const std::string& name) {
    return !workers_of(d.pid()).empty() && in_state(d, name, JobState::running);
}

// The job's stored events, as `renderrushctl events` shows them.
std::vector<rr::store::EventRow> events_of(const t::Daemon& d, int64_t job) {
    auto store = rr::store::JobStore::open_read_only(d.dir("state") / "renderrush.db");
    if (!store) return {};
    auto rows = store->events(job, 1000);
    return rows ? *rows : std::vector<rr::store::EventRow>{};
}

bool has_event(const t::Daemon& d, int64_t job, const std::string& text) {
    for (const auto& e : events_of(d, job))
        if (e.message.find(text) != std::string::npos) return true;
    return false;
}

std::string status_field(pid_t pid, const std::string& field) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(field + ":", 0) == 0) {
            auto v = line.substr(field.size() + 1);
            v.erase(0, v.find_first_not_of(" \t"));
            return v;
        }
    }
    return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_crashing_worker_costs_its_attempts_and_the_daemon_keeps_serving) {
    FaultyDaemon f("crash:chunk:poison", "max_attempts: 2\ndedupe: false\n");
    auto& d = f.d;
    drop(d.dir("inbox") / "plain" / "poison.mp4");
    drop(d.dir("inbox") / "plain" / "good.mp4");
    bool answered = true;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  answered = answered && status_answers(d);
                                  return in_state(d, "poison.mp4", JobState::failed) &&
                                         in_state(d, "good.mp4", JobState::done);
                              },
                              120s),
                          d.log());
    BOOST_TEST(answered);
    BOOST_TEST(d.running());
    BOOST_TEST(status_answers(d));
    const auto bad = *job_for(d, "poison.mp4");
    BOOST_TEST_MESSAGE("error: " << bad.error.value_or(""));
    BOOST_TEST(bad.error.value_or("").find("worker killed by SIGSEGV") != std::string::npos);
    BOOST_TEST(bad.error.value_or("").find("after 2 attempts") != std::string::npos);
    bool recorded = false;
    for (const auto& c : d.chunks(bad.id))
        recorded =
            recorded || c.error.value_or("").find("worker killed by SIGSEGV") != std::string::npos;
    BOOST_TEST(recorded);
    BOOST_TEST(has_event(d, bad.id, "worker killed by SIGSEGV"));
    // The failed source says why, beside it in failed/.
    const auto reason = d.dir("failed") / "plain" / "poison.mp4.error.txt";
    BOOST_REQUIRE(std::filesystem::exists(reason));
    BOOST_TEST(t::read_file(reason).find("worker killed by SIGSEGV") != std::string::npos);
    // The other job is untouched: complete output, every frame.
    BOOST_TEST(t::count_frames(d.dir("outbox") / "plain" / "good.mp4") == 100);
    BOOST_TEST(!std::filesystem::exists(d.dir("outbox") / "plain" / "poison.mp4"));
}

BOOST_AUTO_TEST_CASE(a_chunk_whose_worker_crashed_once_is_retried_and_the_sidecar_says_so) {
    FaultyDaemon f("crash:chunk:flaky:once", "max_attempts: 2\n");
    auto& d = f.d;
    drop(d.dir("inbox") / "plain" / "flaky.mp4");
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return in_state(d, "flaky.mp4", JobState::done); }, 120s), d.log());
    const auto j = *job_for(d, "flaky.mp4");
    BOOST_TEST(t::count_frames(d.dir("outbox") / "plain" / "flaky.mp4") == 100);
    BOOST_REQUIRE(j.sidecar.has_value());
    const auto sidecar = nlohmann::json::parse(*j.sidecar);
    BOOST_TEST_MESSAGE("retried: " << sidecar.value("retried", nlohmann::json()).dump());
    BOOST_REQUIRE(sidecar.contains("retried"));
    BOOST_REQUIRE(sidecar["retried"].size() == 1u);
    BOOST_TEST(
        sidecar["retried"][0].value("error", std::string()).find("worker killed by SIGSEGV") !=
        std::string::npos);
    BOOST_TEST(has_event(d, j.id, "worker killed by SIGSEGV"));
}

BOOST_AUTO_TEST_CASE(a_hanging_worker_is_killed_after_its_time) {
    FaultyDaemon f("hang", "max_attempts: 1\nlimits: {worker_seconds_per_chunk: 2}\n");
    drop(f.d.dir("inbox") / "plain" / "stuck.mp4");
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return in_state(f.d, "stuck.mp4", JobState::failed); }, 60s),
        f.d.log());
    const auto j = *job_for(f.d, "stuck.mp4");
    BOOST_TEST_MESSAGE("error: " << j.error.value_or(""));
    BOOST_TEST(j.error.value_or("").find("worker exceeded 2 s") != std::string::npos);
    // The job's other workers (hung too) are asked to stop, then killed.
    BOOST_TEST(t::wait_until([&] { return workers_of(f.d.pid()).empty(); }, 15s));
}

BOOST_AUTO_TEST_CASE(a_worker_past_its_memory_limit_fails_with_the_limit) {
    FaultyDaemon f("memory", "max_attempts: 1\nlimits: {worker_memory_mb: 768}\n");
    drop(f.d.dir("inbox") / "plain" / "greedy.mp4");
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return in_state(f.d, "greedy.mp4", JobState::failed); }, 60s),
        f.d.log());
    const auto j = *job_for(f.d, "greedy.mp4");
    BOOST_TEST_MESSAGE("error: " << j.error.value_or(""));
    BOOST_TEST(j.error.value_or("").find("worker exceeded 768 MB") != std::string::npos);
    BOOST_TEST(f.d.running());
}

BOOST_AUTO_TEST_CASE(a_running_worker_is_confined) {
    FaultyDaemon f("hang", "limits: {worker_seconds_per_chunk: 60}\n");
    drop(f.d.dir("inbox") / "plain" / "watched.mp4");
    std::vector<pid_t> workers;
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  // A worker forked a moment ago confines itself first
                                  // (it reads no input before): wait until every worker
                                  // listed has done so, then check them all.
                                  workers = workers_of(f.d.pid());
                                  if (workers.empty()) return false;
                                  for (pid_t w : workers) {
                                      const auto s = status_field(w, "Seccomp");
                                      if (s.empty() || s == "0") return false;
                                  }
                                  return true;
                              },
                              60s),
                          f.d.log());
    for (pid_t w : workers) {
        BOOST_TEST(status_field(w, "Seccomp") == "2");
        BOOST_TEST(status_field(w, "NoNewPrivs") == "1");
        BOOST_TEST(status_field(w, "CapEff") == "0000000000000000");
    }
    // The zygote that forked them is small, and unconfined only because it never reads input.
    // A worker is cloned as the daemon's child (CLONE_PARENT) and shows the zygote's command
    // line for the moment before it takes its own: a second match must go away at once.
    std::vector<pid_t> zygotes;
    BOOST_TEST(t::wait_until(
        [&] {
            zygotes = children_of(f.d.pid(), std::string("worker\0--zygote", 15));
            return zygotes.size() == 1u;
        },
        10s));
    for (pid_t z : zygotes) {
        BOOST_TEST_MESSAGE("zygote " << z << ": " << status_field(z, "VmRSS") << " ("
                                     << status_field(z, "RssAnon") << " anonymous)");
        BOOST_TEST(status_field(z, "Threads") == "1");
    }
    // Killing the daemon takes its workers and the zygote with it.
    f.d.kill9();
    workers.insert(workers.end(), zygotes.begin(), zygotes.end());
    BOOST_TEST(t::wait_until(
        [&] {
            for (pid_t w : workers)
                if (std::filesystem::exists("/proc/" + std::to_string(w)) &&
                    status_field(w, "State").rfind("Z", 0) != 0)
                    return false;
            return true;
        },
        10s));
}

BOOST_AUTO_TEST_CASE(jobs_still_finish_when_the_zygote_is_killed_twice) {
    FaultyDaemon f("", "dedupe: false\n");
    auto& d = f.d;
    const auto zygote = [&] {
        const auto z = children_of(d.pid(), std::string("worker\0--zygote", 15));
        return z.empty() ? pid_t{-1} : z.front();
    };
    const pid_t first = zygote();
    BOOST_REQUIRE(first > 0);
    ::kill(first, SIGKILL);
    drop(d.dir("inbox") / "plain" / "one.mp4");
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return in_state(d, "one.mp4", JobState::done); }, 120s), d.log());
    // Started again once, and that one serves the job.
    const pid_t second = zygote();
    BOOST_TEST(second > 0);
    BOOST_TEST(second != first);
    // A zygote that keeps dying is given up: workers are exec'd again, and said so.
    ::kill(second, SIGKILL);
    drop(d.dir("inbox") / "plain" / "two.mp4");
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return in_state(d, "two.mp4", JobState::done); }, 120s), d.log());
    BOOST_TEST(zygote() == -1);
    BOOST_TEST(d.log().find("workers are started with posix_spawn from now on") !=
               std::string::npos);
    BOOST_TEST(status_answers(d));
}

BOOST_AUTO_TEST_CASE(a_worker_cannot_open_a_socket_or_files_outside_its_allowance) {
    t::Sandbox box;
    t::write_file(box / "secret.txt", "not for workers");
    const auto run_with = [&](const std::string& fault) {
        return t::run({faults_binary().string(), "process", clip().string(), "-o",
                       (box / "out.mp4").string(), "--workers", "1"},
                      120s, {{"RENDERRUSH_FAULT", fault}});
    };
    auto sock = run_with("socket:prepare");
    BOOST_TEST_MESSAGE(sock.err);
    BOOST_TEST(sock.exit_code == 1);
    BOOST_TEST(sock.err.find("socket(AF_INET) refused") != std::string::npos);
    auto file = run_with("open=" + (box / "secret.txt").string() + ":chunk");
    BOOST_TEST_MESSAGE(file.err);
    BOOST_TEST(file.exit_code == 1);
    BOOST_TEST(file.err.find("secret.txt refused") != std::string::npos);
    // The input itself stays readable: the same hook pointed at it finds it allowed.
    auto input = run_with("open=" + clip().string() + ":chunk");
    BOOST_TEST(input.err.find("was allowed") != std::string::npos);
    BOOST_TEST(!std::filesystem::exists(box / "out.mp4"));
}

BOOST_AUTO_TEST_CASE(a_dry_run_reads_the_input_in_a_confined_worker) {
    t::Sandbox box;
    const auto dry_run = [&](const std::string& fault) {
        return t::run({faults_binary().string(), "process", clip().string(), "-o",
                       (box / "out.mp4").string(), "--dry-run"},
                      60s, {{"RENDERRUSH_FAULT", fault}});
    };
    // A crash while reading the input is the worker's; the command lives to say so.
    auto crash = dry_run("crash:dry_run");
    BOOST_TEST_MESSAGE(crash.err);
    BOOST_TEST(crash.exit_code == 1);
    BOOST_TEST(crash.err.find("worker killed by SIGSEGV") != std::string::npos);
    // And that worker is confined like the others.
    auto sock = dry_run("socket:dry_run");
    BOOST_TEST(sock.exit_code == 1);
    BOOST_TEST(sock.err.find("socket(AF_INET) refused") != std::string::npos);
    auto plan = dry_run("");
    BOOST_TEST(plan.exit_code == 0, plan.err);
    BOOST_TEST(plan.out.find("100 frames") != std::string::npos);
    BOOST_TEST(box.list().empty());
}

// The daemon dies after claiming a cancelled job's disposition in the queue but before it
// recorded the ending (RENDERRUSH_DAEMON_FAULT=hang:dispose holds it there). After the restart
// the job is still cancelled: its disposition is finished, and the file is not run again.
BOOST_AUTO_TEST_CASE(a_job_cancelled_just_before_the_daemon_died_stays_cancelled) {
    FaultyDaemon f("hang", "limits: {worker_seconds_per_chunk: 300}\n",
                   {{"RENDERRUSH_DAEMON_FAULT", "hang:dispose"}});
    auto& d = f.d;
    const auto source = d.dir("inbox") / "plain" / "wanted.mp4";
    drop(source, silent_clip());
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return running_on_workers(d, "wanted.mp4"); }, 60s),
                          d.log());
    const int64_t id = job_for(d, "wanted.mp4")->id;
    auto cancel = t::run({t::renderrushctl().string(), "--socket",
                          (d.dir("run") / "control.sock").string(), "cancel", std::to_string(id)},
                         10s);
    BOOST_REQUIRE_MESSAGE(cancel.exit_code == 0, cancel.out + cancel.err);
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  return d.log().find("hanging after claiming the disposition") !=
                                         std::string::npos;
                              },
                              30s),
                          d.log());
    d.kill9();
    d.set_binary(t::renderrushd());
    d.start();
    BOOST_REQUIRE_MESSAGE(t::wait_until(
                              [&] {
                                  auto j = job_for(d, "wanted.mp4");
                                  return j && rr::store::is_final(j->state);
                              },
                              60s),
                          d.log());
    const auto j = *job_for(d, "wanted.mp4");
    BOOST_TEST(j.state == JobState::cancelled, d.log());
    BOOST_TEST(d.jobs().size() == 1u);
    BOOST_TEST(std::filesystem::exists(source));  // a cancelled job's source stays put
    BOOST_TEST(std::filesystem::is_empty(d.dir("outbox")));
    // One queue job, the cancelled one: nothing was queued for the file again.
    auto queue = rr::store::Db::open(d.dir("state") / "local-queue.db");
    BOOST_REQUIRE(queue.ok());
    auto rows = rr::store::Stmt::prepare(*queue, "SELECT state FROM jobs");
    BOOST_REQUIRE(rows.ok());
    std::vector<std::string> states;
    while (rr::test::must(rows->step())) states.push_back(rows->text(0));
    BOOST_TEST((states == std::vector<std::string>{"cancelled"}));
    BOOST_TEST(status_answers(d));
}

BOOST_AUTO_TEST_CASE(a_job_that_keeps_killing_the_daemon_fails_after_max_attempts) {
    // The chunk workers hang; the daemon is killed while the job runs, twice. Without audio:
    // an audio task (which the fault spares) that finishes is progress, which rightly sets the
    // count of interruptions back to 0, and whether it finished before the kill was a race.
    FaultyDaemon f("hang", "max_attempts: 2\nlimits: {worker_seconds_per_chunk: 300}\n");
    auto& d = f.d;
    drop(d.dir("inbox") / "plain" / "poison.mp4", silent_clip());
    for (int round = 0; round < 2; ++round) {
        BOOST_REQUIRE_MESSAGE(
            t::wait_until([&] { return running_on_workers(d, "poison.mp4"); }, 60s), d.log());
        d.kill9();
        d.start({{"RENDERRUSH_FAULT", "hang"}});
    }
    BOOST_REQUIRE_MESSAGE(
        t::wait_until([&] { return in_state(d, "poison.mp4", JobState::failed); }, 60s), d.log());
    const auto j = *job_for(d, "poison.mp4");
    BOOST_TEST_MESSAGE("error: " << j.error.value_or(""));
    BOOST_TEST(j.error.value_or("").find("interrupted 2 times") != std::string::npos);
    BOOST_TEST(std::filesystem::exists(d.dir("failed") / "plain" / "poison.mp4"));
    BOOST_TEST(status_answers(d));
}
