#pragma once
// Errors are values inside lib/: every fallible function returns Result<T>.
// The three edges (control reply, job row, process exit code) translate them.

#include <ostream>
#include <string>
#include <utility>
#include <variant>

namespace rr {

enum class Errc {
    invalid_argument,  // a caller or user passed something unusable (exit 2 at the CLI edge)
    config,            // configuration is invalid (exit 2)
    io,                // filesystem or socket failure
    no_space,          // ENOSPC: reported distinctly so jobs can say why
    media,             // the media could not be read/decoded/encoded
    unsupported,       // valid request, but this build/machine cannot do it
    limit,             // a configured limit was exceeded
    cancelled,         // stop requested
    not_found,
    conflict,
    internal,
};

[[nodiscard]] constexpr const char* to_string(Errc e) {
    switch (e) {
        case Errc::invalid_argument:
            return "invalid_argument";
        case Errc::config:
            return "config";
        case Errc::io:
            return "io";
        case Errc::no_space:
            return "no_space";
        case Errc::media:
            return "media";
        case Errc::unsupported:
            return "unsupported";
        case Errc::limit:
            return "limit";
        case Errc::cancelled:
            return "cancelled";
        case Errc::not_found:
            return "not_found";
        case Errc::conflict:
            return "conflict";
        case Errc::internal:
            return "internal";
    }
    return "unknown";
}

inline std::ostream& operator<<(std::ostream& os, Errc e) {
    return os << to_string(e);
}

struct Error {
    Errc code = Errc::internal;
    std::string message;

    // Prefixes context so the edge can print one line that names the file and the reason.
    [[nodiscard]] Error context(const std::string& what) const& {
        return {code, what + ": " + message};
    }
};

inline Error make_error(Errc code, std::string message) {
    return Error{code, std::move(message)};
}

template <class T>
class [[nodiscard]] Result {
  public:
    Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

    [[nodiscard]] bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

  private:
    std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
  public:
    Result() = default;
    Result(Error error) : error_(std::move(error)), ok_(false) {}

    [[nodiscard]] bool ok() const noexcept { return ok_; }
    explicit operator bool() const noexcept { return ok_; }
    const Error& error() const& { return error_; }
    Error&& error() && { return std::move(error_); }

  private:
    Error error_;
    bool ok_ = true;
};

using Status = Result<void>;

}  // namespace rr

// Propagates an error from an expression yielding a Result; keeps call sites flat.
#define RR_TRY(expr)                                            \
    do {                                                        \
        if (auto rr_try_result_ = (expr); !rr_try_result_.ok()) \
            return std::move(rr_try_result_).error();           \
    } while (0)

#define RR_CONCAT_INNER(a, b) a##b
#define RR_CONCAT(a, b) RR_CONCAT_INNER(a, b)
#define RR_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr)  \
    auto tmp = (expr);                            \
    if (!tmp.ok()) return std::move(tmp).error(); \
    lhs = std::move(tmp).value()
// `RR_ASSIGN(auto x, f());` declares x from the value or returns the error.
#define RR_ASSIGN(lhs, expr) RR_ASSIGN_OR_RETURN_IMPL(RR_CONCAT(rr_assign_, __LINE__), lhs, expr)
