#define BOOST_TEST_MODULE integration_operator
// What an operator meets on day one: drops at the top of a by-folder inbox, a source that
// cannot be moved, duplicates whose output was deleted, and renderrushctl's command line.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "support/ctl.h"
#include "support/daemon.h"
#include "support/media.h"
#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using rr::store::JobState;
using namespace std::chrono_literals;

namespace {

const std::string kProfiles = R"(profiles:
  default:
    video: {codec: h264, preset: ultrafast, hwaccel: none}
  plain:
    video: {codec: h264, preset: ultrafast, hwaccel: none}
  blurred:
    stages: [{blur: {radius: 8}}]
    video: {codec: h264, preset: medium, hwaccel: none}
)";

std::string config_for(const t::Daemon& d, const std::string& watch_extra = "",
                       const std::string& extra = "") {
    return "chunk_seconds: 1\nwatches:\n  - {path: " + d.dir("inbox").string() +
           ", profile: by-folder, output: " + d.dir("outbox").string() + ", settle_seconds: 0.5" +
           watch_extra + "}\n" + extra + kProfiles;
}

std::filesystem::path clip(int seconds = 2) {
    const auto n = std::to_string(seconds);
    return t::fixture("operator_clip_" + n + "s.mp4",
                      "-f lavfi -i testsrc2=size=320x240:rate=25:duration=" + n +
                          " -f lavfi -i sine=duration=" + n +
                          " -c:v libx264 -preset veryfast -g 25 -c:a aac");
}

// Slower to process: jobs that stay on screen for a few progress events.
std::filesystem::path big_clip(int seconds) {
    const auto n = std::to_string(seconds);
    return t::fixture("operator_clip_640_" + n + "s.mp4",
                      "-f lavfi -i testsrc2=size=640x360:rate=25:duration=" + n +
                          " -c:v libx264 -preset veryfast -g 25");
}

void drop(const std::filesystem::path& from, const std::filesystem::path& to) {
    std::filesystem::create_directories(to.parent_path());
    const auto tmp = to.parent_path() / ("." + to.filename().string() + ".part");
    std::filesystem::copy_file(from, tmp, std::filesystem::copy_options::overwrite_existing);
    std::filesystem::rename(tmp, to);
}

std::filesystem::path socket_of(const t::Daemon& d) {
    return d.dir("run") / "control.sock";
}

std::optional<rr::store::JobRow> job_in(const t::Daemon& d, int64_t id) {
    for (auto& j : d.jobs())
        if (j.id == id) return j;
    return std::nullopt;
}

bool ended(const t::Daemon& d, size_t jobs) {
    auto all = d.jobs();
    if (all.size() != jobs) return false;
    for (const auto& j : all)
        if (!rr::store::is_final(j.state)) return false;
    return true;
}

bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

// What a terminal shows after `raw` was written to it: enough of VT100 for renderrushctl
// (cursor up, carriage return, newline, erase to end of line / of screen).
std::vector<std::string> screen(const std::string& raw) {
    std::vector<std::string> lines(1);
    size_t row = 0, col = 0;
    for (size_t i = 0; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '\x1b' && i + 1 < raw.size() && raw[i + 1] == '[') {
            size_t j = i + 2;
            int n = 0;
            bool digits = false;
            while (j < raw.size() && std::isdigit(static_cast<unsigned char>(raw[j]))) {
                n = n * 10 + (raw[j] - '0');
                digits = true;
                ++j;
            }
            if (j >= raw.size()) break;
            const char op = raw[j];
            if (op == 'A') {
                row -= std::min(row, static_cast<size_t>(digits ? n : 1));
            } else if (op == 'K') {
                if (lines[row].size() > col) lines[row].resize(col);
            } else if (op == 'J') {
                if (lines[row].size() > col) lines[row].resize(col);
                lines.resize(row + 1);
            }
            i = j;
        } else if (c == '\r') {
            col = 0;
        } else if (c == '\n') {
            ++row;
            col = 0;
            if (lines.size() <= row) lines.resize(row + 1);
        } else {
            if (lines[row].size() <= col) lines[row].resize(col + 1, ' ');
            lines[row][col++] = c;
        }
    }
    while (!lines.empty() && lines.back().find_first_not_of(' ') == std::string::npos)
        lines.pop_back();
    return lines;
}

