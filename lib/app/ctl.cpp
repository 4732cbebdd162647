#include "app/ctl.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <thread>

#include "app/human.h"
#include "app/progress_bar.h"
#include "control/client.h"
#include "control/events.h"
#include "store/job_store.h"
#include "store/task_queue.h"

namespace rr::app {

std::vector<std::string> job_state_names() {
    std::vector<std::string> names;
    for (auto st : store::all_job_states()) names.emplace_back(store::to_string(st));
    return names;
}

namespace {

using control::Client;
using control::Code;

std::string s(const nlohmann::json& j, const char* key, const std::string& fallback = "-") {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    if (it->is_string()) return it->get<std::string>();
    return it->dump();
}

std::string percent(double f) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%.0f%%", f * 100);
    return buf;
}

pipeline::ProgressSnapshot snapshot_of(const control::JobProgress& job) {
    pipeline::ProgressSnapshot p;
    p.frames_done = job.frames_done;
    p.frames_total = job.frames_total;
    p.chunks_done = job.chunks_done;
    p.chunks_total = job.chunks_total;
    p.fps = job.fps;
    p.eta = job.eta;
    return p;
}

int unreachable(const Error& e) {
    std::fprintf(stderr, "renderrushctl: %s\n", e.message.c_str());
    return kCtlUnreachable;
}

void print_hardware_line(const nlohmann::json& hw) {
    std::string gpu = hw.value("gpu", false) ? "yes" : "none";
    std::printf(
        "hardware  tier %s · %s cores · %s RAM · GPU %s (oneVPL %zu, VAAPI %zu, NVIDIA %s)\n",
        s(hw, "tier").c_str(), s(hw, "cores").c_str(),
        human_size(hw.value("ram_bytes", int64_t{0})).c_str(), gpu.c_str(),
        hw.value("onevpl", nlohmann::json::array()).size(),
        hw.value("vaapi", nlohmann::json::array()).size(),
        hw.contains("nvidia") && hw["nvidia"].value("cuda", false) ? "yes" : "no");
}

// `status --verbose` and `hardware`: the long lists, one line each ("encoders video: ...").
void print_codec_lists(const nlohmann::json& hw) {
    auto names = [](const nlohmann::json& list) {
        std::string line;
        for (const auto& n : list)
            line += (line.empty() ? "" : " ") + (n.is_string() ? n.get<std::string>() : n.dump());
        return line.empty() ? std::string("-") : line;
    };
    for (const char* key : {"encoders", "decoders", "input_formats"}) {
        if (!hw.contains(key)) continue;
        const auto& v = hw[key];
        if (v.is_object()) {
            for (const auto& [kind, list] : v.items())
                std::printf("%s %s: %s\n", key, kind.c_str(), names(list).c_str());
        } else {
            std::printf("%s: %s\n", key, names(v).c_str());
        }
    }
}

void print_status(const nlohmann::json& d) {
    std::printf("renderrushd %s (pid %s), up %s\n", s(d, "version").c_str(), s(d, "pid").c_str(),
                human_duration(d.value("uptime", 0.0)).c_str());
    std::printf("workers   %d/%d busy   %s\n", d["workers"].value("busy", 0),
                d["workers"].value("total", 0), d.value("paused", false) ? "PAUSED" : "processing");
    std::string jobs;
    for (const std::string& st : job_state_names()) {
        const int64_t n = d["jobs"].value(st, int64_t{0});
        if (n) jobs += std::string(jobs.empty() ? "" : " · ") + st + " " + std::to_string(n);
    }
    std::printf("jobs      %s\n", jobs.empty() ? "none" : jobs.c_str());
    const auto& in = d["intake"];
    std::printf("intake    %s%s, %s files settling\n",
                in.value("paused", false) ? "paused" : "taking files",
                in.value("low_disk", false) ? " (PAUSED: low disk space)" : "",
                s(in, "settling_files", "0").c_str());
    if (d.contains("cluster")) {
        const auto& c = d["cluster"];
        std::printf(
            "cluster   node %s (%s) · %s nodes active, %s lost · queue %s chunks%s\n",
            s(c, "node_id").c_str(), s(c, "state").c_str(), s(c, "nodes_active").c_str(),
            s(c, "nodes_lost").c_str(), s(c, "queue_depth").c_str(),
            c.value("claiming", false) ? "" : (" · NOT CLAIMING: " + s(c, "not_claiming")).c_str());
    }
    // Profiles the daemon could not build here: their jobs fail until config or models change.
    const auto disabled = d.value("disabled_profiles", nlohmann::json::object());
    for (const auto& [name, why] : disabled.items()) {
        std::printf("disabled  profile %s: %s\n", name.c_str(),
                    why.is_string() ? why.get<std::string>().c_str() : why.dump().c_str());
    }
    print_hardware_line(d["hardware"]);
    if (d["hardware"].contains("encoders")) print_codec_lists(d["hardware"]);
    std::vector<std::vector<std::string>> rows;
    for (const auto& w : d["watches"]) {
        rows.push_back({s(w, "path"), s(w, "profile"), s(w, "output"),
                        w.value("paused", false) ? "paused" : "-"});
    }
    if (!rows.empty())
        std::printf("\n%s", table({"WATCH", "PROFILE", "OUTPUT", "PAUSED"}, rows).c_str());
    rows.clear();
    for (const auto& r : d["running"]) {
        rows.push_back({s(r, "id"), s(r, "state"), s(r, "profile"),
                        percent(r.value("progress", 0.0)),
                        s(r, "chunks_done") + "/" + s(r, "chunks_total"),
                        std::to_string(std::lround(r.value("fps", 0.0))),
                        human_duration(r.value("eta", -1.0)), ellipsize_left(s(r, "input"), 50)});
    }
    if (!rows.empty())
        std::printf("\n%s",
                    table({"ID", "STATE", "PROFILE", "DONE", "CHUNKS", "FPS", "ETA", "INPUT"}, rows)
                        .c_str());
}

void print_nodes(const nlohmann::json& d) {
    std::vector<std::vector<std::string>> rows;
    const std::string self = s(d, "self", "");
    for (const auto& n : d["nodes"]) {
        char age[32];
        std::snprintf(age, sizeof age, "%.1f s", n.value("heartbeat_age_s", 0.0));
        rows.push_back({s(n, "node_id") + (s(n, "node_id") == self ? " *" : ""), s(n, "state"),
                        s(n, "host"), s(n, "pid"), s(n, "version"), age,
                        s(n, "busy") + "/" + s(n, "workers"), s(n, "chunks_done"), s(n, "leases")});
    }
    std::printf("%s", table({"NODE", "STATE", "HOST", "PID", "VERSION", "HEARTBEAT", "BUSY",
                             "CHUNKS", "LEASES"},
                            rows)
                          .c_str());
    // An active node that claims nothing because of its storage must not pass for a working one.
    for (const auto& n : d["nodes"])
        if (n.contains("storage_problem") && n["storage_problem"].is_string())
            std::printf("%s is not claiming: %s\n", s(n, "node_id").c_str(),
                        n["storage_problem"].get<std::string>().c_str());
}

void print_cluster_jobs(const nlohmann::json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : d["jobs"]) {
        std::string running;
        const nlohmann::json leases = j.value("leases", nlohmann::json::object());
        for (const auto& [node, n] : leases.items())
            running += (running.empty() ? "" : ",") + node + ":" + n.dump();
        std::string state = s(j, "state");
        // Ended, its source not yet moved: the owner (or its adopter) still has to.
        if (store::queue_job_ended(state)) state += ", disposing";
        rows.push_back({s(j, "id"), state, s(j, "profile"),
                        s(j, "chunks_done") + "/" + s(j, "chunks_total"),
                        s(j, "owner") + (j.contains("owner_job") && !j["owner_job"].is_null()
                                             ? " (job " + s(j, "owner_job") + ")"
                                             : ""),
                        running.empty() ? "-" : running, s(j, "priority"),
                        ellipsize_left(s(j, "source"), 60)});
    }
    if (rows.empty()) {
        std::printf("the farm has no jobs in hand\n");
        return;
    }
    std::printf("%s", table({"ID", "STATE", "PROFILE", "CHUNKS", "OWNER", "RUNNING ON", "PRIORITY",
                             "SOURCE"},
                            rows)
                          .c_str());
}

