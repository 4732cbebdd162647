#include "pipeline/work_dir.h"

#include <stdlib.h>

#include <cstdlib>

#include "core/atomic_file.h"
#include "core/errno_error.h"

namespace rr::pipeline {

Result<WorkDir> WorkDir::create(const std::filesystem::path& parent, const std::string& name_hint) {
    std::string templ =
        (parent / ("." + name_hint + std::string(kTempMarker) + "work-XXXXXX")).string();
    if (!::mkdtemp(templ.data()))
        return errno_error(errno, "cannot create work directory in " + parent.string());
    return WorkDir(templ);
}

WorkDir::~WorkDir() {
    if (path_.empty()) return;
    if (std::getenv("RENDERRUSH_KEEP_WORK")) return;  // debugging aid, documented in OPERATIONS.md
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

}  // namespace rr::pipeline