// A process that exists and is not a zombie waiting for its reaper.
bool alive(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto close = line.rfind(')');
    return close != std::string::npos && close + 2 < line.size() && line[close + 2] != 'Z';
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_drop_at_the_top_of_a_by_folder_inbox_uses_the_default_profile) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    drop(clip(), d.dir("inbox") / "top.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 1); }, 60s), d.log());
    const auto job = d.jobs().front();
    BOOST_TEST(job.state == JobState::done);
    BOOST_TEST(job.profile == "default");
    BOOST_TEST(t::count_frames(d.dir("outbox") / "top.mp4") == 50);
    BOOST_TEST(std::filesystem::exists(d.dir("done") / "top.mp4"));
    BOOST_TEST(contains(d.log(), "using its default_profile default"), d.log());
    // The encoder search is logged per job only at debug; what the machine offers, once.
    BOOST_TEST(!contains(d.log(), "encoder: "), d.log());
    BOOST_TEST(contains(d.log(), "hardware: "), d.log());
}

BOOST_AUTO_TEST_CASE(a_source_that_cannot_be_moved_leaves_the_job_done_with_warnings) {
    t::Daemon d("");
    // done_dir is a file: moving the source there fails after the output was published.
    const auto blocker = d.dir("not-a-folder");
    std::ofstream(blocker) << "x";
    d.write_config(config_for(d, ", done_dir: " + blocker.string()));
    d.start();
    drop(clip(), d.dir("inbox") / "plain" / "a.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 1); }, 60s), d.log());
    const auto job = d.jobs().front();
    BOOST_TEST(job.state == JobState::done_with_warnings);
    BOOST_TEST(contains(job.error.value_or(""), "source disposition"), job.error.value_or(""));
    BOOST_TEST(t::count_frames(d.dir("outbox") / "plain" / "a.mp4") == 50);
    BOOST_TEST(std::filesystem::exists(d.dir("inbox") / "plain" / "a.mp4"));

    const auto shown = ctl(d, {"job", std::to_string(job.id)});
    BOOST_TEST(shown.exit_code == 0, shown.err);
    BOOST_TEST(contains(shown.out, "done_with_warnings"), shown.out);
    BOOST_TEST(contains(shown.out, "source disposition"), shown.out);
    // The event history: every state the job went through, and the source's trouble.
    BOOST_TEST(contains(shown.out, "EVENT"), shown.out);
    for (const char* st : {"probing", "running", "assembling"})
        BOOST_TEST(contains(shown.out, st), shown.out);
    const auto listed = ctl(d, {"jobs"});
    BOOST_TEST(contains(listed.out, "done_with_warnings"), listed.out);
    const auto st = ctl(d, {"status"});
    BOOST_TEST(contains(st.out, "done_with_warnings 1"), st.out);
}

BOOST_AUTO_TEST_CASE(renderrushctl_takes_global_options_anywhere_and_names_unknown_commands) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    BOOST_REQUIRE(t::wait_until([&] { return std::filesystem::exists(socket_of(d)); }, 20s));
    const auto after = ctl(d, {"status", "--json"});
    BOOST_REQUIRE_MESSAGE(after.exit_code == 0, after.err);
    const auto before = ctl(d, {"--json", "status"});
    BOOST_REQUIRE_MESSAGE(before.exit_code == 0, before.err);
    for (const auto* r : {&after, &before}) {
        const auto j = nlohmann::json::parse(r->out);
        BOOST_TEST(j.contains("workers"));
        BOOST_TEST(j["hardware"].contains("cores"));
        BOOST_TEST(!j["hardware"].contains("encoders"));  // the long lists only on request
        BOOST_TEST(r->out.size() < 4000u);
    }
    const auto verbose = ctl(d, {"status", "--verbose", "--json"});
    BOOST_TEST(nlohmann::json::parse(verbose.out)["hardware"]["encoders"].size() > 0u);
    const auto hw = ctl(d, {"hardware"});
    BOOST_TEST(contains(hw.out, "libx264"), hw.out);
    const auto human = ctl(d, {"status"});
    BOOST_TEST(!contains(human.out, "libx264"), human.out);

    const auto bogus = ctl(d, {"bogus"});
    BOOST_TEST(bogus.exit_code == 2);
    BOOST_TEST(contains(bogus.err, "unknown command 'bogus'"), bogus.err);
    BOOST_TEST(contains(bogus.err, "status"), bogus.err);
    BOOST_TEST(contains(bogus.err, "reprocess"), bogus.err);
    // The shipped bash completion and man page know every command renderrushctl has.
    const auto at = bogus.err.find("commands: ");
    BOOST_REQUIRE(at != std::string::npos);
    std::string known = bogus.err.substr(at + 10);
    known.erase(known.find_last_not_of(" \n") + 1);
    const std::string completion =
        t::read_file(t::source_dir() / "packaging/completion/renderrushctl");
    const auto listed = completion.substr(completion.find("local commands=\""));
    const std::string completed = " " + listed.substr(16, listed.find('"', 16) - 16) + " ";
    // The words of the man page's .B/.BI/.BR lines, where commands are named (a hyphen is
    // written \- there, fonts \fB, \fI, \fR).
    std::set<std::string> man_words;
    std::istringstream man(t::read_file(t::source_dir() / "packaging/man/renderrushctl.1"));
    for (std::string line; std::getline(man, line);) {
        if (line.rfind(".B", 0) != 0) continue;
        std::string plain;
        for (size_t i = line.find(' '); i != std::string::npos && i < line.size(); ++i) {
            if (line[i] == '\\' && i + 1 < line.size()) {
                if (line[i + 1] == '-') plain += '-';
                i += line[i + 1] == 'f' ? 2 : 1;
                continue;
            }
            plain +=
                std::isalnum(static_cast<unsigned char>(line[i])) || line[i] == '-' ? line[i] : ' ';
        }
        std::istringstream words(plain);
        for (std::string w; words >> w;) man_words.insert(w);
    }
    std::istringstream names(known);
    for (std::string name; std::getline(names, name, ',');) {
        name.erase(0, name.find_first_not_of(' '));
        BOOST_TEST(contains(completed, " " + name + " "), name << " is not in the completion");
        BOOST_TEST(man_words.count(name) == 1u, name << " is not in the man page");
    }
}

