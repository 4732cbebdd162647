// renderrushctl: the control client for a running renderrushd.

#include <CLI/CLI.hpp>

#include "core/version.h"

int main(int argc, char** argv) {
    CLI::App app{"Control a running renderrushd over its Unix socket", "renderrushctl"};
    app.set_version_flag("--version", rr::kVersion);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : 2;
    }
    std::fputs(app.help().c_str(), stderr);
    return 2;
}
