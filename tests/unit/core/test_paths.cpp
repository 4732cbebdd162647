#define BOOST_TEST_MODULE core_paths
#include <boost/test/unit_test.hpp>

#include "core/paths.h"
#include "support/sandbox.h"

using rr::path_within;

BOOST_AUTO_TEST_CASE(a_folder_holds_itself_and_what_lies_below_it) {
    BOOST_TEST(path_within("/in", "/in"));
    BOOST_TEST(path_within("/in/a/b.mp4", "/in"));
    BOOST_TEST(path_within("/in/a.mp4", "/in/"));
    BOOST_TEST(path_within("/in/", "/in/."));
    BOOST_TEST(path_within("/in/x/../a.mp4", "/in"));
}

BOOST_AUTO_TEST_CASE(prefixes_and_escapes_are_not_inside) {
    BOOST_TEST(!path_within("/inbox/a.mp4", "/in"));
    BOOST_TEST(!path_within("/in/../etc/passwd", "/in"));
    BOOST_TEST(!path_within("/", "/in"));
    BOOST_TEST(!path_within("/in", "/in/a"));
}

BOOST_AUTO_TEST_CASE(folder_keys_ignore_trailing_separators) {
    BOOST_TEST(rr::folder_key("/in/") == rr::folder_key("/in"));
    BOOST_TEST(rr::folder_key("/in/./") == std::filesystem::path("/in"));
    BOOST_TEST(rr::folder_key("/") == std::filesystem::path("/"));
}

// What a cluster node stores for a file on the shared storage: its path under storage.root,
// whichever way the node spells it, and nothing for a file elsewhere.
BOOST_AUTO_TEST_CASE(a_path_under_a_root_is_relative_to_it_through_symlinks_and_dots) {
    rr::test::Sandbox box;
    const auto root = box / "storage";
    std::filesystem::create_directories(root / "inbox");
    std::filesystem::create_directories(box / "elsewhere");
    std::filesystem::create_directory_symlink(root, box / "mount");
    using rr::relative_under;
    BOOST_TEST(relative_under(root, root / "inbox" / "a.mp4").value() == "inbox/a.mp4");
    // Not there yet (an output): the part that exists is resolved, the rest taken as written.
    BOOST_TEST(relative_under(root, root / "outbox" / "new" / "b.mp4").value() ==
               "outbox/new/b.mp4");
    BOOST_TEST(relative_under(root, box / "mount" / "inbox" / "a.mp4").value() == "inbox/a.mp4");
    BOOST_TEST(relative_under(box / "mount", root / "inbox").value() == "inbox");
    BOOST_TEST(relative_under(root, root / "inbox" / ".." / "x.mp4").value() == "x.mp4");
    BOOST_TEST(relative_under(root, root).value() == ".");
    BOOST_TEST(!relative_under(root, box / "elsewhere" / "a.mp4"));
    BOOST_TEST(!relative_under(root, root / ".." / "elsewhere"));
    BOOST_TEST(!relative_under(root, box / "storage-2" / "a.mp4"));
    // A symlink inside the root that leads out of it is outside.
    std::filesystem::create_directory_symlink(box / "elsewhere", root / "escape");
    BOOST_TEST(!relative_under(root, root / "escape" / "a.mp4"));
}