void print_jobs(const nlohmann::json& d) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : d["jobs"]) {
        const double p =
            j.contains("live") ? j["live"].value("progress", 0.0) : j.value("progress", 0.0);
        std::string nodes;
        for (const auto& n : j.value("nodes", nlohmann::json::array()))
            nodes += (nodes.empty() ? "" : ",") + n.get<std::string>();
        rows.push_back({s(j, "id"), s(j, "state"), s(j, "profile"), percent(p),
                        human_size(j.value("size", int64_t{0})),
                        human_age(j.value("updated_at", 0.0)), nodes.empty() ? "-" : nodes,
                        ellipsize_left(s(j, "source"), 60)});
    }
    if (rows.empty()) {
        std::printf("no jobs\n");
        return;
    }
    std::printf("%s",
                table({"ID", "STATE", "PROFILE", "DONE", "SIZE", "UPDATED", "NODES", "INPUT"}, rows)
                    .c_str());
}

// Local wall-clock time of a Unix timestamp, to the second ("2026-12-03 14:05:09").
std::string clock_time(double unix_seconds) {
    const auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

void print_job(const nlohmann::json& j) {
    std::printf("job %s: %s\n", s(j, "id").c_str(), s(j, "state").c_str());
    for (const char* key :
         {"profile", "source", "input", "output", "checksum", "error", "duplicate_of"}) {
        if (j.contains(key)) std::printf("  %-10s %s\n", key, s(j, key).c_str());
    }
    std::printf("  %-10s %s\n", "size", human_size(j.value("size", int64_t{0})).c_str());
    if (j.contains("frames_total"))
        std::printf("  %-10s %s\n", "frames", s(j, "frames_total").c_str());
    const double progress =
        j.contains("live") ? j["live"].value("progress", 0.0) : j.value("progress", 0.0);
    std::printf("  %-10s %s (attempt %s)\n", "progress", percent(progress).c_str(),
                s(j, "attempts").c_str());
    if (j.contains("reprocess_of"))
        std::printf("  %-10s job %s\n", "reprocess", s(j, "reprocess_of").c_str());
    std::vector<std::vector<std::string>> rows;
    // A cluster job's chunks ran on nodes whose worker numbers this node does not know.
    bool by_node = false;
    for (const auto& c : j["chunks"]) by_node = by_node || c.contains("node");
    for (const auto& c : j["chunks"]) {
        char range[64];
        std::snprintf(range, sizeof range, "%.2f-%.2f s", c.value("start_time", 0.0),
                      c.value("end_time", 0.0));
        rows.push_back({c.value("index", 0) < 0 ? "audio" : s(c, "index"), s(c, "state"),
                        s(c, "frames"), range,
                        c.contains("bytes") ? human_size(c["bytes"].get<int64_t>()) : "-",
                        c.contains("seconds") ? human_duration(c["seconds"].get<double>()) : "-",
                        by_node ? s(c, "node") : s(c, "worker"), s(c, "attempts")});
    }
    if (!rows.empty())
        std::printf("\n%s", table({"CHUNK", "STATE", "FRAMES", "RANGE", "BYTES", "TIME",
                                   by_node ? "NODE" : "WORKER", "TRIES"},
                                  rows)
                                .c_str());
    rows.clear();
    for (const auto& e : j.value("events", nlohmann::json::array()))
        rows.push_back({clock_time(e.value("at", 0.0)), s(e, "kind"), s(e, "message")});
    if (!rows.empty()) std::printf("\n%s", table({"TIME", "EVENT", "MESSAGE"}, rows).c_str());
}

void print_human(const std::string& cmd, const nlohmann::json& d) {
    if (cmd == "status")
        print_status(d);
    else if (cmd == "jobs")
        print_jobs(d);
    else if (cmd == "nodes")
        print_nodes(d);
    else if (cmd == "cluster-jobs")
        print_cluster_jobs(d);
    else if (cmd == "drain" || cmd == "undrain")
        std::printf("node %s is %s\n", s(d, "node").c_str(), s(d, "state").c_str());
    else if (cmd == "job")
        print_job(d);
    else if (cmd == "metrics")
        std::fputs(s(d, "text", "").c_str(), stdout);
    else if (cmd == "health")
        std::printf("%s (up %s)\n", d.value("healthy", false) ? "healthy" : "unhealthy",
                    human_duration(d.value("uptime", 0.0)).c_str());
    else if (cmd == "cancel")
        std::printf("job %s cancelled\n", s(d, "id").c_str());
    else if (cmd == "hardware") {
        print_hardware_line(d);
        print_codec_lists(d);
    } else if ((cmd == "retry" || cmd == "reprocess") && d.contains("reprocess_of"))
        std::printf("job %s queued to make job %s again\n", s(d, "id").c_str(),
                    s(d, "reprocess_of").c_str());
    else if (cmd == "retry")
        std::printf("job %s queued again\n", s(d, "id").c_str());
    else if (cmd == "pause" || cmd == "resume") {
        std::printf("%s %s\n", d.contains("watch") ? s(d, "watch").c_str() : "renderrushd",
                    d.value("paused", false) ? "paused" : "resumed");
    } else if (cmd == "reload")
        std::printf("configuration reloaded (%s watches)\n", s(d, "watches").c_str());
    else if (cmd == "web-url")
        std::printf("%s\n", s(d, "url").c_str());
    else
        std::printf("%s\n", d.dump(2).c_str());
}

}  // namespace

