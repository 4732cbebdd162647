// The version key that makes a file one cluster job must be the same whether a node reads it
// from the file or from the size and mtime its job database recorded (the file may be gone).
#define BOOST_TEST_MODULE service_source_version
#include <fcntl.h>
#include <sys/stat.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "service/cluster_work.h"
#include "support/sandbox.h"

namespace t = rr::test;

BOOST_AUTO_TEST_CASE(the_key_from_a_file_equals_the_key_from_its_recorded_stat) {
    t::Sandbox box;
    const auto file = box / "clip.mp4";
    std::ofstream(file) << std::string(12345, 'x');
    // A time with nanoseconds, as filesystems record them.
    const timespec times[2] = {{1700000000, 123456789}, {1700000000, 987654321}};
    BOOST_REQUIRE(::utimensat(AT_FDCWD, file.c_str(), times, 0) == 0);
    struct stat st {};
    BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
    const int64_t ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    auto from_file = rr::service::source_version_key(file);
    BOOST_REQUIRE(from_file.ok());
    BOOST_TEST(*from_file == rr::service::source_version_key(12345, ns));
    // Another time is another version.
    BOOST_TEST(*from_file != rr::service::source_version_key(12345, ns + 1));
    BOOST_TEST(*from_file != rr::service::source_version_key(12346, ns));
}
