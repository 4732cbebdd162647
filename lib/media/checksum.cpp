#include "media/checksum.h"

#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <vector>

#include "core/errno_error.h"

namespace rr::media {
namespace {

struct StateDeleter {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
};
using StatePtr = std::unique_ptr<XXH3_state_t, StateDeleter>;

std::string to_hex(XXH128_hash_t hash) {
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, hash);
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out(32, '0');
    for (int i = 0; i < 16; ++i) {
        out[2 * i] = kDigits[canon.digest[i] >> 4];
        out[2 * i + 1] = kDigits[canon.digest[i] & 15];
    }
    return out;
}

StatePtr new_state() {
    StatePtr state(XXH3_createState());
    if (!state) throw std::bad_alloc();
    XXH3_128bits_reset(state.get());
    return state;
}

}  // namespace

std::string xxh3_128_hex(const MappedFile& file) {
    StatePtr state = new_state();
    ReleasingCursor cursor(file);
    constexpr size_t kStep = 4u << 20;
    for (size_t off = 0; off < file.size(); off += kStep) {
        size_t n = std::min(kStep, file.size() - off);
        XXH3_128bits_update(state.get(), file.data() + off, n);
        cursor.advanced_to(off + n);
    }
    return to_hex(XXH3_128bits_digest(state.get()));
}

std::string xxh3_128_hex(const void* data, size_t size) {
    return to_hex(XXH3_128bits(data, size));
}

Result<std::string> xxh3_128_file(const std::filesystem::path& path) {
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!f) return errno_error(errno, path.string());
    StatePtr state = new_state();
    std::vector<char> buf(1 << 20);
    size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) {
        XXH3_128bits_update(state.get(), buf.data(), n);
    }
    if (std::ferror(f.get())) return errno_error(EIO, path.string());
    return to_hex(XXH3_128bits_digest(state.get()));
}

}  // namespace rr::media
