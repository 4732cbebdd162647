#define BOOST_TEST_MODULE integration_package
#include <boost/test/unit_test.hpp>

#include "support/process.h"
#include "support/sandbox.h"

namespace t = rr::test;
using namespace std::chrono_literals;

// Builds the .deb with CPack, unpacks it into a scratch root and checks what a machine would get.
BOOST_AUTO_TEST_CASE(the_debian_package_has_the_documented_layout) {
    if (t::run({"sh", "-c", "command -v dpkg-deb && command -v dpkg-shlibdeps"}).exit_code != 0) {
        BOOST_TEST_MESSAGE("dpkg-dev is not installed; scripts/setup installs it");
        return;
    }
    t::Sandbox box;
    const auto build = t::bin_dir().parent_path();
    auto cpack = t::run({"cpack", "-G", "DEB", "--config", (build / "CPackConfig.cmake").string(),
                         "-B", (box / "out").string()},
                        300s);
    BOOST_REQUIRE_MESSAGE(cpack.exit_code == 0, cpack.out << cpack.err);
    std::filesystem::path deb;
    for (const auto& e : std::filesystem::directory_iterator(box / "out")) {
        if (e.path().extension() == ".deb") deb = e.path();
    }
    BOOST_REQUIRE(!deb.empty());
    BOOST_TEST(deb.filename().string() == "renderrush_0.1.0_amd64.deb");

    auto fields = [&](const std::string& f) {
        return t::run({"dpkg-deb", "-f", deb.string(), f}).out;
    };
    BOOST_TEST(fields("Package") == "renderrush\n");
    BOOST_TEST(fields("Architecture") == "amd64\n");
    const std::string depends = fields("Depends");
    for (const char* lib : {"libavformat59", "libavcodec59", "libuv1", "libsqlite3-0",
                            "libopencv-core406", "libsystemd0"}) {
        BOOST_TEST(depends.find(lib) != std::string::npos,
                   lib << " missing from Depends: " << depends);
    }

    auto unpack = t::run({"dpkg-deb", "-x", deb.string(), (box / "root").string()});
    BOOST_REQUIRE(unpack.exit_code == 0);
    const auto root = box / "root";
    for (const char* path :
         {"usr/bin/renderrushd", "usr/bin/renderrushctl",
          "usr/lib/systemd/system/renderrushd.service", "usr/lib/systemd/system/renderrushd.socket",
          "usr/lib/sysusers.d/renderrush.conf", "usr/lib/tmpfiles.d/renderrush.conf",
          "etc/renderrush/renderrush.yaml", "usr/share/man/man8/renderrushd.8.gz",
          "usr/share/man/man1/renderrushctl.1.gz",
          "usr/share/bash-completion/completions/renderrushctl",
          "usr/share/doc/renderrush/copyright", "usr/share/doc/renderrush/OPERATIONS.md",
          "usr/share/renderrush/grafana/renderrush-dashboard.json"}) {
        BOOST_TEST(std::filesystem::exists(root / path), path);
    }
    if (std::filesystem::exists(t::source_dir() / "models")) {
        BOOST_TEST(std::filesystem::exists(root / "usr/share/renderrush/models"));
    }
    // The packaged binary runs and validates the packaged configuration.
    auto version = t::run({(root / "usr/bin/renderrushd").string(), "--version"});
    BOOST_TEST(version.exit_code == 0);
    BOOST_TEST(version.out.find("0.1.0") != std::string::npos);
    // The installed config names the installed models; point it into the scratch root to check.
    std::string cfg = t::read_file(root / "etc/renderrush/renderrush.yaml");
    const std::string installed = "models_dir: /usr/share/renderrush/models";
    BOOST_REQUIRE(cfg.find(installed) != std::string::npos);
    cfg.replace(cfg.find(installed), installed.size(),
                "models_dir: " + (root / "usr/share/renderrush/models").string());
    t::write_file(box / "scratch.yaml", cfg);
    auto check = t::run({(root / "usr/bin/renderrushd").string(), "--check-config", "--config",
                         (box / "scratch.yaml").string()});
    BOOST_TEST(check.exit_code == 0, check.err);

    // The configuration is a conffile; the maintainer scripts are there and executable.
    auto control = t::run({"dpkg-deb", "-e", deb.string(), (box / "control").string()});
    BOOST_REQUIRE(control.exit_code == 0);
    BOOST_TEST(
        t::read_file(box / "control" / "conffiles").find("/etc/renderrush/renderrush.yaml") !=
        std::string::npos);
    for (const char* script : {"postinst", "prerm", "postrm"}) {
        const auto p = std::filesystem::status(box / "control" / script).permissions();
        BOOST_TEST(((p & std::filesystem::perms::owner_exec) != std::filesystem::perms::none),
                   script);
    }
    BOOST_TEST(t::read_file(box / "control" / "postinst").find("systemd-sysusers") !=
               std::string::npos);
}
