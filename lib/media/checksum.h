#pragma once
#include <string>

#include "media/mapped_file.h"

namespace rr::media {

// xxh3-128 of the whole mapping as 32 lowercase hex digits (canonical byte order),
// released behind the hash so hashing a huge file leaves RSS flat.
[[nodiscard]] std::string xxh3_128_hex(const MappedFile& file);

// The same for an in-memory buffer or a file read with plain I/O (chunk files, small outputs).
[[nodiscard]] std::string xxh3_128_hex(const void* data, size_t size);
[[nodiscard]] Result<std::string> xxh3_128_file(const std::filesystem::path& path);

}  // namespace rr::media
