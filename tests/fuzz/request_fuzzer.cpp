// libFuzzer target for the control protocol's request parser: any bytes a client can send
// must give a request or an error reply, never a crash, and every reply must encode to one
// line of valid JSON.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "control/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    auto parsed = rr::control::parse_request(line);
    rr::control::Reply reply;
    if (auto* r = std::get_if<rr::control::Reply>(&parsed)) {
        reply = *r;
    } else {
        const auto& req = std::get<rr::control::Request>(parsed);
        if (!req.args.is_object()) std::abort();
        // Exercise the typed argument readers as the handlers do.
        (void)rr::control::int_arg(req.args, "id", 0);
        (void)rr::control::string_arg(req.args, "path", std::string());
        reply = rr::control::Reply::success({{"cmd", req.cmd}, {"args", req.args}});
        reply.id = req.id;
    }
    const std::string out = reply.encode();
    if (out.empty() || out.back() != '\n' || out.find('\n') != out.size() - 1) std::abort();
    if (nlohmann::json::parse(out, nullptr, false).is_discarded()) std::abort();
    return 0;
}
