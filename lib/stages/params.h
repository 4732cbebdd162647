#pragma once
// Validates a stage's parameters against what the stage accepts: every key must be known,
// every value of the right type and in range. Errors name the stage and the key.

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/stage_spec.h"

namespace rr::stages {

class Params {
  public:
    explicit Params(const StageSpec& spec);

    double number(const std::string& key, double fallback, double min, double max);
    int integer(const std::string& key, int fallback, int min, int max);
    bool boolean(const std::string& key, bool fallback);
    std::string choice(const std::string& key, const std::string& fallback,
                       std::initializer_list<const char*> allowed);
    std::string text(const std::string& key, const std::string& fallback);
    std::vector<std::string> choices(const std::string& key,
                                     const std::vector<std::string>& fallback,
                                     std::initializer_list<const char*> allowed);

    // The first problem found (unknown key, bad type, out of range), or success.
    [[nodiscard]] Status finish() const;
    // Effective parameters with defaults, for the sidecar.
    [[nodiscard]] const nlohmann::json& effective() const { return effective_; }

  private:
    void fail(const std::string& key, const std::string& why);
    const nlohmann::json* get(const std::string& key);

    std::string stage_;
    nlohmann::json given_;
    nlohmann::json effective_ = nlohmann::json::object();
    std::set<std::string> known_;
    std::string where_;
    std::string first_error_;
    std::shared_ptr<nlohmann::json> describe_;  // see StageSpec::describe
    void describe(nlohmann::json record);
};

}  // namespace rr::stages
