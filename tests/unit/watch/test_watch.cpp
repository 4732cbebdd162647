#define BOOST_TEST_MODULE watch
#include <fcntl.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <thread>

#include "core/config.h"
#include "support/sandbox.h"
#include "watch/disposition.h"
#include "watch/name_rules.h"
#include "watch/settler.h"

using namespace rr::watch;
namespace t = rr::test;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(partial_hidden_and_foreign_names_are_ignored) {
    const auto& ext = rr::default_extensions();
    BOOST_TEST(acceptable_name("/in/talk.mov", ext));
    BOOST_TEST(acceptable_name("/in/TALK.MP4", ext));
    for (const char* bad :
         {"/in/.talk.mov", "/in/talk.mov.part", "/in/talk.tmp", "/in/talk.mp4.crdownload",
          "/in/talk.mov~", "/in/notes.txt", "/in/noext", "/in/.talk.mp4.rr-tmp-abc"}) {
        BOOST_TEST(!acceptable_name(bad, ext), bad);
    }
}

BOOST_AUTO_TEST_CASE(symlinks_out_of_the_tree_are_not_followed) {
    t::Sandbox box;
    std::filesystem::create_directories(box / "root");
    t::write_file(box / "outside.mp4", "x");
    t::write_file(box / "root" / "inside.mp4", "x");
    std::filesystem::create_symlink(box / "outside.mp4", box / "root" / "escape.mp4");
    std::filesystem::create_symlink(box / "root" / "inside.mp4", box / "root" / "alias.mp4");
    BOOST_TEST(regular_file_inside(box / "root" / "inside.mp4", box / "root"));
    BOOST_TEST(regular_file_inside(box / "root" / "alias.mp4", box / "root"));
    BOOST_TEST(!regular_file_inside(box / "root" / "escape.mp4", box / "root"));
}

BOOST_AUTO_TEST_CASE(a_file_settles_only_when_it_stops_changing_and_nobody_writes) {
    t::Sandbox box;
    const auto f = box / "a.mp4";
    t::write_file(f, "one");
    Settler s;
    auto now = Settler::Clock::now();
    s.observe(f, 7, now);
    auto settle = [](size_t) { return 1.0; };
    BOOST_TEST(s.take_settled(now + 500ms, settle).empty());
    t::write_file(f, "one two");  // changed: the clock restarts
    BOOST_TEST(s.take_settled(now + 1200ms, settle).empty());
    auto later = s.take_settled(now + 2500ms, settle);
    BOOST_REQUIRE_EQUAL(later.size(), 1u);
    BOOST_TEST(later[0].size == 7);
    BOOST_TEST(later[0].tag == 7u);
    BOOST_TEST(s.pending() == 0u);

    // Open for writing: not taken however long it has been quiet.
    int fd = ::open(f.c_str(), O_WRONLY);
    BOOST_REQUIRE(fd >= 0);
    BOOST_TEST(Settler::open_for_writing(f));
    s.observe(f, 7, now);
    BOOST_TEST(s.take_settled(now + 10s, settle).empty());
    ::close(fd);
    BOOST_TEST(!Settler::open_for_writing(f));
    BOOST_TEST(s.take_settled(now + 11s, settle).size() == 1u);
}

BOOST_AUTO_TEST_CASE(moves_never_overwrite_and_work_across_filesystems) {
    t::Sandbox box;
    t::write_file(box / "a.mp4", "first");
    t::write_file(box / "b.mp4", "second");
    auto one = move_file(box / "a.mp4", box / "done" / "x" / "clip.mp4");
    BOOST_REQUIRE(one.ok());
    BOOST_TEST(*one == box / "done" / "x" / "clip.mp4");
    auto two = move_file(box / "b.mp4", box / "done" / "x" / "clip.mp4");
    BOOST_REQUIRE(two.ok());
    BOOST_TEST(*two == box / "done" / "x" / "clip-1.mp4");
    BOOST_TEST(t::read_file(*two) == "second");
    BOOST_TEST(!std::filesystem::exists(box / "b.mp4"));

    // /dev/shm is a separate tmpfs on Linux: the EXDEV path copies, syncs, renames, unlinks.
    if (std::filesystem::is_directory("/dev/shm")) {
        const auto shm = std::filesystem::path("/dev/shm") / box.path().filename();
        std::filesystem::create_directories(shm);
        t::write_file(shm / "c.mp4", std::string(300000, 'z'));
        auto three = move_file(shm / "c.mp4", box / "done" / "c.mp4");
        BOOST_REQUIRE_MESSAGE(three.ok(), (three.ok() ? "" : three.error().message));
        BOOST_TEST(t::read_file(*three).size() == 300000u);
        BOOST_TEST(!std::filesystem::exists(shm / "c.mp4"));
        std::filesystem::remove_all(shm);
    }
    BOOST_REQUIRE(write_error_file(*one, "bad input").ok());
    BOOST_TEST(t::read_file(one->string() + ".error.txt") == "bad input\n");
}
