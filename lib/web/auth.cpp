#include "web/auth.h"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace rr::web {
namespace {

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r'))
        s.remove_suffix(1);
    return std::string(s);
}

}  // namespace

Result<std::string> read_token(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) return make_error(Errc::not_found, "cannot read the web token " + file.string());
    std::stringstream buf;
    buf << in.rdbuf();
    std::string token = trim(buf.str());
    if (token.size() < 16)
        return make_error(Errc::config, file.string() +
                                            ": the web token is shorter than 16 "
                                            "characters; delete the file for a new one");
    return token;
}

Result<std::string> load_or_create_token(const std::filesystem::path& file) {
    std::error_code ec;
    if (std::filesystem::exists(file, ec)) return read_token(file);
    std::filesystem::create_directories(file.parent_path(), ec);
    unsigned char raw[32];
    if (getrandom(raw, sizeof raw, 0) != static_cast<ssize_t>(sizeof raw))
        return make_error(Errc::io, "getrandom failed for the web token");
    static constexpr char kHex[] = "0123456789abcdef";
    std::string token;
    for (unsigned char b : raw) {
        token += kHex[b >> 4];
        token += kHex[b & 15];
    }
    // O_EXCL: two daemons racing never overwrite each other's token.
    const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) return read_token(file);
        return make_error(
            Errc::io, "cannot create the web token " + file.string() + ": " + std::strerror(errno));
    }
    const std::string line = token + "\n";
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    ::close(fd);
    if (!ok) return make_error(Errc::io, "cannot write the web token " + file.string());
    return token;
}

bool token_matches(std::string_view given, std::string_view expected) {
    if (expected.empty()) return false;
    unsigned char diff = given.size() == expected.size() ? 0 : 1;
    for (size_t i = 0; i < expected.size(); ++i)
        diff |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
    return diff == 0;
}

std::optional<std::string> bearer_token(std::string_view authorization) {
    constexpr std::string_view kBearer = "Bearer ";
    if (authorization.size() <= kBearer.size() ||
        authorization.substr(0, kBearer.size()) != kBearer)
        return std::nullopt;
    return trim(authorization.substr(kBearer.size()));
}

std::optional<std::string> cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        const size_t semi = header.find(';');
        std::string pair = trim(header.substr(0, semi));
        const size_t eq = pair.find('=');
        if (eq != std::string::npos && pair.substr(0, eq) == name) return pair.substr(eq + 1);
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return std::nullopt;
}

bool same_origin(std::string_view origin, std::string_view host) {
    if (host.empty()) return false;
    for (std::string_view scheme : {"http://", "https://"}) {
        if (origin.size() == scheme.size() + host.size() &&
            origin.substr(0, scheme.size()) == scheme && origin.substr(scheme.size()) == host)
            return true;
    }
    return false;
}

std::string login_url(const std::string& listen, const std::string& token) {
    std::string host = listen, port;
    if (const size_t colon = listen.rfind(':'); colon != std::string::npos) {
        host = listen.substr(0, colon);
        port = listen.substr(colon + 1);
    }
    if (host.empty() || host == "0.0.0.0" || host == "*") host = "127.0.0.1";
    if (host == "::" || host == "[::]") host = "[::1]";
    return "http://" + host + (port.empty() ? "" : ":" + port) + "/?token=" + token;
}

}  // namespace rr::web
