#pragma once
// What this machine offers for video work, for `status.hardware` and the metrics. Everything
// is detected at run time: missing hardware is an answer (empty lists, false), never an error.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace rr::hw {

// ultra: >= 64 GiB RAM, >= 8 cores and a GPU; high: >= 32 GiB and >= 4 cores;
// medium: >= 16 GiB and >= 2 cores; otherwise low.
[[nodiscard]] std::string tier_for(int cores, int64_t ram_bytes, bool gpu);

// Implementations the oneVPL dispatcher can load (Intel GPUs, or a software runtime).
[[nodiscard]] nlohmann::json onevpl_implementations();
// DRM render nodes a VAAPI driver could use.
[[nodiscard]] nlohmann::json vaapi_devices();
// Whether the NVIDIA driver's CUDA, NVDEC and NVENC libraries load, and how many devices.
[[nodiscard]] nlohmann::json nvidia();

// The whole picture: cores, RAM, tier, oneVPL, VAAPI, NVIDIA, codecs, input formats.
[[nodiscard]] nlohmann::json probe();

}  // namespace rr::hw