std::filesystem::path resolve_socket(const std::string& flag) {
    if (!flag.empty()) return flag;
    if (const char* env = std::getenv("RENDERRUSH_SOCKET"); env && *env) return env;
    return "/run/renderrush/control.sock";
}

int ctl_request(const CtlOptions& opts, const std::string& cmd, const nlohmann::json& args) {
    auto client = Client::connect(opts.socket);
    if (!client) return unreachable(client.error());
    auto r = client->call(cmd, args);
    if (!r) return unreachable(r.error());
    if (r->code != Code::ok) {
        std::fprintf(stderr, "renderrushctl: %s: %s\n", cmd.c_str(), r->error.c_str());
        return kCtlFailed;
    }
    if (opts.json)
        std::cout << r->data.dump(2) << std::endl;
    else
        print_human(cmd, r->data);
    return kCtlOk;
}

int ctl_submit(const CtlOptions& opts, const std::string& file, const std::string& profile,
               bool wait) {
    std::error_code ec;
    const auto path = std::filesystem::absolute(file, ec);
    // Subscribe before submitting so no event of the new job can be missed.
    std::optional<Client> events;
    if (wait) {
        auto sub = Client::connect(opts.socket);
        if (!sub) return unreachable(sub.error());
        auto ok = sub->call("subscribe");
        if (!ok) return unreachable(ok.error());
        events = std::move(sub).value();
    }
    auto client = Client::connect(opts.socket);
    if (!client) return unreachable(client.error());
    nlohmann::json args = {{"path", path.string()}};
    if (!profile.empty()) args["profile"] = profile;
    auto r = client->call("submit", args);
    if (!r) return unreachable(r.error());
    if (r->code != Code::ok) {
        std::fprintf(stderr, "renderrushctl: submit: %s\n", r->error.c_str());
        return kCtlFailed;
    }
    const int64_t id = r->data.value("id", int64_t{0});
    if (opts.json && !wait)
        std::cout << r->data.dump(2) << std::endl;
    else if (!opts.json)
        std::printf("job %lld queued (profile %s)\n", static_cast<long long>(id),
                    s(r->data, "profile").c_str());
    if (!wait) return kCtlOk;
    const bool tty = isatty(STDOUT_FILENO) && !opts.json;
    while (true) {
        auto line = events->next(std::chrono::seconds(3600));
        if (!line) return unreachable(line.error());
        if (!*line) continue;
        const auto ev = control::parse_event(**line);
        if (!ev) continue;
        if (const auto* p = std::get_if<control::ProgressEvent>(&*ev)) {
            if (p->job.id == id && tty) {
                std::printf("\r%s\x1b[K", render_progress_line(snapshot_of(p->job), 30).c_str());
                std::fflush(stdout);
            }
        } else if (const auto* e = std::get_if<control::JobEvent>(&*ev); e && e->id == id) {
            const std::string state(store::to_string(e->state));
            if (store::is_final(e->state)) {
                if (tty) std::printf("\r\x1b[K");
                if (opts.json) {
                    auto job = client->call("job", {{"id", id}});
                    if (job && job->code == Code::ok) std::cout << job->data.dump(2) << std::endl;
                } else {
                    std::printf("job %lld %s%s%s\n", static_cast<long long>(id), state.c_str(),
                                e->error ? ": " : "", e->error.value_or("").c_str());
                }
                // done_with_warnings: the output is there; the warning was printed above.
                return store::published(e->state) || e->state == store::JobState::duplicate
                           ? kCtlOk
                           : kCtlFailed;
            }
            if (!tty && !opts.json)
                std::printf("job %lld %s\n", static_cast<long long>(id), state.c_str());
        }
    }
}

