#pragma once
// The dashboard's secret over TCP: one random token in a 0600 file, handed to people as a login
// link (the way Jupyter does) and kept by the browser in an HttpOnly, SameSite=Strict cookie.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace rr::web {

inline constexpr std::string_view kCookieName = "renderrush_token";

// The token in `file`; a missing file is created (mode 0600, 32 random bytes as hex) first.
[[nodiscard]] Result<std::string> load_or_create_token(const std::filesystem::path& file);
// The token in `file`, never creating one.
[[nodiscard]] Result<std::string> read_token(const std::filesystem::path& file);

// Compares in time independent of where the strings differ: the token is the only secret.
[[nodiscard]] bool token_matches(std::string_view given, std::string_view expected);

// "Bearer T" -> T.
[[nodiscard]] std::optional<std::string> bearer_token(std::string_view authorization);
// The value of cookie `name` in a Cookie header ("a=1; b=2").
[[nodiscard]] std::optional<std::string> cookie_value(std::string_view header,
                                                      std::string_view name);
// True when a browser's Origin names the host it sent the request to.
[[nodiscard]] bool same_origin(std::string_view origin, std::string_view host);

// http://HOST:PORT/?token=T for `listen` ("host:port"); a wildcard host becomes 127.0.0.1.
[[nodiscard]] std::string login_url(const std::string& listen, const std::string& token);

}  // namespace rr::web
