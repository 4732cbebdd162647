#define BOOST_TEST_MODULE core_filesystem_kind
// A SQLite queue refuses a network file system: the kinds are told by statfs's f_type.
#include <boost/test/unit_test.hpp>

#include "core/filesystem_kind.h"
#include "support/sandbox.h"

namespace t = rr::test;

BOOST_AUTO_TEST_CASE(network_file_systems_are_named_and_local_ones_are_not) {
    BOOST_TEST(rr::network_filesystem_name(0x6969).value_or("") == "nfs");
    BOOST_TEST(rr::network_filesystem_name(static_cast<long>(0xff534d42UL)).value_or("") == "cifs");
    BOOST_TEST(rr::network_filesystem_name(static_cast<long>(0xfe534d42UL)).value_or("") == "smb2");
    BOOST_TEST(rr::network_filesystem_name(0x00c36400).value_or("") == "ceph");
    BOOST_TEST(rr::network_filesystem_name(0x01021997).value_or("") == "9p");
    // ext4, xfs, btrfs, tmpfs, overlayfs, and FUSE (which may be either).
    for (long local : {0xef53L, 0x58465342L, 0x9123683eL, 0x01021994L, 0x794c7630L, 0x65735546L})
        BOOST_TEST(!rr::network_filesystem_name(local).has_value(), std::hex << local);
}

BOOST_AUTO_TEST_CASE(a_path_not_made_yet_is_judged_by_its_nearest_folder) {
    t::Sandbox box;  // the test machine's own disk
    auto here = rr::network_filesystem_of(box / "not" / "yet" / "queue.db");
    BOOST_REQUIRE(here.ok());
    BOOST_TEST(!here->has_value());
}