BOOST_AUTO_TEST_CASE(a_duplicate_can_be_reprocessed_and_a_deleted_output_is_made_again) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    drop(clip(), d.dir("inbox") / "plain" / "first.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 1); }, 60s), d.log());
    drop(clip(), d.dir("inbox") / "plain" / "second.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 2); }, 60s), d.log());
    auto dup = d.jobs();
    std::sort(dup.begin(), dup.end(), [](auto& a, auto& b) { return a.id < b.id; });
    BOOST_REQUIRE(dup[1].state == JobState::duplicate);
    BOOST_TEST(!std::filesystem::exists(d.dir("outbox") / "plain" / "second.mp4"));

    // reprocess: the duplicate's file is made after all, by a new job.
    const auto r = ctl(d, {"reprocess", std::to_string(dup[1].id)});
    BOOST_REQUIRE_MESSAGE(r.exit_code == 0, r.err);
    BOOST_TEST(contains(r.out, "again"), r.out);
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 3); }, 60s), d.log());
    auto third = job_in(d, dup[1].id + 1);
    BOOST_REQUIRE(third);
    BOOST_TEST(third->state == JobState::done);
    BOOST_TEST(third->reprocess_of.value_or(0) == dup[1].id);
    BOOST_TEST(t::count_frames(d.dir("outbox") / "plain" / "second.mp4") == 50);
    // retry refuses a done job unless forced.
    BOOST_TEST(ctl(d, {"retry", std::to_string(dup[0].id)}).exit_code == 1);
    const auto forced = ctl(d, {"retry", "--force", std::to_string(dup[0].id)});
    BOOST_TEST(forced.exit_code == 0, forced.err);
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 4); }, 60s), d.log());
    BOOST_TEST(job_in(d, third->id + 1)->state == JobState::done);

    // Outputs deleted: the same content dropped again is processed, not a duplicate.
    for (const auto& e : std::filesystem::directory_iterator(d.dir("outbox") / "plain"))
        std::filesystem::remove_all(e.path());  // the output, its sidecar and its .frames/
    drop(clip(), d.dir("inbox") / "plain" / "third.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 5); }, 60s), d.log());
    BOOST_TEST(job_in(d, third->id + 2)->state == JobState::done);
    BOOST_TEST(t::count_frames(d.dir("outbox") / "plain" / "third.mp4") == 50);
}

BOOST_AUTO_TEST_CASE(watch_leaves_no_stale_line_when_a_job_ends) {
    t::Daemon d("");
    d.write_config(config_for(d));
    d.start();
    BOOST_REQUIRE(t::wait_until([&] { return std::filesystem::exists(socket_of(d)); }, 20s));
    // A terminal: `script` gives renderrushctl a pty and copies what it draws to our stdout.
    // It is stopped (SIGTERM: a background job ignores ^C's SIGINT) once the test has seen both
    // jobs end.
    const auto stop = d.dir("stop-watching");
    const std::string cmd =
        t::renderrushctl().string() + " --socket " + socket_of(d).string() +
        " watch & p=$!; while [ ! -e " + stop.string() +
        " ]; do sleep 0.2; done; sleep 1.5; kill -TERM $p; { wait $p; } 2>/dev/null";
    t::CommandResult shown;
    std::thread watcher([&] {
        shown = t::run({"script", "-q", "-e", "-c", cmd, "/dev/null"}, 60s);
    });
    std::this_thread::sleep_for(2s);
    // Two jobs side by side; the short one ends first, then the long one. The short one lasts
    // long enough to be drawn even on a loaded machine (a 4 s clip once ended between two
    // screens of a watch that was still starting on CI).
    drop(big_clip(8), d.dir("inbox") / "blurred" / "short.mp4");
    drop(big_clip(16), d.dir("inbox") / "blurred" / "long.mp4");
    const bool both_ended = t::wait_until([&] { return ended(d, 2); }, 90s);
    std::ofstream(stop) << "";
    watcher.join();
    BOOST_REQUIRE_MESSAGE(both_ended, d.log());
    auto lines = screen(shown.out);
    // Some shells (dash, which `script` runs when SHELL is unset, as on CI) report the killed
    // job themselves; that line is the shell's, not renderrushctl's.
    while (!lines.empty() && (lines.back().empty() || lines.back().rfind("Terminated", 0) == 0))
        lines.pop_back();
    std::string all;
    for (const auto& l : lines) all += l + "\n";
    BOOST_TEST_MESSAGE("screen:\n" << all);
    BOOST_REQUIRE(!lines.empty());
    BOOST_TEST(lines.back().find("no jobs running") == 0u, all);
    for (const auto& l : lines) BOOST_TEST(l.rfind("job ", 0) != 0u, all);
    // Both jobs were on screen together at some point (else the test proves nothing).
    BOOST_TEST(contains(shown.out, "long.mp4"));
    BOOST_TEST(contains(shown.out, "short.mp4"));
}

