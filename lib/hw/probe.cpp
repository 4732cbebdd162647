#include "hw/probe.h"

#include <dlfcn.h>
#include <sys/sysinfo.h>
#include <vpl/mfx.h>

#include <filesystem>
#include <memory>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
}

#include "pipeline/job_settings.h"

namespace rr::hw {
namespace {

struct LoaderDeleter {
    void operator()(mfxLoader l) const { MFXUnload(l); }
};
using LoaderPtr = std::unique_ptr<std::remove_pointer_t<mfxLoader>, LoaderDeleter>;

struct LibraryDeleter {
    void operator()(void* h) const { dlclose(h); }
};
using LibraryPtr = std::unique_ptr<void, LibraryDeleter>;

LibraryPtr load(const char* name) {
    return LibraryPtr(dlopen(name, RTLD_LAZY | RTLD_LOCAL));
}

int64_t ram_bytes() {
    struct sysinfo si {};
    if (sysinfo(&si) != 0) return 0;
    return static_cast<int64_t>(si.totalram) * si.mem_unit;
}

nlohmann::json codec_names(bool encoders) {
    nlohmann::json video = nlohmann::json::array(), audio = nlohmann::json::array();
    void* it = nullptr;
    while (const AVCodec* c = av_codec_iterate(&it)) {
        if (encoders ? !av_codec_is_encoder(c) : !av_codec_is_decoder(c)) continue;
        if (c->type == AVMEDIA_TYPE_VIDEO)
            video.push_back(c->name);
        else if (c->type == AVMEDIA_TYPE_AUDIO)
            audio.push_back(c->name);
    }
    return {{"video", video}, {"audio", audio}};
}

nlohmann::json input_formats() {
    nlohmann::json names = nlohmann::json::array();
    void* it = nullptr;
    while (const AVInputFormat* f = av_demuxer_iterate(&it)) names.push_back(f->name);
    return names;
}

}  // namespace

std::string tier_for(int cores, int64_t ram, bool gpu) {
    constexpr int64_t kGiB = int64_t{1} << 30;
    // Machines report a little less than their nominal RAM; allow 5% below each threshold.
    auto at_least = [&](int64_t gib) { return ram >= gib * kGiB * 95 / 100; };
    if (at_least(64) && cores >= 8 && gpu) return "ultra";
    if (at_least(32) && cores >= 4) return "high";
    if (at_least(16) && cores >= 2) return "medium";
    return "low";
}

nlohmann::json onevpl_implementations() {
    nlohmann::json list = nlohmann::json::array();
    LoaderPtr loader(MFXLoad());
    if (!loader) return list;
    for (mfxU32 i = 0;; ++i) {
        mfxHDL handle = nullptr;
        if (MFXEnumImplementations(loader.get(), i, MFX_IMPLCAPS_IMPLDESCSTRUCTURE, &handle) !=
            MFX_ERR_NONE)
            break;
        const auto* desc = static_cast<const mfxImplDescription*>(handle);
        list.push_back({{"name", std::string(desc->ImplName)},
                        {"type", desc->Impl == MFX_IMPL_TYPE_HARDWARE ? "hardware" : "software"},
                        {"api", std::to_string(desc->ApiVersion.Major) + "." +
                                    std::to_string(desc->ApiVersion.Minor)},
                        {"vendor_id", desc->VendorID}});
        MFXDispReleaseImplDescription(loader.get(), handle);
    }
    return list;
}

nlohmann::json vaapi_devices() {
    nlohmann::json list = nlohmann::json::array();
    std::error_code ec;
    for (auto it = std::filesystem::directory_iterator("/dev/dri", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (name.rfind("renderD", 0) == 0) list.push_back(it->path().string());
    }
    return list;
}

nlohmann::json nvidia() {
    nlohmann::json out = {{"cuda", false},
                          {"devices", 0},
                          {"nvdec", false},
                          {"nvenc", false},
                          {"ffmpeg_nvenc", avcodec_find_encoder_by_name("h264_nvenc") != nullptr}};
    if (auto cuda = load("libcuda.so.1")) {
        using Init = int (*)(unsigned);
        using Count = int (*)(int*);
        auto init = reinterpret_cast<Init>(dlsym(cuda.get(), "cuInit"));
        auto count = reinterpret_cast<Count>(dlsym(cuda.get(), "cuDeviceGetCount"));
        int n = 0;
        if (init && count && init(0) == 0 && count(&n) == 0) {
            out["cuda"] = n > 0;
            out["devices"] = n;
        } else {
            out["reason"] = "libcuda.so.1 loads but reports no usable device";
        }
    } else {
        out["reason"] = "no NVIDIA driver (libcuda.so.1 not found)";
    }
    out["nvdec"] = out["cuda"].get<bool>() && load("libnvcuvid.so.1") != nullptr;
    out["nvenc"] = out["cuda"].get<bool>() && load("libnvidia-encode.so.1") != nullptr;
    return out;
}

nlohmann::json probe() {
    const int cores = pipeline::available_cores();
    const int64_t ram = ram_bytes();
    nlohmann::json vpl = onevpl_implementations();
    nlohmann::json va = vaapi_devices();
    nlohmann::json nv = nvidia();
    bool vpl_hw = false;
    for (const auto& impl : vpl) vpl_hw = vpl_hw || impl["type"] == "hardware";
    const bool gpu = vpl_hw || !va.empty() || nv["cuda"].get<bool>();
    return {{"cores", cores},
            {"ram_bytes", ram},
            {"tier", tier_for(cores, ram, gpu)},
            {"gpu", gpu},
            {"onevpl", vpl},
            {"vaapi", va},
            {"nvidia", nv},
            {"decoders", codec_names(false)},
            {"encoders", codec_names(true)},
            {"input_formats", input_formats()}};
}

}  // namespace rr::hw
