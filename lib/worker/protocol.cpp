#include "worker/protocol.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace rr::worker {
namespace {

std::array<char, 4> encode_length(uint32_t n) {
    return {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff),
            static_cast<char>((n >> 16) & 0xff), static_cast<char>((n >> 24) & 0xff)};
}

uint32_t decode_length(const char* p) {
    const auto* u = reinterpret_cast<const unsigned char*>(p);
    return uint32_t{u[0]} | (uint32_t{u[1]} << 8) | (uint32_t{u[2]} << 16) | (uint32_t{u[3]} << 24);
}

Status write_all(int fd, const char* data, size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, std::string("worker socket: ") + std::strerror(errno));
        }
        data += w;
        n -= static_cast<size_t>(w);
    }
    return {};
}

// 0 at end of stream before the first byte, otherwise n or an error.
Result<size_t> read_all(int fd, char* data, size_t n) {
    size_t got = 0;
    while (got < n) {
        const ssize_t r = ::read(fd, data + got, n - got);
        if (r < 0) {
            if (errno == EINTR) continue;
            return make_error(Errc::io, std::string("worker socket: ") + std::strerror(errno));
        }
        if (r == 0) {
            if (got == 0) return size_t{0};
            return make_error(Errc::io, "worker socket closed in the middle of a message");
        }
        got += static_cast<size_t>(r);
    }
    return got;
}

Result<nlohmann::json> parse(const std::string& text) {
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return make_error(Errc::internal, "worker sent a message that is not a JSON object");
    return j;
}

}  // namespace

Status send_message(int fd, const nlohmann::json& message) {
    const std::string text = message.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    if (text.size() > kMaxMessage) return make_error(Errc::internal, "worker message too large");
    const auto len = encode_length(static_cast<uint32_t>(text.size()));
    std::string frame(len.begin(), len.end());
    frame += text;
    return write_all(fd, frame.data(), frame.size());
}

Result<std::optional<nlohmann::json>> read_message(int fd) {
    std::array<char, 4> len{};
    RR_ASSIGN(size_t got, read_all(fd, len.data(), len.size()));
    if (got == 0) return std::optional<nlohmann::json>{};
    const uint32_t n = decode_length(len.data());
    if (n > kMaxMessage) return make_error(Errc::internal, "worker message too large");
    std::string text(n, '\0');
    RR_ASSIGN(got, read_all(fd, text.data(), n));
    if (got != n) return make_error(Errc::io, "worker socket closed in the middle of a message");
    RR_ASSIGN(auto j, parse(text));
    return std::optional<nlohmann::json>(std::move(j));
}

Result<bool> MessageReader::feed(int fd) {
    char chunk[65536];
    while (true) {
        const ssize_t r = ::read(fd, chunk, sizeof chunk);
        if (r > 0) {
            buffer_.append(chunk, static_cast<size_t>(r));
            if (buffer_.size() > kMaxMessage + 4)
                return make_error(Errc::internal, "worker message too large");
            continue;
        }
        if (r == 0) return false;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == ECONNRESET) return false;
        return make_error(Errc::io, std::string("worker socket: ") + std::strerror(errno));
    }
}

Result<std::optional<nlohmann::json>> MessageReader::next() {
    if (buffer_.size() < 4) return std::optional<nlohmann::json>{};
    const uint32_t n = decode_length(buffer_.data());
    if (n > kMaxMessage) return make_error(Errc::internal, "worker message too large");
    if (buffer_.size() < 4 + size_t{n}) return std::optional<nlohmann::json>{};
    RR_ASSIGN(auto j, parse(buffer_.substr(4, n)));
    buffer_.erase(0, 4 + size_t{n});
    return std::optional<nlohmann::json>(std::move(j));
}

nlohmann::json error_to_json(const Error& e) {
    return {{"code", to_string(e.code)}, {"message", e.message}};
}

Error error_from_json(const nlohmann::json& j) {
    static constexpr Errc kAll[] = {
        Errc::invalid_argument, Errc::config, Errc::io,        Errc::no_space,  Errc::media,
        Errc::unsupported,      Errc::limit,  Errc::cancelled, Errc::not_found, Errc::conflict,
        Errc::internal};
    const auto text = [&](const char* key) {
        return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                      : std::string();
    };
    Error e{Errc::internal, text("message").empty() ? "worker failed" : text("message")};
    const std::string code = text("code");
    for (Errc c : kAll)
        if (code == to_string(c)) e.code = c;
    return e;
}

}  // namespace rr::worker
