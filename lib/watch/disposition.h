#pragma once
// Moving sources out of the way once their job has ended, without ever losing one.

#include <filesystem>
#include <string>

#include "core/choices.h"
#include "core/result.h"

namespace rr::watch {

// `path`, or `name-1.ext`, `name-2.ext`, ... whichever does not exist yet.
[[nodiscard]] std::filesystem::path unused_path(const std::filesystem::path& path);

// Moves `from` to `to` (parents created; an existing `to` is not overwritten: a free name
// next to it is used). Across filesystems it copies to a temporary name, fsyncs, renames,
// and only then unlinks the source. Returns where the file ended up.
[[nodiscard]] Result<std::filesystem::path> move_file(const std::filesystem::path& from,
                                                      const std::filesystem::path& to);

// Does what a watch's on_success/on_failure asks with a source whose job ended: moves it to
// `destination` (as move_file), deletes it, or keeps it. Returns where it is now.
[[nodiscard]] Result<std::filesystem::path> dispose_source(
    const std::filesystem::path& source, Disposition what,
    const std::filesystem::path& destination);

// Writes `<file>.error.txt` atomically.
[[nodiscard]] Status write_error_file(const std::filesystem::path& file, const std::string& text);

}  // namespace rr::watch
