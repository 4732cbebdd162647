#include "core/yaml_reader.h"

#include <charconv>
#include <cmath>
#include <map>

namespace rr {

SourceMark mark_of(const YAML::Node& node) {
    auto m = node.Mark();
    if (m.is_null()) return {};
    return SourceMark{m.line + 1, m.column + 1};
}

void ConfigIssues::add(const YAML::Node& at, const std::string& path, std::string message) {
    add(mark_of(at), path, std::move(message));
}

void ConfigIssues::add(SourceMark mark, const std::string& path, std::string message) {
    issues_.push_back(ConfigIssue{mark, path, std::move(message)});
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
    switch (node.Type()) {
        case YAML::NodeType::Map: {
            nlohmann::json obj = nlohmann::json::object();
            for (const auto& kv : node) obj[kv.first.as<std::string>()] = yaml_to_json(kv.second);
            return obj;
        }
        case YAML::NodeType::Sequence: {
            nlohmann::json arr = nlohmann::json::array();
            for (const auto& item : node) arr.push_back(yaml_to_json(item));
            return arr;
        }
        case YAML::NodeType::Scalar: {
            const std::string& s = node.Scalar();
            if (node.Tag() == "!") return s;  // explicitly quoted: keep it a string
            return parse_param_value(s);
        }
        default:
            return nullptr;
    }
}

void report_duplicate_keys(const YAML::Node& node, const std::string& path, ConfigIssues& issues) {
    std::map<std::string, SourceMark> first;
    for (const auto& kv : node) {
        if (!kv.first.IsScalar()) continue;  // a complex key is another issue's to report
        const auto key = kv.first.Scalar();
        const auto [it, fresh] = first.emplace(key, mark_of(kv.first));
        if (fresh) continue;
        issues.add(kv.first, path.empty() ? key : path + "." + key,
                   "given twice (first on line " + std::to_string(it->second.line) +
                       "; YAML would keep one and ignore the other)");
    }
}

MapReader::MapReader(const YAML::Node& node, std::string path, ConfigIssues& issues)
    : node_(node), path_(std::move(path)), issues_(issues) {
    if (!node_ || node_.IsNull()) {
        finished_ = true;  // absent section: defaults apply
        return;
    }
    if (!node_.IsMap()) {
        issues_.add(node_, path_, "expected a mapping");
        finished_ = true;
        return;
    }
    valid_ = true;
    report_duplicate_keys(node_, path_, issues_);
}

MapReader::~MapReader() {
    // finish() is normally explicit; this keeps a forgotten call from hiding unknown keys.
    if (!finished_) finish();
}

std::string MapReader::child_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
}

YAML::Node MapReader::child(const std::string& key) {
    known_.insert(key);
    if (!valid_) return YAML::Node(YAML::NodeType::Undefined);
    const YAML::Node& map = node_;  // const lookup: never inserts the key
    YAML::Node n = map[key];
    // `key:` with nothing after it means "use the default", like an absent key.
    if (!n.IsDefined() || n.IsNull()) return YAML::Node(YAML::NodeType::Undefined);
    return n;
}

void MapReader::get(const std::string& key, std::string& out) {
    auto n = child(key);
    if (!n) return;
    if (!n.IsScalar()) {
        issues_.add(n, child_path(key), "expected a string");
        return;
    }
    out = n.Scalar();
}

void MapReader::get(const std::string& key, bool& out) {
    auto n = child(key);
    if (!n) return;
    bool value = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
        issues_.add(n, child_path(key), "expected true or false");
        return;
    }
    out = value;
}

void MapReader::get(const std::string& key, int& out, int min, int max) {
    int64_t wide = out;
    get(key, wide, min, max);
    out = static_cast<int>(wide);
}

void MapReader::get(const std::string& key, int64_t& out, int64_t min, int64_t max) {
    auto n = child(key);
    if (!n) return;
    int64_t value = 0;
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
        issues_.add(n, child_path(key), "expected an integer, got '" + s + "'");
        return;
    }
    if (value < min || value > max) {
        issues_.add(n, child_path(key),
                    "value " + s + " out of range [" + std::to_string(min) + ", " +
                        std::to_string(max) + "]");
        return;
    }
    out = value;
}

void MapReader::get(const std::string& key, double& out, double min, double max) {
    auto n = child(key);
    if (!n) return;
    double value = 0;
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
        issues_.add(n, child_path(key), "expected a number, got '" + s + "'");
        return;
    }
    if (value < min || value > max) {
        issues_.add(n, child_path(key), "value " + s + " out of range");
        return;
    }
    out = value;
}

void MapReader::get_enum(const std::string& key, std::string& out,
                         std::initializer_list<const char*> allowed) {
    const std::vector<std::string_view> names(allowed.begin(), allowed.end());
    if (auto i = pick(key, names)) out = names[*i];
}

std::optional<size_t> MapReader::pick(const std::string& key,
                                      std::span<const std::string_view> names) {
    auto n = child(key);
    if (!n) return std::nullopt;
    const std::string s = n.IsScalar() ? n.Scalar() : std::string();
    std::string list;
    for (size_t i = 0; i < names.size(); ++i) {
        if (s == names[i]) return i;
        list += (list.empty() ? "" : "|") + std::string(names[i]);
    }
    issues_.add(n, child_path(key), "invalid value '" + s + "' (expected " + list + ")");
    return std::nullopt;
}

void MapReader::get_path(const std::string& key, std::filesystem::path& out) {
    std::string s = out.string();
    get(key, s);
    out = s;
}

void MapReader::finish() {
    finished_ = true;
    if (!valid_) return;
    for (const auto& kv : node_) {
        auto key = kv.first.as<std::string>();
        if (!known_.count(key)) issues_.add(kv.first, child_path(key), "unknown key");
    }
}

}  // namespace rr
