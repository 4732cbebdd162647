#include "service/cluster_commands.h"

namespace rr::service {
namespace {

using control::Code;
using control::CommandContext;
using control::Reply;

Reply cluster_off() {
    return Reply::failure(Code::unsupported,
                          "cluster mode is off (the configuration has no cluster: section)");
}

Reply set_state(ClusterNode* cluster, const CommandContext& ctx, const std::string& state) {
    if (!cluster) return cluster_off();
    auto node = control::string_arg(ctx.request.args, "node", std::string());
    if (auto* e = std::get_if<control::ArgError>(&node))
        return Reply::failure(Code::error, e->message);
    auto done = cluster->request_state(std::get<std::string>(node), state);
    if (!done) {
        return Reply::failure(done.error().code == Errc::not_found ? Code::not_found : Code::error,
                              done.error().message);
    }
    return Reply::success({{"node", *done}, {"state", state}});
}

}  // namespace

nlohmann::json node_json(const store::NodeView& n, const ClusterSnapshot& snap) {
    const double age = n.heartbeat_age_s +
                       (snap.taken == SteadyClock::time_point{} ? 0.0 : seconds_since(snap.taken));
    return {{"node_id", n.node_id},
            {"host", n.host},
            {"pid", n.pid},
            {"version", n.version},
            {"state", n.state},
            {"heartbeat_age_s", age},
            {"workers", n.workers},
            {"busy", n.busy},
            {"chunks_done", n.chunks_done},
            {"leases", n.leases},
            {"storage_problem",
             n.storage_problem ? nlohmann::json(*n.storage_problem) : nlohmann::json()}};
}

nlohmann::json farm_job_json(const store::FarmJob& f) {
    const auto& j = f.job;
    // The owner's own job id is in the payload its node wrote (ClusterWork::open_job); jobs
    // made by add_job (the queue benchmark) have none.
    const auto payload = nlohmann::json::parse(j.payload, nullptr, false);
    const int64_t owner_job = payload.is_object() ? payload.value("owner_job", int64_t{0}) : 0;
    auto optional = [](const std::optional<std::string>& v) {
        return v ? nlohmann::json(*v) : nlohmann::json();
    };
    return {{"id", j.id},
            {"source", j.source_path},
            {"profile", j.profile},
            {"state", j.state},
            {"owner", j.owner.empty() ? nlohmann::json() : nlohmann::json(j.owner)},
            {"owner_job", owner_job ? nlohmann::json(owner_job) : nlohmann::json()},
            {"priority", j.priority},
            {"chunks_total", j.chunks_total},
            {"chunks_done", j.chunks_total - j.chunks_remaining},
            {"leases", f.leases},
            {"joiner", optional(j.joiner)},
            {"prepare_attempt", j.prepare_attempt},
            {"disposed_by", optional(j.disposed_by)},
            {"error", optional(j.error)}};
}

nlohmann::json cluster_status_json(const ClusterSnapshot& snap) {
    int active = 0, draining = 0, lost = 0;
    nlohmann::json nodes = nlohmann::json::array();
    for (const auto& n : snap.nodes) {
        active += n.state == "active";
        draining += n.state == "draining";
        lost += n.state == "lost";
        nodes.push_back(node_json(n, snap));
    }
    nlohmann::json out = {{"database", snap.database},
                          {"node_id", snap.node_id},
                          {"connected", snap.connected},
                          {"state", snap.state},
                          {"claiming", snap.claiming()},
                          {"nodes_active", active},
                          {"nodes_draining", draining},
                          {"nodes_lost", lost},
                          {"queue_depth", snap.depth.available},
                          {"leased", snap.depth.leased},
                          {"leases", snap.leases},
                          {"nodes", nodes}};
    if (!snap.claiming()) out["not_claiming"] = snap.not_claiming_reason();
    return out;
}

Status register_cluster_commands(control::Registry& registry, ClusterNode* cluster) {
    RR_TRY(registry.add(
        "nodes",
        "Every node of the cluster: node_id, host, pid, version, state, heartbeat_age_s, "
        "workers, busy, chunks_done, leases, storage_problem.",
        false, [cluster](const CommandContext&) {
            if (!cluster) return cluster_off();
            const auto snap = cluster->snapshot();
            nlohmann::json nodes = nlohmann::json::array();
            for (const auto& n : snap.nodes) nodes.push_back(node_json(n, snap));
            return Reply::success({{"nodes", nodes}, {"self", snap.node_id}});
        }));
    RR_TRY(registry.add(
        "cluster-jobs",
        "What the farm is working on, every node's jobs: being prepared, run or joined, or "
        "waiting for their source's disposition; with the chunks each node runs now.",
        false, [cluster](const CommandContext&) {
            if (!cluster) return cluster_off();
            const auto farm = cluster->farm_jobs();
            nlohmann::json jobs = nlohmann::json::array();
            for (const auto& f : farm.jobs) jobs.push_back(farm_job_json(f));
            const double age =
                farm.taken == SteadyClock::time_point{} ? 0.0 : seconds_since(farm.taken);
            return Reply::success(
                {{"jobs", jobs}, {"self", cluster->snapshot().node_id}, {"age_s", age}});
        }));
    RR_TRY(registry.add("drain",
                        "Stop a node claiming new chunks (it finishes what it has); args: node "
                        "(default: this one).",
                        true, [cluster](const CommandContext& ctx) {
                            return set_state(cluster, ctx, "draining");
                        }));
    RR_TRY(registry.add(
        "undrain", "Let a drained node claim again; args: node (default: this one).", true,
        [cluster](const CommandContext& ctx) { return set_state(cluster, ctx, "active"); }));
    return {};
}

}  // namespace rr::service
