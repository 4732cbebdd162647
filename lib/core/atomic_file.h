#pragma once
// Every file that leaves the daemon is written under a temporary name in its target
// directory, fsynced, then renamed over the final name, and the directory is fsynced.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace rr {

// Marker in temporary names so start-up can find and remove orphans.
inline constexpr std::string_view kTempMarker = ".rr-tmp-";

// A temporary sibling of `final_path`, removed on destruction unless committed. It may also
// hold a folder (staged whole, published by commit() as publish_dir_atomic does).
class TempFile {
  public:
    explicit TempFile(std::filesystem::path final_path);
    // Takes charge of `temp`, a temp_sibling of `final_path` written by someone else (a
    // worker): removed on destruction unless committed.
    [[nodiscard]] static TempFile adopt(std::filesystem::path final_path,
                                        std::filesystem::path temp);
    ~TempFile();
    TempFile(TempFile&& other) noexcept;
    TempFile& operator=(TempFile&&) = delete;
    TempFile(const TempFile&) = delete;

    [[nodiscard]] const std::filesystem::path& path() const { return temp_; }
    [[nodiscard]] const std::filesystem::path& final_path() const { return final_; }
    // fsync the file, rename it into place, fsync the directory (a folder: publish_dir_atomic).
    [[nodiscard]] Status commit();
    // As commit(), but with link() then unlink(): an existing final file is kept and the call
    // fails with Errc::conflict (the first publisher wins, also on NFS). Files only.
    [[nodiscard]] Status commit_exclusive();
    // Leaves the file where it is for someone else to commit (see adopt()); returns its path.
    std::filesystem::path release();

  private:
    std::filesystem::path final_;
    std::filesystem::path temp_;
    bool done_ = false;
};

// A file or folder under a temp_sibling() of its final name, not yet in place, named between
// processes (a worker stages, the daemon commits: TempFile::adopt).
struct StagedPath {
    std::filesystem::path final_path, temp;
};

[[nodiscard]] Status fsync_path(const std::filesystem::path& path);
[[nodiscard]] Status fsync_dir(const std::filesystem::path& dir);
// A staged folder's files, then the folder itself.
[[nodiscard]] Status fsync_folder(const std::filesystem::path& dir);
[[nodiscard]] Status write_file_atomic(const std::filesystem::path& path, std::string_view content);
// As write_file_atomic, but stops before the rename: the content is durable under the
// temporary name, which commit() (or release() and a later adopt()) publishes.
[[nodiscard]] Result<TempFile> write_temp_file(const std::filesystem::path& path,
                                               std::string_view content);

// A hidden temporary sibling name for `final_path` (same directory, marked as temporary).
[[nodiscard]] std::filesystem::path temp_sibling(const std::filesystem::path& final_path);
// Publishes the directory `staged` (a temp_sibling of `final_dir`) as `final_dir`: its files
// and itself are fsynced, then it is renamed into place. An existing `final_dir` is swapped
// out in the same step (readers see the old set or the new one, never a mix) and removed.
[[nodiscard]] Status publish_dir_atomic(const std::filesystem::path& staged,
                                        const std::filesystem::path& final_dir);
[[nodiscard]] bool is_temp_name(const std::filesystem::path& path);
// Whether `temp` has exactly the form temp_sibling(final_path) gives (same folder, marked name,
// random suffix): a name nobody but this code makes.
[[nodiscard]] bool is_temp_sibling_of(const std::filesystem::path& temp,
                                      const std::filesystem::path& final_path);

}  // namespace rr
