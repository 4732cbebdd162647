#pragma once
#include <filesystem>

#include "core/result.h"

namespace rr::pipeline {

// A private scratch directory for a job's intermediates, removed with everything in it.
class WorkDir {
  public:
    [[nodiscard]] static Result<WorkDir> create(const std::filesystem::path& parent,
                                                const std::string& name_hint);
    ~WorkDir();
    WorkDir(WorkDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
    WorkDir& operator=(WorkDir&&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

  private:
    explicit WorkDir(std::filesystem::path p) : path_(std::move(p)) {}
    std::filesystem::path path_;
};

}  // namespace rr::pipeline
