#pragma once
// Stages built from `--stages` text, the way the CLI builds them, for unit tests.

#include <filesystem>
#include <memory>
#include <string>

#include "core/result.h"
#include "stages/stage.h"

namespace rr::test {

// The first stage of `spec`; the spec itself must parse.
[[nodiscard]] Result<std::unique_ptr<stages::Stage>> try_stage(
    const std::string& spec, const std::filesystem::path& models = {});
// The same, failing the test (with the message) when the stage is refused.
[[nodiscard]] std::unique_ptr<stages::Stage> stage_from(const std::string& spec);
// The message a refused stage gives; fails the test when the stage is accepted or refused
// for anything but an invalid argument.
[[nodiscard]] std::string stage_error(const std::string& spec,
                                      const std::filesystem::path& models = {});

}  // namespace rr::test
