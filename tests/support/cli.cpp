#include "support/cli.h"

#include <algorithm>

#include "support/sandbox.h"

namespace rr::test {

std::filesystem::path ProcessRun::sidecar_path() const {
    auto p = output;
    p.replace_extension();
    return p.string() + ".renderrush.json";
}

nlohmann::json ProcessRun::sidecar() const {
    return nlohmann::json::parse(read_file(sidecar_path()));
}

ProcessRun process(const std::filesystem::path& input, const std::filesystem::path& output,
                   const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {renderrushd().string(), "process", input.string(), "-o",
                                     output.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    // Tests never pick up a developer's config by accident.
    if (std::find(extra.begin(), extra.end(), "--config") == extra.end()) {
        argv.push_back("--config");
        argv.push_back((source_dir() / "config/renderrush.yaml").string());
    }
    return ProcessRun{run(argv), output};
}

bool only_contains(const std::filesystem::path& dir, std::vector<std::string> names) {
    std::vector<std::string> found;
    for (const auto& e : std::filesystem::directory_iterator(dir))
        found.push_back(e.path().filename().string());
    std::sort(found.begin(), found.end());
    std::sort(names.begin(), names.end());
    return found == names;
}

}  // namespace rr::test
