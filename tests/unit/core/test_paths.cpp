#define BOOST_TEST_MODULE core_paths
#include <boost/test/unit_test.hpp>

#include "core/paths.h"

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
