#define BOOST_TEST_MODULE unit_service_hooks
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <fstream>
#include <thread>

#include "service/hooks.h"

using namespace rr::service;
using namespace std::chrono_literals;

namespace {
HookCommand hook(std::vector<std::string> argv, std::chrono::milliseconds timeout = 10s) {
    return {HookKind::before, std::move(argv), timeout};
}
}  // namespace

BOOST_AUTO_TEST_CASE(placeholders_fill_whole_and_partial_arguments_and_leave_other_braces) {
    const auto out = expand_hook({"{input}", "--id={job_id}", "{unknown}", "{", "{state}}"},
                                 {{"input", "/in/a b.mp4"}, {"job_id", "7"}, {"state", "done"}});
    BOOST_TEST(
        out == (std::vector<std::string>{"/in/a b.mp4", "--id=7", "{unknown}", "{", "done}"}),
        boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_hook_reports_its_exit_status_and_output_without_a_shell) {
    // No shell: the argument with a quote and a semicolon arrives as one word.
    auto r = run_hook(
        hook({"sh", "-c", "printf '%s' \"$1\"; echo bad >&2; exit 3", "sh", "it's; $(true)"}), {});
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->exit_code == 3);
    BOOST_TEST(r->out == "it's; $(true)");
    BOOST_TEST(r->first_line() == "bad");
    BOOST_TEST(!r->timed_out);
    BOOST_TEST(r->summary() == "before sh: exit 3: it's; $(true)\nbad");
}

BOOST_AUTO_TEST_CASE(a_hung_hook_and_its_children_are_killed_at_the_deadline) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = run_hook(hook({"sh", "-c", "sleep 30 & echo $!; wait"}, 300ms), {});
    const auto took = std::chrono::steady_clock::now() - t0;
    BOOST_REQUIRE(r.ok());
    BOOST_TEST(r->timed_out);
    BOOST_TEST(r->exit_code == -1);
    BOOST_TEST(took < 5s);
    // The background sleep was in the hook's process group: gone (or a zombie awaiting init).
    const auto child = std::stoi(r->out);
    bool alive = true;
    for (int i = 0; i < 50 && alive; ++i) {
        std::ifstream stat("/proc/" + std::to_string(child) + "/stat");
        std::string line;
        alive = std::getline(stat, line) && line.substr(line.rfind(')') + 2, 1) != "Z";
        if (alive) std::this_thread::sleep_for(100ms);
    }
    BOOST_TEST(!alive);
}

BOOST_AUTO_TEST_CASE(a_missing_program_is_an_error_and_stops_the_before_hooks) {
    auto r = run_hook(hook({"/nonexistent/scanner", "x"}), {});
    BOOST_TEST(!r.ok());
    const auto runs = run_hooks({hook({"/nonexistent/scanner"}), hook({"true"})}, {}, {}, true);
    BOOST_REQUIRE_EQUAL(runs.size(), 1u);
    BOOST_TEST(!runs[0].ok());
    BOOST_TEST(runs[0].first_line().find("cannot run /nonexistent/scanner") == 0u);
    BOOST_TEST(run_hooks({hook({"false"}), hook({"true"})}, {}, {}, false).size() == 2u);
}
