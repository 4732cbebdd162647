#include "stages/params.h"

#include <cmath>
#include <sstream>

namespace rr::stages {
namespace {

std::string fmt_number(double v) {
    std::ostringstream s;
    s << v;
    return s.str();
}

// YAML and the CLI both read "off"/"on" as booleans; enum parameters take them back as words.
std::string as_word(const nlohmann::json& v) {
    if (v.is_boolean()) return v.get<bool>() ? "on" : "off";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number()) return v.dump();
    return {};
}

}  // namespace

Params::Params(const StageSpec& spec)
    : stage_(spec.name), given_(spec.params), describe_(spec.describe) {
    if (spec.mark) {
        where_ = " (line " + std::to_string(spec.mark->line) + ", column " +
                 std::to_string(spec.mark->column) + ")";
    }
    if (!given_.is_object()) given_ = nlohmann::json::object();
}

void Params::describe(nlohmann::json record) {
    if (describe_) describe_->push_back(std::move(record));
}

void Params::fail(const std::string& key, const std::string& why) {
    if (!first_error_.empty()) return;
    first_error_ = "stage '" + stage_ + "'" + where_ + ": " +
                   (key.empty() ? "" : "parameter '" + key + "' ") + why;
}

const nlohmann::json* Params::get(const std::string& key) {
    known_.insert(key);
    auto it = given_.find(key);
    return it == given_.end() ? nullptr : &*it;
}

double Params::number(const std::string& key, double fallback, double min, double max) {
    describe(
        {{"name", key}, {"type", "number"}, {"default", fallback}, {"min", min}, {"max", max}});
    double v = fallback;
    if (const auto* j = get(key)) {
        if (!j->is_number()) {
            fail(key, "must be a number, got " + j->dump());
        } else {
            v = j->get<double>();
            if (!std::isfinite(v) || v < min || v > max) {
                fail(key, "value " + fmt_number(v) + " is out of range [" + fmt_number(min) + ", " +
                              fmt_number(max) + "]");
                v = fallback;
            }
        }
    }
    effective_[key] = v;
    return v;
}

int Params::integer(const std::string& key, int fallback, int min, int max) {
    describe(
        {{"name", key}, {"type", "integer"}, {"default", fallback}, {"min", min}, {"max", max}});
    int v = fallback;
    if (const auto* j = get(key)) {
        if (!j->is_number_integer()) {
            fail(key, "must be an integer, got " + j->dump());
        } else {
            auto wide = j->get<long long>();
            if (wide < min || wide > max) {
                fail(key, "value " + std::to_string(wide) + " is out of range [" +
                              std::to_string(min) + ", " + std::to_string(max) + "]");
            } else {
                v = static_cast<int>(wide);
            }
        }
    }
    effective_[key] = v;
    return v;
}

bool Params::boolean(const std::string& key, bool fallback) {
    describe({{"name", key}, {"type", "boolean"}, {"default", fallback}});
    bool v = fallback;
    if (const auto* j = get(key)) {
        if (j->is_boolean())
            v = j->get<bool>();
        else
            fail(key, "must be on/off (true/false), got " + j->dump());
    }
    effective_[key] = v;
    return v;
}

std::string Params::choice(const std::string& key, const std::string& fallback,
                           std::initializer_list<const char*> allowed) {
    describe({{"name", key},
              {"type", "choice"},
              {"default", fallback},
              {"values", std::vector<std::string>(allowed.begin(), allowed.end())}});
    std::string v = fallback;
    if (const auto* j = get(key)) {
        std::string word = as_word(*j);
        std::string list;
        bool ok = false;
        for (const char* a : allowed) {
            list += (list.empty() ? "" : "|") + std::string(a);
            if (word == a) ok = true;
        }
        if (ok)
            v = word;
        else
            fail(key, "value " + j->dump() + " is not one of " + list);
    }
    effective_[key] = v;
    return v;
}

std::string Params::text(const std::string& key, const std::string& fallback) {
    describe({{"name", key}, {"type", "text"}, {"default", fallback}});
    std::string v = fallback;
    if (const auto* j = get(key)) {
        if (j->is_string())
            v = j->get<std::string>();
        else
            fail(key, "must be text, got " + j->dump());
    }
    effective_[key] = v;
    return v;
}

std::vector<std::string> Params::choices(const std::string& key,
                                         const std::vector<std::string>& fallback,
                                         std::initializer_list<const char*> allowed) {
    describe({{"name", key},
              {"type", "list"},
              {"default", fallback},
              {"values", std::vector<std::string>(allowed.begin(), allowed.end())}});
    std::vector<std::string> v = fallback;
    if (const auto* j = get(key)) {
        nlohmann::json items = j->is_array() ? *j : nlohmann::json::array({*j});
        v.clear();
        for (const auto& item : items) {
            std::string word = as_word(item);
            bool ok = false;
            for (const char* a : allowed) ok = ok || word == a;
            if (!ok) {
                std::string list;
                for (const char* a : allowed) list += (list.empty() ? "" : "|") + std::string(a);
                fail(key, "value " + item.dump() + " is not one of " + list);
            } else {
                v.push_back(word);
            }
        }
    }
    effective_[key] = v;
    return v;
}

Status Params::finish() const {
    if (!first_error_.empty()) return make_error(Errc::invalid_argument, first_error_);
    for (const auto& [key, value] : given_.items()) {
        if (!known_.count(key)) {
            std::string list;
            for (const auto& k : known_) list += (list.empty() ? "" : ", ") + k;
            return make_error(Errc::invalid_argument,
                              "stage '" + stage_ + "'" + where_ + ": unknown parameter '" + key +
                                  "' (known: " + (list.empty() ? "none" : list) + ")");
        }
    }
    return {};
}

}  // namespace rr::stages
