#include "verdict.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "event_log.h"

namespace rr::farm {
namespace {

using nlohmann::json;

double ms(double us) {
    return std::round(us / 10.0) / 100.0;  // two decimals
}

json latency(const std::vector<int64_t>& us) {
    return {{"count", us.size()},
            {"p50_ms", ms(percentile(us, 50))},
            {"p99_ms", ms(percentile(us, 99))},
            {"max_ms", ms(percentile(us, 100))}};
}

struct NodeEvent {
    Event e;
    const std::string* node;
};

}  // namespace

double percentile(std::vector<int64_t> s, double p) {
    if (s.empty()) return 0;
    std::sort(s.begin(), s.end());
    const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(s.size())));
    return static_cast<double>(s[std::clamp<size_t>(rank, 1, s.size()) - 1]);
}

Result<json> verdict(const FarmOptions& o, const FarmRun& run, store::PgQueue& queue) {
    std::vector<NodeEvent> events;
    for (size_t i = 0; i < run.log_paths.size(); ++i)
        for (auto& e : read_events(run.log_paths[i]))
            events.push_back({std::move(e), &run.node_ids[i]});
    std::sort(events.begin(), events.end(),
              [](const NodeEvent& a, const NodeEvent& b) { return a.e.t_us < b.e.t_us; });

    std::vector<int64_t> granted, all_claims, completes;
    std::map<int64_t, int> accepted;  // task -> accepted completions written by the nodes
    int64_t rejected = 0, rejected_live = 0, joins = 0, last_done = run.t_go;
    std::vector<std::string> errors;
    for (const auto& [e, node] : events) {
        switch (e.kind) {
            case Ev::claimed:
                granted.push_back(e.latency_us);
                all_claims.push_back(e.latency_us);
                break;
            case Ev::empty:
                all_claims.push_back(e.latency_us);
                break;
            case Ev::done:
                ++accepted[e.task];
                completes.push_back(e.latency_us);
                joins += e.job_ready ? 1 : 0;
                last_done = std::max(last_done, e.t_us);
                break;
            case Ev::rejected:
                ++rejected;
                if (!run.frozen.count(*node)) ++rejected_live;
                break;
            case Ev::error:
                errors.push_back(*node + ": " + e.text);
                break;
            default:
                break;
        }
    }
    const int64_t logged_twice = std::count_if(accepted.begin(), accepted.end(),
                                               [](const auto& kv) { return kv.second > 1; });
    const int64_t unlogged = o.tasks - static_cast<int64_t>(accepted.size());

    // The database's word.
    int64_t chunks_done = 0;
    RR_ASSIGN(const auto nodes, queue.nodes());
    for (const auto& n : nodes) chunks_done += n.chunks_done;
    RR_ASSIGN(const auto depth, queue.queue_depth());
    int jobs_done = 0, jobs_joining_dead = 0, jobs_bad = 0;
    std::vector<std::string> bad;
    for (int64_t id : run.job_ids) {
        RR_ASSIGN(const auto j, queue.job(id));
        const bool dead_joiner = j.joiner && run.killed.count(*j.joiner) > 0;
        if (j.chunks_remaining == 0 && j.state == "done") {
            ++jobs_done;
        } else if (j.chunks_remaining == 0 && j.state == "joining" && dead_joiner) {
            ++jobs_joining_dead;  // its joiner was killed between the last chunk and the join
        } else {
            ++jobs_bad;
            if (bad.size() < 5)
                bad.push_back("job " + std::to_string(id) + " " + j.state + " remaining " +
                              std::to_string(j.chunks_remaining));
        }
    }
    const int64_t duplicates_db = chunks_done - o.tasks;

    const double wall = static_cast<double>(last_done - run.t_go) / 1e6;
    const int workers = o.nodes * o.node.workers;
    const double ideal = o.tasks * (o.node.task_ms / 1000.0) / workers;
    json r;
    r["config"] = {{"nodes", o.nodes},
                   {"workers_per_node", o.node.workers},
                   {"tasks", o.tasks},
                   {"jobs", o.jobs},
                   {"task_ms", o.node.task_ms},
                   {"poll_ms", o.node.poll_ms},
                   {"lease_s", o.node.lease_seconds},
                   {"heartbeat_s", o.node.heartbeat_seconds},
                   {"connections_per_node", o.node.connection_per_thread ? o.node.workers + 1 : 1},
                   {"kill", o.kill},
                   {"kill_at", o.kill_at},
                   {"freeze", o.freeze}};
    r["wall_s"] = std::round(wall * 100) / 100;
    r["ideal_s"] = ideal;
    r["wall_over_ideal"] = std::round(wall / ideal * 1000) / 1000;
    r["claim_latency_granted"] = latency(granted);
    r["claim_latency_all"] = latency(all_claims);
    r["complete_latency"] = latency(completes);
    r["exactly_once"] = {
        {"queue_drained", run.drained && depth.available == 0 && depth.leased == 0},
        {"accepted_completions_db", chunks_done},
        {"duplicate_completions_db", duplicates_db},
        {"tasks_logged_twice", logged_twice},
        {"tasks_unlogged", unlogged},
        {"rejected_completions", rejected},
        // Refusals to nodes that were never frozen: a live node lost a lease.
        {"rejected_completions_live_nodes", rejected_live},
        {"jobs_done", jobs_done},
        {"jobs_joining_with_killed_joiner", jobs_joining_dead},
        {"jobs_wrong", jobs_bad},
        {"jobs_wrong_examples", bad},
        {"joins_logged", joins}};
    r["errors"] = {
        {"count", errors.size()},
        {"first", std::vector<std::string>(errors.begin(),
                                           errors.begin() + std::min<size_t>(5, errors.size()))}};
    r["node_exit_failures"] = run.node_failures;

    const double span = static_cast<double>(run.t_end - run.t_go) / 1e6;
    r["cpu"] = {{"cores", std::round(run.cpu.total_s / span)},
                {"machine_busy_share", std::round(run.cpu.busy_s / run.cpu.total_s * 1000) / 1000},
                {"load_average_1min", std::round(run.load_average * 10) / 10},
                {"postgres_cores", std::round(run.postgres_cpu_s / span * 100) / 100},
                {"nodes_cpu_s", std::round(run.nodes_cpu_s * 10) / 10},
                {"nodes_cores", std::round(run.nodes_cpu_s / span * 100) / 100}};

    if (run.t_kill) {
        // The dead nodes' leases: reaped by a survivor, then claimed again by one.
        auto gone = [&](const std::string& n) {
            return run.killed.count(n) > 0 || run.frozen.count(n) > 0;
        };
        std::map<int64_t, int64_t> reaped_at, reclaimed_at;
        int64_t lost_last = 0;
        for (const auto& [e, node] : events) {
            if (e.t_us < run.t_kill) continue;
            if (e.kind == Ev::reaped && gone(e.text) && !reaped_at.count(e.task))
                reaped_at[e.task] = e.t_us;
            if (e.kind == Ev::lost && gone(e.text)) lost_last = std::max(lost_last, e.t_us);
            if (e.kind == Ev::claimed && !gone(*node) && reaped_at.count(e.task) &&
                !reclaimed_at.count(e.task))
                reclaimed_at[e.task] = e.t_us;
        }
        int64_t reaped_last = run.t_kill, reclaimed_last = run.t_kill;
        for (const auto& kv : reaped_at) reaped_last = std::max(reaped_last, kv.second);
        for (const auto& kv : reclaimed_at) reclaimed_last = std::max(reclaimed_last, kv.second);
        // The work left at the kill, done by the survivors; frozen nodes rejoin at the thaw.
        const double w = o.node.workers, task_s = o.node.task_ms / 1000.0;
        const double during =
            (o.nodes - static_cast<double>(run.killed.size() + run.frozen.size())) * w;
        const double after = (o.nodes - static_cast<double>(run.killed.size())) * w;
        const double at_kill = static_cast<double>(run.t_kill - run.t_go) / 1e6;
        const double frozen_for =
            run.t_thaw ? static_cast<double>(run.t_thaw - run.t_kill) / 1e6 : 0;
        const double left = static_cast<double>(o.tasks - run.done_at_kill) * task_s;
        const double ideal_after_kill =
            left <= during * frozen_for || run.frozen.empty()
                ? at_kill + left / during
                : at_kill + frozen_for + (left - during * frozen_for) / after;
        auto secs = [&](int64_t t) { return std::round((t - run.t_kill) / 1e4) / 100; };
        r["takeover"] = {{"killed", run.killed.size()},
                         {"frozen", run.frozen.size()},
                         {"frozen_s", std::round(frozen_for * 100) / 100},
                         {"killed_at_done", run.done_at_kill},
                         {"killed_at_s", std::round((run.t_kill - run.t_go) / 1e4) / 100},
                         // The best a farm could do losing these workers at that moment.
                         {"ideal_with_kill_s", std::round(ideal_after_kill * 100) / 100},
                         {"dead_leases_reaped", reaped_at.size()},
                         {"dead_leases_reclaimed", reclaimed_at.size()},
                         {"all_reaped_after_s", secs(reaped_last)},
                         {"all_reclaimed_after_s", secs(reclaimed_last)},
                         {"all_marked_lost_after_s", lost_last ? secs(lost_last) : -1.0},
                         {"backoff_s", store::QueueOptions{}.backoff_seconds}};
    }
    // Each node's counter is bumped in the completion's own transaction, so their sum is the
    // number of completions the database accepted; the jobs' counters say the same per job.
    const bool killed_ok = unlogged <= static_cast<int64_t>(run.killed.size()) * o.node.workers;
    r["ok"] = run.drained && depth.available == 0 && depth.leased == 0 && duplicates_db == 0 &&
              logged_twice == 0 && jobs_bad == 0 && killed_ok && run.node_failures == 0 &&
              (run.killed.empty() ? unlogged == 0 && jobs_joining_dead == 0 : true);
    return r;
}

}  // namespace rr::farm
