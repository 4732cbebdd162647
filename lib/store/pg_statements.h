#pragma once
// Every SQL statement the PostgreSQL queue runs, by name. The index enum and the table in
// pg_statements.cpp are kept in step by a static_assert; each connection prepares them all
// once, so a statement's text is parsed and planned once per session, not per call.

#include <cstddef>
#include <span>

namespace rr::store {

enum class Q : std::size_t {
    insert_job,
    insert_tasks,
    claim,
    renew_leases,
    complete,
    completed_earlier,
    fail_attempt,
    fail_job,
    cancel_siblings,
    reap,
    release,
    register_node,
    expire_node_leases,
    node_heartbeat,
    set_node_state,
    mark_lost,
    list_nodes,
    finish_job,
    job,
    farm_jobs,
    farm_leases,
    task_attempts,
    prune_jobs,
    prune_nodes,
    queue_depth,
    node_gone,
    cluster_id,
    init_cluster_id,
    open_job,
    find_job,
    start_job,
    end_job,
    record_output,
    take_over_join,
    list_tasks,
    adopt_job,
    orphaned_jobs,
    claim_disposal,
    finish_disposal,
    retire_job,
    unfinished_joins,
    report_progress,
    record_content,
    release_content,
    count_,  // not a statement: the table's size
};

struct PgStatement {
    Q index;
    const char* name;  // the prepared statement's name on the server
    int params;
    const char* sql;
};

[[nodiscard]] std::span<const PgStatement> pg_statements();
[[nodiscard]] const PgStatement& pg_statement(Q q);

}  // namespace rr::store
