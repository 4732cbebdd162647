#define BOOST_TEST_MODULE integration_package
#include <boost/test/unit_test.hpp>
#include <set>
#include <sstream>

#include "core/config.h"
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
        // Exactly the files lib/vision loads (plus licences and stamps): no JS/TS, source
        // maps, Unity scripts or sample pictures from the npm tarballs.
        auto listed = t::run({(t::source_dir() / "scripts/fetch-models").string(), "--list"});
        BOOST_REQUIRE(listed.exit_code == 0);
        std::set<std::string> expected, shipped;
        std::istringstream lines(listed.out);
        for (std::string line; std::getline(lines, line);) expected.insert(line);
        const auto models = root / "usr/share/renderrush/models";
        for (const auto& e : std::filesystem::recursive_directory_iterator(models)) {
            if (e.is_regular_file()) shipped.insert(e.path().lexically_relative(models).string());
        }
        BOOST_TEST(shipped == expected, "shipped models differ from scripts/fetch-models --list");
        BOOST_TEST(expected.count("esrgan-slim/models/x2/model.json") == 1u);
        BOOST_TEST(expected.count("blazeface/ONNX/face_detection_front_128x128_barracuda.onnx") ==
                   1u);
    }
    // The packaged binary runs and validates the packaged configuration.
    auto version = t::run({(root / "usr/bin/renderrushd").string(), "--version"});
    BOOST_TEST(version.exit_code == 0);
    BOOST_TEST(version.out.find("0.1.0") != std::string::npos);
    // The installed config names the installed models; point it into the scratch root to check.
    std::string cfg = t::read_file(root / "etc/renderrush/renderrush.yaml");
    BOOST_TEST(cfg.find("admin_group: renderrush-admin") != std::string::npos);
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

namespace {

// Runs packaging/debian/postinst with every command it may call replaced by a stub that logs
// its arguments; `was_enabled` is deb-systemd-helper's answer. Returns the log.
std::string run_postinst(const std::vector<std::string>& args, bool was_enabled) {
    t::Sandbox box;
    const auto stubs = box / "stubs";
    std::filesystem::create_directories(stubs);
    const std::string stub =
        "#!/bin/sh\necho \"${0##*/} $*\" >> \"$STUB_LOG\"\n"
        "if [ \"$1\" = --quiet ] && [ \"$2\" = was-enabled ]; then exit $WAS_ENABLED; fi\n"
        "exit 0\n";
    for (const char* cmd : {"systemd-sysusers", "systemd-tmpfiles", "chgrp", "deb-systemd-helper",
                            "deb-systemd-invoke", "systemctl", "getent", "groupadd", "useradd",
                            "mkdir", "chown", "chmod", "grep"}) {
        t::write_file(stubs / cmd, stub);
        std::filesystem::permissions(stubs / cmd, std::filesystem::perms::owner_all);
    }
    std::vector<std::string> argv = {"/bin/sh",
                                     (t::source_dir() / "packaging/debian/postinst").string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = t::run(argv, std::chrono::seconds(30),
                    {{"PATH", stubs.string()},
                     {"STUB_LOG", (box / "log").string()},
                     {"WAS_ENABLED", was_enabled ? "0" : "1"}});
    BOOST_TEST(r.exit_code == 0, r.err);
    return std::filesystem::exists(box / "log") ? t::read_file(box / "log") : "";
}

}  // namespace

// Debian practice (dh_installsystemd): enable on the first installation; on an upgrade an
// admin's `systemctl disable` is respected.
BOOST_AUTO_TEST_CASE(postinst_enables_the_service_on_first_install_only) {
    const std::string first = run_postinst({"configure", ""}, true);
    BOOST_TEST(first.find("deb-systemd-helper enable renderrushd.service") != std::string::npos,
               first);
    BOOST_TEST(first.find("systemd-tmpfiles --create") != std::string::npos, first);

    const std::string kept = run_postinst({"configure", "0.1.0"}, true);
    BOOST_TEST(kept.find("deb-systemd-helper enable renderrushd.service") != std::string::npos,
               kept);

    const std::string disabled = run_postinst({"configure", "0.1.0"}, false);
    BOOST_TEST(disabled.find("enable renderrushd.service") == std::string::npos, disabled);
    BOOST_TEST(
        disabled.find("deb-systemd-helper update-state renderrushd.service") != std::string::npos,
        disabled);
}

// The drop folders the package creates are the shipped by-folder profiles, each group-owned by
// renderrush with setgid and group write.
BOOST_AUTO_TEST_CASE(tmpfiles_creates_a_shared_drop_folder_per_shipped_profile) {
    auto cfg = rr::load_config_file(t::source_dir() / "config/renderrush.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    std::filesystem::path inbox;
    for (const auto& w : cfg->watches) {
        if (w.profile == "by-folder") inbox = w.path;
    }
    BOOST_REQUIRE(!inbox.empty());
    const std::string tmpfiles = t::read_file(t::source_dir() / "systemd/renderrush.tmpfiles.conf");
    std::set<std::string> folders;
    std::istringstream lines(tmpfiles);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream f(line);
        std::string type, path, mode, user, group;
        f >> type >> path >> mode >> user >> group;
        if (type != "d" || std::filesystem::path(path).parent_path() != inbox) continue;
        folders.insert(std::filesystem::path(path).filename().string());
        BOOST_TEST(mode == "2775", path);
        BOOST_TEST(group == "renderrush", path);
    }
    std::set<std::string> profiles;
    for (const auto& [name, profile] : cfg->profiles) profiles.insert(name);
    BOOST_TEST(folders == profiles, "tmpfiles.d drop folders differ from the shipped profiles");
}
