#include "control/events.h"

namespace rr::control {
namespace {

using nlohmann::json;

template <class T>
void get_optional(const json& j, const char* key, std::optional<T>& out) {
    if (auto it = j.find(key); it != j.end() && !it->is_null())
        out = it->get<T>();
    else
        out.reset();
}

store::JobState job_state(const json& j) {
    const auto text = j.at("state").get<std::string>();
    auto st = store::parse_job_state(text);
    if (!st) throw json::other_error::create(501, "unknown job state \"" + text + "\"", &j);
    return *st;
}

store::ChunkState chunk_state(const json& j) {
    const auto text = j.at("state").get<std::string>();
    for (auto st : {store::ChunkState::pending, store::ChunkState::running, store::ChunkState::done,
                    store::ChunkState::failed}) {
        if (store::to_string(st) == text) return st;
    }
    throw json::other_error::create(501, "unknown chunk state \"" + text + "\"", &j);
}

}  // namespace

void to_json(json& j, const JobTotals& t) {
    j = {{"frames_in", t.frames_in},
         {"frames_out", t.frames_out},
         {"bytes_in", t.bytes_in},
         {"bytes_out", t.bytes_out},
         {"frames_damaged", t.frames_damaged},
         {"frames_lost", t.frames_lost},
         {"frames_missing_at_end", t.frames_missing_at_end}};
}

void from_json(const json& j, JobTotals& t) {
    t.frames_in = j.value("frames_in", int64_t{0});
    t.frames_out = j.value("frames_out", int64_t{0});
    t.bytes_in = j.value("bytes_in", int64_t{0});
    t.bytes_out = j.value("bytes_out", int64_t{0});
    t.frames_damaged = j.value("frames_damaged", int64_t{0});
    t.frames_lost = j.value("frames_lost", int64_t{0});
    t.frames_missing_at_end = j.value("frames_missing_at_end", int64_t{0});
}

// The totals sit beside the other fields, not in an object of their own (the wire is flat).
void to_json(json& j, const JobEvent& e) {
    j = {{"event", "job"}, {"id", e.id}, {"state", store::to_string(e.state)}, {"input", e.input}};
    if (e.error) j["error"] = *e.error;
    if (e.output) j["output"] = *e.output;
    if (e.totals) j.update(json(*e.totals));
}

void from_json(const json& j, JobEvent& e) {
    e.id = j.at("id").get<int64_t>();
    e.state = job_state(j);
    e.input = j.value("input", std::string());
    get_optional(j, "error", e.error);
    get_optional(j, "output", e.output);
    if (j.contains("frames_in"))
        e.totals = j.get<JobTotals>();
    else
        e.totals.reset();
}

void to_json(json& j, const ChunkEvent& e) {
    j = {{"event", "chunk"},
         {"id", e.id},
         {"chunk", e.chunk},
         {"state", store::to_string(e.state)},
         {"seconds", e.seconds}};
}

void from_json(const json& j, ChunkEvent& e) {
    e.id = j.at("id").get<int64_t>();
    e.chunk = j.at("chunk").get<int>();
    e.state = chunk_state(j);
    e.seconds = j.value("seconds", 0.0);
}

void to_json(json& j, const JobProgress& p) {
    j = {{"id", p.id},
         {"input", p.input},
         {"profile", p.profile},
         {"state", store::to_string(p.state)},
         {"output", p.output},
         {"progress", p.progress},
         {"frames_done", p.frames_done},
         {"frames_total", p.frames_total},
         {"chunks_done", p.chunks_done},
         {"chunks_total", p.chunks_total},
         {"fps", p.fps},
         {"eta", p.eta}};
}

void from_json(const json& j, JobProgress& p) {
    p.id = j.at("id").get<int64_t>();
    p.input = j.value("input", std::string());
    p.profile = j.value("profile", std::string());
    p.state = j.contains("state") ? job_state(j) : store::JobState::running;
    p.output = j.value("output", std::string());
    p.progress = j.value("progress", 0.0);
    p.frames_done = j.value("frames_done", int64_t{0});
    p.frames_total = j.value("frames_total", int64_t{0});
    p.chunks_done = j.value("chunks_done", 0);
    p.chunks_total = j.value("chunks_total", 0);
    p.fps = j.value("fps", 0.0);
    p.eta = j.value("eta", -1.0);
}

void to_json(json& j, const ProgressEvent& e) {
    j = e.job;
    j["event"] = "progress";
}

void from_json(const json& j, ProgressEvent& e) {
    e.job = j.get<JobProgress>();
}

void to_json(json& j, const ErrorEvent& e) {
    j = {{"event", "error"}, {"error", e.error}};
}

void from_json(const json& j, ErrorEvent& e) {
    e.error = j.value("error", std::string());
}

void to_json(json& j, const Event& e) {
    std::visit([&j](const auto& ev) { j = ev; }, e);
}

void from_json(const json& j, Event& e) {
    const auto kind = j.at("event").get<std::string>();
    if (kind == "job")
        e = j.get<JobEvent>();
    else if (kind == "chunk")
        e = j.get<ChunkEvent>();
    else if (kind == "progress")
        e = j.get<ProgressEvent>();
    else if (kind == "error")
        e = j.get<ErrorEvent>();
    else
        throw json::other_error::create(501, "unknown event \"" + kind + "\"", &j);
}

std::string encode(const Event& e) {
    return json(e).dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::optional<Event> parse_event(const json& j) {
    if (!j.is_object()) return std::nullopt;
    try {
        return j.get<Event>();
    } catch (const json::exception&) {
        return std::nullopt;
    }
}

}  // namespace rr::control
