#pragma once
// Strict, position-aware reading of YAML maps: every problem is collected with its line and
// column, and keys nobody asked for are reported as unknown when the reader finishes.

#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/config.h"

namespace rr {

class ConfigIssues {
  public:
    void add(const YAML::Node& at, const std::string& path, std::string message);
    void add(SourceMark mark, const std::string& path, std::string message);
    [[nodiscard]] bool empty() const { return issues_.empty(); }
    [[nodiscard]] const std::vector<ConfigIssue>& all() const { return issues_; }

  private:
    std::vector<ConfigIssue> issues_;
};

[[nodiscard]] SourceMark mark_of(const YAML::Node& node);

// Converts a YAML subtree into JSON (scalars typed as int, real, bool or string).
[[nodiscard]] nlohmann::json yaml_to_json(const YAML::Node& node);

// Reports every key of the map `node` (at `path`) given again after its first time. YAML
// parsers keep one of the two silently, so a setting written twice was half ignored.
void report_duplicate_keys(const YAML::Node& node, const std::string& path, ConfigIssues& issues);

class MapReader {
  public:
    // Reports an issue if `node` is present but not a map; then every getter is a no-op.
    MapReader(const YAML::Node& node, std::string path, ConfigIssues& issues);
    ~MapReader();
    MapReader(const MapReader&) = delete;
    MapReader& operator=(const MapReader&) = delete;

    [[nodiscard]] bool valid() const { return valid_; }
    [[nodiscard]] YAML::Node child(const std::string& key);  // marks the key as known
    [[nodiscard]] std::string child_path(const std::string& key) const;

    void get(const std::string& key, std::string& out);
    void get(const std::string& key, bool& out);
    void get(const std::string& key, int& out, int min, int max);
    void get(const std::string& key, int64_t& out, int64_t min, int64_t max);
    void get(const std::string& key, double& out, double min, double max);
    void get_enum(const std::string& key, std::string& out,
                  std::initializer_list<const char*> allowed);
    // An enum option; `allowed` narrows it to some of its values (all when empty).
    template <Choice E>
    void get_choice(const std::string& key, E& out, std::initializer_list<E> allowed = {}) {
        std::vector<E> values(allowed);
        if (values.empty())
            for (size_t i = 0; i < ChoiceNames<E>::names.size(); ++i)
                values.push_back(static_cast<E>(i));
        std::vector<std::string_view> names;
        for (E v : values) names.push_back(to_string(v));
        if (auto i = pick(key, names)) out = values[*i];
    }
    void get_path(const std::string& key, std::filesystem::path& out);

    // Reports keys present in the map that no getter or child() asked for.
    void finish();

  private:
    // The index of the key's value among `names`; an issue listing them when it is none.
    std::optional<size_t> pick(const std::string& key, std::span<const std::string_view> names);

    YAML::Node node_;
    std::string path_;
    ConfigIssues& issues_;
    std::set<std::string> known_;
    bool valid_ = false;
    bool finished_ = false;
};

}  // namespace rr
