#pragma once
// The queue's rows as its views, one reader for both backends. A Row reads the columns of one
// row by index: a SQLite statement on its current row (Stmt) or one row of a PostgreSQL result
// (PgRow). The statements that feed a reader select the same columns in the same order on
// both backends (RR_PG_JOB_COLUMNS / RR_SQ_JOB_COLUMNS; the node listing).

#include "store/task_queue.h"

namespace rr::store {

template <class Row>
[[nodiscard]] JobView read_job_row(const Row& r) {
    JobView j;
    j.id = r.integer(0);
    j.source_path = r.text(1);
    j.profile = r.text(2);
    j.state = r.text(3);
    j.chunks_total = static_cast<int>(r.integer(4));
    j.chunks_remaining = static_cast<int>(r.integer(5));
    j.error = r.optional_text(6);
    j.joiner = r.optional_text(7);
    j.owner = r.optional_text(8).value_or("");
    j.source_key = r.text(9);
    j.payload = r.text(10);
    j.result = r.optional_text(11);
    j.output_size = r.optional_integer(12);
    j.output_checksum = r.optional_text(13);
    j.joiner_state = r.optional_text(14);
    j.disposed_by = r.optional_text(15);
    j.priority = static_cast<int>(r.integer(16));
    j.prepare_attempt = static_cast<int>(r.integer(17));
    j.disposed = r.integer(18) != 0;
    return j;
}

template <class Row>
[[nodiscard]] NodeView read_node_row(const Row& r) {
    NodeView n;
    n.node_id = r.text(0);
    n.host = r.text(1);
    n.pid = static_cast<int>(r.integer(2));
    n.version = r.text(3);
    n.state = r.text(4);
    n.heartbeat_age_s = r.real(5);
    n.workers = static_cast<int>(r.integer(6));
    n.busy = static_cast<int>(r.integer(7));
    n.chunks_done = r.integer(8);
    n.leases = r.integer(9);
    n.storage_problem = r.optional_text(10);
    return n;
}

// One row of the leased-task count (job_id, lease_owner, count), added to its job among
// farm_jobs' rows; a job past farm_jobs' limit is not there and its row is skipped.
template <class Row>
void add_farm_leases(std::vector<FarmJob>& jobs, const Row& r) {
    for (auto& f : jobs)
        if (f.job.id == r.integer(0)) f.leases[r.text(1)] = static_cast<int>(r.integer(2));
}

}  // namespace rr::store
