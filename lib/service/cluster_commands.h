#pragma once
// The cluster's control commands (nodes, cluster-jobs, drain, undrain) and the `cluster` object of
// `status`. They read the node's latest snapshot, so no command waits on the database.

#include <nlohmann/json.hpp>

#include "control/registry.h"
#include "service/cluster_node.h"

namespace rr::service {

// One node as `nodes` lists it; heartbeat_age_s counts on from when the snapshot was taken.
[[nodiscard]] nlohmann::json node_json(const store::NodeView& n, const ClusterSnapshot& snap);
// One job as `cluster-jobs` lists it.
[[nodiscard]] nlohmann::json farm_job_json(const store::FarmJob& f);
// status.cluster: database (no password), node id, nodes active/lost, queue depth, claiming.
[[nodiscard]] nlohmann::json cluster_status_json(const ClusterSnapshot& snap);

// `cluster` may be null (single node): the commands then say cluster mode is off.
[[nodiscard]] Status register_cluster_commands(control::Registry& registry, ClusterNode* cluster);

}  // namespace rr::service
