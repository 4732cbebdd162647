#pragma once
// A private temporary directory per test, removed afterwards.

#include <filesystem>
#include <string>
#include <vector>

namespace rr::test {

class Sandbox {
  public:
    Sandbox();
    ~Sandbox();
    Sandbox(const Sandbox&) = delete;
    Sandbox& operator=(const Sandbox&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }
    [[nodiscard]] std::filesystem::path operator/(const std::string& name) const {
        return path_ / name;
    }
    // Names in the directory (not recursive), sorted; hidden ones included.
    [[nodiscard]] std::vector<std::string> list() const;

  private:
    std::filesystem::path path_;
};

void write_file(const std::filesystem::path& path, const std::string& content);
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace rr::test
