#include "core/stage_spec.h"

#include <charconv>

namespace rr {
namespace {

std::vector<std::string_view> split(std::string_view text, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    while (true) {
        size_t pos = text.find(sep, start);
        parts.push_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
        if (pos == std::string_view::npos) break;
        start = pos + 1;
    }
    return parts;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

nlohmann::json parse_scalar(std::string_view text) {
    if (text == "true" || text == "on" || text == "yes") return true;
    if (text == "false" || text == "off" || text == "no") {
        // "off" is also a legal enum value for several stages; they accept both forms.
        return false;
    }
    long long i = 0;
    auto [iend, iec] = std::from_chars(text.data(), text.data() + text.size(), i);
    if (iec == std::errc() && iend == text.data() + text.size()) return i;
    double d = 0;
    auto [dend, dec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (dec == std::errc() && dend == text.data() + text.size()) return d;
    return std::string(text);
}

}  // namespace

nlohmann::json parse_param_value(std::string_view text) {
    text = trim(text);
    if (text.find('+') != std::string_view::npos && !text.empty() && text.front() != '+') {
        // A `+` inside a non-numeric value means a list; "1e+5" stays a number.
        nlohmann::json as_number = parse_scalar(text);
        if (as_number.is_number()) return as_number;
        nlohmann::json list = nlohmann::json::array();
        for (auto part : split(text, '+')) list.push_back(parse_scalar(trim(part)));
        return list;
    }
    return parse_scalar(text);
}

Result<std::vector<StageSpec>> parse_stage_list(std::string_view text) {
    std::vector<StageSpec> specs;
    if (trim(text).empty()) return specs;
    for (auto item : split(text, ',')) {
        item = trim(item);
        if (item.empty()) {
            return make_error(Errc::invalid_argument, "--stages: empty stage name in list");
        }
        auto fields = split(item, ':');
        StageSpec spec;
        spec.name = std::string(trim(fields[0]));
        if (spec.name.empty()) {
            return make_error(Errc::invalid_argument,
                              "--stages: missing stage name in '" + std::string(item) + "'");
        }
        for (size_t i = 1; i < fields.size(); ++i) {
            auto kv = trim(fields[i]);
            auto eq = kv.find('=');
            if (eq == std::string_view::npos || eq == 0) {
                return make_error(Errc::invalid_argument, "--stages: stage '" + spec.name +
                                                              "': expected key=value, got '" +
                                                              std::string(kv) + "'");
            }
            std::string key(trim(kv.substr(0, eq)));
            if (spec.params.contains(key)) {
                return make_error(Errc::invalid_argument, "--stages: stage '" + spec.name +
                                                              "': key '" + key + "' given twice");
            }
            spec.params[key] = parse_param_value(kv.substr(eq + 1));
        }
        specs.push_back(std::move(spec));
    }
    return specs;
}

}  // namespace rr