int ctl_watch(const CtlOptions& opts) {
    auto client = Client::connect(opts.socket);
    if (!client) return unreachable(client.error());
    auto st = client->call("status");
    if (!st) return unreachable(st.error());
    auto ok = client->call("subscribe");
    if (!ok) return unreachable(ok.error());
    const bool tty = isatty(STDOUT_FILENO) && !opts.json;
    std::map<int64_t, control::JobProgress> running;
    for (const auto& r : st->data["running"]) {
        try {
            auto job = r.get<control::JobProgress>();
            running[job.id] = std::move(job);
        } catch (const nlohmann::json::exception&) {
            // An entry this build cannot read is left off the display, not fatal.
        }
    }
    int drawn = 0;
    auto redraw = [&] {
        // Back to the first line drawn last time and clear everything below it: fewer jobs
        // than before must not leave the old lines on screen.
        if (drawn) std::printf("\x1b[%dA\r", drawn);
        std::printf("\x1b[J");
        drawn = 0;
        for (const auto& [id, r] : running) {
            std::printf("\x1b[Kjob %-5lld %s %s\n", static_cast<long long>(id),
                        render_progress_line(snapshot_of(r), 24).c_str(),
                        ellipsize_left(r.input, 40).c_str());
            ++drawn;
        }
        if (running.empty()) {
            std::printf("\x1b[Kno jobs running\n");
            ++drawn;
        }
        std::fflush(stdout);
    };
    if (tty) redraw();
    while (true) {
        auto line = client->next(std::chrono::seconds(3600));
        if (!line) return unreachable(line.error());
        if (!*line) continue;
        if (opts.json) {
            std::cout << (**line).dump() << std::endl;
            continue;
        }
        const auto ev = control::parse_event(**line);
        if (!ev) continue;
        if (const auto* e = std::get_if<control::ErrorEvent>(&*ev)) {
            std::fprintf(stderr, "renderrushctl: %s\n", e->error.c_str());
            return kCtlFailed;
        }
        if (const auto* p = std::get_if<control::ProgressEvent>(&*ev)) {
            running[p->job.id] = p->job;
            if (!tty) {
                std::printf("job %lld %s %s fps, ETA %s\n", static_cast<long long>(p->job.id),
                            percent(p->job.progress).c_str(),
                            std::to_string(std::lround(p->job.fps)).c_str(),
                            human_duration(p->job.eta).c_str());
            }
        } else if (const auto* e = std::get_if<control::JobEvent>(&*ev)) {
            using store::JobState;
            if (e->state != JobState::running && e->state != JobState::probing &&
                e->state != JobState::assembling)
                running.erase(e->id);
            if (!tty) {
                std::printf("job %lld %s %s\n", static_cast<long long>(e->id),
                            std::string(store::to_string(e->state)).c_str(), e->input.c_str());
            }
        }
        if (tty) redraw();
        std::fflush(stdout);
    }
}

}  // namespace rr::app