BOOST_AUTO_TEST_CASE(hooks_run_around_jobs_without_a_shell_and_with_a_deadline) {
    t::Daemon d("");
    const auto args_file = d.dir("after-args.txt");
    const auto pid_file = d.dir("hook-child.pid");
    // argv lists, as an operator writes them; sh only where the test wants a script.
    const std::string hooks =
        "  scanned:\n"
        "    video: {codec: h264, preset: ultrafast, hwaccel: none}\n"
        "    hooks:\n"
        "      before: [sh, -c, 'echo \"$1: Eicar-Test-Signature FOUND\" >&2; "
        "exit 1', scan, '{input}']\n"
        "  notified:\n"
        "    video: {codec: h264, preset: ultrafast, hwaccel: none}\n"
        "    hooks:\n"
        "      after_success: [sh, -c, 'printf \"%s\\n\" \"$@\" > " +
        args_file.string() +
        "', notify, '{input}', '{output}', '{sidecar}', '{job_id}', "
        "'{state}', 'x {job_id} y']\n"
        "  hanging:\n"
        "    video: {codec: h264, preset: ultrafast, hwaccel: none}\n"
        "    hooks:\n"
        "      before: [sh, -c, 'sleep 30 & echo $! > " +
        pid_file.string() +
        "; wait']\n"
        "      timeout_seconds: 1\n";
    d.write_config(config_for(d) + hooks);
    d.start();
    const auto t0 = std::chrono::steady_clock::now();
    drop(clip(), d.dir("inbox") / "hanging" / "c.mp4");
    drop(clip(), d.dir("inbox") / "scanned" / "a.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 2); }, 60s), d.log());
    const auto seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    drop(clip(), d.dir("inbox") / "notified" / "b.mp4");
    BOOST_REQUIRE_MESSAGE(t::wait_until([&] { return ended(d, 3); }, 60s), d.log());
    for (const auto& j : d.jobs()) {
        const std::string name = std::filesystem::path(j.source_path).filename().string();
        if (name == "a.mp4") {
            BOOST_TEST(j.state == JobState::failed);
            BOOST_TEST(j.error.value_or("") ==
                           "before hook sh: " + j.source_path + ": Eicar-Test-Signature FOUND",
                       j.error.value_or(""));
            BOOST_TEST(!std::filesystem::exists(d.dir("outbox") / "scanned" / "a.mp4"));
            const auto shown = ctl(d, {"job", std::to_string(j.id)});
            BOOST_TEST(contains(shown.out, "hook"), shown.out);
            BOOST_TEST(contains(shown.out, "before sh: exit 1"), shown.out);
        } else if (name == "c.mp4") {
            BOOST_TEST(j.state == JobState::failed);
            BOOST_TEST(contains(j.error.value_or(""), "timed out"), j.error.value_or(""));
        } else {
            BOOST_TEST(j.state == JobState::done);
            const auto out = d.dir("outbox") / "notified" / "b.mp4";
            const std::string expected =
                (d.dir("done") / "notified" / "b.mp4").string() + "\n" + out.string() + "\n" +
                (d.dir("outbox") / "notified" / "b.renderrush.json").string() + "\n" +
                std::to_string(j.id) + "\ndone\nx " + std::to_string(j.id) + " y\n";
            BOOST_TEST(t::read_file(args_file) == expected);
        }
    }
    // The hung hook was stopped at its deadline, and what it started went with it.
    BOOST_TEST(seconds < 30);
    const auto pid = std::stoi(t::read_file(pid_file));
    BOOST_TEST(t::wait_until([&] { return !alive(pid); }, 5s));
}
