#pragma once
// Every event the daemon streams to `subscribe`rs, as types. The service builds these structs,
// the server serialises them, metrics and renderrushctl read them back; to_json/from_json
// below are the only place that knows the wire spelling (docs/PROTOCOL.md, "Events").

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>

#include "store/job_store.h"

namespace rr::control {

// What a finished job read and wrote (only on the `done` job event).
struct JobTotals {
    int64_t frames_in = 0, frames_out = 0, bytes_in = 0, bytes_out = 0;
    // Damage the output carries (see the sidecar's frames.*): concealed, lost, cut off.
    int64_t frames_damaged = 0, frames_lost = 0, frames_missing_at_end = 0;
};

// A job changed state.
struct JobEvent {
    int64_t id = 0;
    store::JobState state = store::JobState::queued;
    std::string input;
    std::optional<std::string> error{};   // failed, cancelled, duplicate, done_with_warnings: why
    std::optional<std::string> output{};  // done(_with_warnings): where the result went
    std::optional<JobTotals> totals{};    // done(_with_warnings)
};

// A chunk (or the audio task, index -1) finished.
struct ChunkEvent {
    int64_t id = 0;
    int chunk = 0;
    store::ChunkState state = store::ChunkState::done;
    double seconds = 0;
};

// A running job's live state: the progress event's body, and `status.running` / `job.live`.
struct JobProgress {
    int64_t id = 0;
    std::string input, profile;
    store::JobState state = store::JobState::running;
    std::string output;
    double progress = 0;  // 0..1
    int64_t frames_done = 0, frames_total = 0;
    int chunks_done = 0, chunks_total = 0;
    double fps = 0;
    double eta = -1;  // seconds; -1 while unknown
};

// Once a second per running job.
struct ProgressEvent {
    JobProgress job;
};

// The last line a subscriber gets before the daemon drops it.
struct ErrorEvent {
    std::string error;
};

using Event = std::variant<JobEvent, ChunkEvent, ProgressEvent, ErrorEvent>;

void to_json(nlohmann::json& j, const JobTotals& t);
void from_json(const nlohmann::json& j, JobTotals& t);
void to_json(nlohmann::json& j, const JobEvent& e);
void from_json(const nlohmann::json& j, JobEvent& e);
void to_json(nlohmann::json& j, const ChunkEvent& e);
void from_json(const nlohmann::json& j, ChunkEvent& e);
void to_json(nlohmann::json& j, const JobProgress& p);
void from_json(const nlohmann::json& j, JobProgress& p);
void to_json(nlohmann::json& j, const ProgressEvent& e);
void from_json(const nlohmann::json& j, ProgressEvent& e);
void to_json(nlohmann::json& j, const ErrorEvent& e);
void from_json(const nlohmann::json& j, ErrorEvent& e);
void to_json(nlohmann::json& j, const Event& e);
// Throws nlohmann::json::exception for an unknown `event` or a malformed body.
void from_json(const nlohmann::json& j, Event& e);

// One line, with the trailing newline (invalid UTF-8 in file names replaced, not thrown).
[[nodiscard]] std::string encode(const Event& e);
// An event read from the stream; nullopt for a line this build does not know (a newer daemon
// may send more), so clients skip it instead of failing.
[[nodiscard]] std::optional<Event> parse_event(const nlohmann::json& j);

}  // namespace rr::control
