#include "store/pg_queue.h"

#include <algorithm>
#include <random>

#include "store/pg_migrations.h"
#include "store/row_readers.h"

namespace rr::store {
namespace {

std::vector<Lease> leases(const PgResult& r) {
    std::vector<Lease> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(Lease{r.integer(i, 0), r.integer(i, 1), static_cast<int>(r.integer(i, 2)),
                            static_cast<int>(r.integer(i, 3)), r.integer(i, 4), r.text(i, 5),
                            static_cast<int>(r.integer(i, 6))});
    }
    // RETURNING has no order of its own: give them back in the order the claim picked them.
    std::sort(out.begin(), out.end(), in_claim_order);
    return out;
}

// A text[] literal: every element quoted, quotes and backslashes escaped.
std::string text_array(const std::vector<std::string>& items) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

// A bigint[] literal of one field of each element.
template <class T, class F>
std::string int_array(const std::vector<T>& items, F field) {
    std::string out = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(field(items[i]));
    }
    return out + "}";
}

}  // namespace

Result<PgQueue> PgQueue::open(QueueOptions options) {
    if (options.node_id.empty()) return make_error(Errc::config, "cluster: node_id is empty");
    // A call silent for a lease is as good as lost: its lease is another node's by then.
    RR_ASSIGN(auto conn, PgConn::connect(options.database, options.lease_seconds));
    RR_TRY(pg_migrate(conn));
    RR_TRY(conn.prepare_statements());
    PgQueue q(std::move(options), std::move(conn));
    // Distinguishes this process from an earlier or concurrent one under the same node id.
    q.incarnation_ = static_cast<int64_t>(std::random_device{}() >> 1) << 31 ^
                     static_cast<int64_t>(std::random_device{}());
    return q;
}

template <class F>
auto PgQueue::retrying(F&& fn) -> decltype(fn()) {
    auto first = fn();
    if (first.ok() || !conn_.connection_lost()) return first;
    if (auto re = conn_.reconnect(); !re.ok()) {
        return std::move(first).error().context("reconnect failed (" + re.error().message + ")");
    }
    return fn();
}

Result<int64_t> PgQueue::add_job(const std::string& source_path, const std::string& profile,
                                 const std::vector<std::string>& payloads, int priority) {
    // Not retried: after a lost reply the job may exist, and adding it twice is not harmless.
    RR_ASSIGN(auto tx, PgTransaction::begin(conn_));
    RR_ASSIGN(auto job, conn_.run(Q::insert_job, {source_path, profile,
                                                  pg_param(static_cast<int64_t>(payloads.size())),
                                                  pg_param(priority)}));
    const int64_t id = job.integer(0, 0);
    RR_TRY(conn_.run(Q::insert_tasks,
                     {pg_param(id), text_array(payloads), pg_param(o_.max_attempts), "false"}));
    RR_TRY(tx.commit());
    return id;
}

Result<OpenedJob> PgQueue::open_job(const std::string& source_path, const std::string& source_key,
                                    const std::string& profile, const std::string& payload,
                                    int priority) {
    if (source_key.empty()) {
        return make_error(Errc::invalid_argument, "open_job: the source version key is empty");
    }
    int runs = 0;
    return retrying([&]() -> Result<OpenedJob> {
        const bool retry = runs++ > 0;
        RR_ASSIGN(auto r, conn_.run(Q::open_job, {source_path, source_key, profile, payload,
                                                  o_.node_id, pg_param(priority)}));
        if (r.rows() == 1) return OpenedJob{r.integer(0, 0), true, r.text(0, 1), r.text(0, 2), {}};
        RR_ASSIGN(auto found, conn_.run(Q::find_job, {source_path, source_key}));
        if (found.rows() == 0) {
            // The conflicting row went between the two statements (pruned): try once more.
            RR_ASSIGN(auto again, conn_.run(Q::open_job, {source_path, source_key, profile, payload,
                                                          o_.node_id, pg_param(priority)}));
            if (again.rows() == 1) {
                return OpenedJob{again.integer(0, 0), true, again.text(0, 1), again.text(0, 2), {}};
            }
            return make_error(Errc::conflict, "open_job: " + source_path + " (" + source_key +
                                                  ") is being opened and removed at once");
        }
        OpenedJob out{found.integer(0, 0), false, found.text(0, 1), found.text(0, 2), {}};
        // Our own insert (or adoption) whose reply was lost: this node must still prepare it.
        out.created = retry && out.owner == o_.node_id && out.state == "preparing";
        const bool ended = queue_job_ended(out.state);
        if ((out.state != "preparing" && !ended) || out.owner == o_.node_id) return out;
        RR_ASSIGN(auto adopted,
                  conn_.run(Q::adopt_job, {pg_param(out.id), out.owner, o_.node_id, payload,
                                           pg_param(priority), pg_param(o_.max_attempts)}));
        if (adopted.rows() == 1) {
            // An ended job is adopted for its disposition only: there is nothing to prepare.
            const std::string state = adopted.text(0, 2);
            return OpenedJob{adopted.integer(0, 0), state == "preparing", adopted.text(0, 1), state,
                             out.owner};
        }
        // The owner is alive, or another node adopted it first: read who owns it now.
        RR_ASSIGN(auto now, conn_.run(Q::find_job, {source_path, source_key}));
        if (now.rows() == 1) {
            out.owner = now.text(0, 1);
            out.state = now.text(0, 2);
        }
        return out;
    });
}

Status PgQueue::start_tasks(int64_t job_id, const std::vector<std::string>& payloads,
                            bool last_first) {
    const auto n = static_cast<int64_t>(payloads.size());
    return retrying([&]() -> Status {
        {
            RR_ASSIGN(auto tx, PgTransaction::begin(conn_));
            RR_ASSIGN(auto started,
                      conn_.run(Q::start_job, {pg_param(job_id), o_.node_id, pg_param(n)}));
            if (started.rows() == 1) {
                if (n > 0) {
                    RR_TRY(conn_.run(Q::insert_tasks,
                                     {pg_param(job_id), text_array(payloads),
                                      pg_param(o_.max_attempts), last_first ? "true" : "false"}));
                }
                return tx.commit();
            }
        }
        // Not preparing or not ours: fine only when this very plan already started it.
        RR_ASSIGN(const JobView j, job(job_id));
        const bool ours = j.owner == o_.node_id;
        const bool started = j.state == "running" || j.state == "joining" || j.state == "done";
        if (ours && started && j.chunks_total == n) return {};
        return make_error(Errc::conflict, "job " + std::to_string(job_id) +
                                              " cannot be started by " + o_.node_id + " (owner '" +
                                              j.owner + "', state " + j.state + ", " +
                                              std::to_string(j.chunks_total) + " tasks)");
    });
}

Status PgQueue::end_job(int64_t job_id, const std::string& state, const std::string& error) {
    if (state != "failed" && state != "cancelled") {
        return make_error(Errc::invalid_argument, "a job ends failed or cancelled");
    }
    return retrying([&]() -> Status {
        RR_ASSIGN(auto r, conn_.run(Q::end_job, {pg_param(job_id), state, error}));
        if (!r.boolean(0, 2)) {
            return make_error(Errc::not_found, "no job " + std::to_string(job_id));
        }
        return {};
    });
}

Status PgQueue::record_output(int64_t job_id, int64_t size, const std::string& checksum) {
    return retrying([&]() -> Status {
        RR_ASSIGN(auto r, conn_.run(Q::record_output,
                                    {pg_param(job_id), o_.node_id, pg_param(size), checksum}));
        if (r.rows() == 0) {
            return make_error(Errc::conflict, "job " + std::to_string(job_id) +
                                                  " is not waiting for this node to join it");
        }
        return {};
    });
}

Result<bool> PgQueue::take_over_join(int64_t job_id, const std::string& dead_joiner) {
    int runs = 0;
    return retrying([&]() -> Result<bool> {
        const bool retry = runs++ > 0;
        RR_ASSIGN(auto r,
                  conn_.run(Q::take_over_join, {pg_param(job_id), o_.node_id, dead_joiner}));
        if (r.rows() == 1) return true;
        if (!retry) return false;
        // The first run may have taken it over before its reply was lost.
        RR_ASSIGN(const JobView j, job(job_id));
        return j.state == "joining" && j.joiner == o_.node_id;
    });
}

Result<std::vector<OrphanedJob>> PgQueue::orphaned_jobs(int limit) {
    return retrying([&]() -> Result<std::vector<OrphanedJob>> {
        RR_ASSIGN(auto r, conn_.run(Q::orphaned_jobs, {o_.node_id, pg_param(limit)}));
        std::vector<OrphanedJob> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(OrphanedJob{r.integer(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3),
                                      r.text(i, 4), r.text(i, 5)});
        }
        return out;
    });
}

Result<std::optional<OpenedJob>> PgQueue::find_job(const std::string& source_path,
                                                   const std::string& source_key) {
    return retrying([&]() -> Result<std::optional<OpenedJob>> {
        RR_ASSIGN(auto r, conn_.run(Q::find_job, {source_path, source_key}));
        if (r.rows() == 0) return std::optional<OpenedJob>();
        return std::optional<OpenedJob>(
            OpenedJob{r.integer(0, 0), false, r.text(0, 1), r.text(0, 2), {}});
    });
}

Result<std::optional<ContentHolder>> PgQueue::record_content(int64_t job_id,
                                                             const std::string& checksum,
                                                             int64_t output_gone) {
    auto once = [&]() -> Result<std::optional<ContentHolder>> {
        RR_ASSIGN(auto tx, PgTransaction::begin(conn_));
        if (output_gone) RR_TRY(conn_.run(Q::release_content, {pg_param(output_gone), checksum}));
        RR_ASSIGN(auto r, conn_.run(Q::record_content, {pg_param(job_id), checksum}));
        if (r.integer(0, 0) == 0)
            return make_error(Errc::not_found, "no job " + std::to_string(job_id));
        std::optional<ContentHolder> holder;
        if (!r.is_null(0, 2))
            holder = ContentHolder{r.integer(0, 2), r.text(0, 3), r.text(0, 4), r.text(0, 5)};
        RR_TRY(tx.commit());
        return holder;
    };
    // Harmless twice (a second run finds its own record, or the holder): retried after a lost
    // connection. A unique violation (Errc::conflict) is another owner that recorded the
    // content first and has committed: the next run finds it.
    return retrying([&]() -> Result<std::optional<ContentHolder>> {
        auto r = once();
        for (int run = 1; run < 3 && !r && r.error().code == Errc::conflict; ++run) r = once();
        return r;
    });
}

Result<std::vector<int64_t>> PgQueue::unfinished_joins() {
    return retrying([&]() -> Result<std::vector<int64_t>> {
        RR_ASSIGN(auto r, conn_.run(Q::unfinished_joins, {o_.node_id}));
        std::vector<int64_t> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.integer(i, 0));
        return out;
    });
}

Result<bool> PgQueue::claim_disposal(int64_t job_id) {
    return retrying([&]() -> Result<bool> {
        RR_ASSIGN(auto r, conn_.run(Q::claim_disposal, {pg_param(job_id), o_.node_id}));
        return r.rows() == 1;
    });
}

Result<bool> PgQueue::finish_disposal(int64_t job_id) {
    return retrying([&]() -> Result<bool> {
        RR_ASSIGN(auto r, conn_.run(Q::finish_disposal, {pg_param(job_id), o_.node_id}));
        return r.rows() == 1;
    });
}

Result<bool> PgQueue::retire_job(int64_t job_id) {
    return retrying([&]() -> Result<bool> {
        RR_ASSIGN(auto r, conn_.run(Q::retire_job, {pg_param(job_id)}));
        return r.rows() == 1;
    });
}

Result<std::vector<TaskView>> PgQueue::tasks(int64_t job_id) {
    return retrying([&]() -> Result<std::vector<TaskView>> {
        RR_ASSIGN(auto r, conn_.run(Q::list_tasks, {pg_param(job_id)}));
        std::vector<TaskView> out;
        out.reserve(static_cast<size_t>(r.rows()));
        for (int i = 0; i < r.rows(); ++i) {
            TaskView t;
            t.id = r.integer(i, 0);
            t.idx = static_cast<int>(r.integer(i, 1));
            t.state = r.text(i, 2);
            t.attempt = static_cast<int>(r.integer(i, 3));
            t.node = r.optional_text(i, 4);
            t.lease_owner = r.optional_text(i, 5);
            t.payload = r.text(i, 6);
            t.result = r.optional_text(i, 7);
            t.priority = static_cast<int>(r.integer(i, 8));
            t.frames_done = r.integer(i, 9);
            out.push_back(std::move(t));
        }
        return out;
    });
}

Result<std::vector<Lease>> PgQueue::claim(int n) {
    // After a lost reply the earlier claim may have committed: those leases come back from
    // renew() and the caller releases what it does not know (or lets them expire).
    return retrying([&]() -> Result<std::vector<Lease>> {
        RR_ASSIGN(auto r,
                  conn_.run(Q::claim, {o_.node_id, pg_param(n), pg_param(o_.lease_seconds)}));
        return leases(r);
    });
}

Result<std::vector<Lease>> PgQueue::renew() {
    return retrying([&]() -> Result<std::vector<Lease>> {
        RR_ASSIGN(auto r, conn_.run(Q::renew_leases, {o_.node_id, pg_param(o_.lease_seconds)}));
        return leases(r);
    });
}

Status PgQueue::report_progress(const std::vector<TaskProgress>& progress) {
    if (progress.empty()) return {};
    const std::string ids = int_array(progress, [](const TaskProgress& p) { return p.task_id; });
    const std::string epochs = int_array(progress, [](const TaskProgress& p) { return p.epoch; });
    const std::string frames = int_array(progress, [](const TaskProgress& p) { return p.frames; });
    // Setting a count twice is harmless: retried after a lost connection.
    return retrying([&]() -> Status {
        RR_TRY(conn_.run(Q::report_progress, {o_.node_id, ids, epochs, frames}));
        return {};
    });
}

Result<Completion> PgQueue::complete(const Lease& lease, const std::string& result) {
    return retrying([&]() -> Result<Completion> {
        RR_ASSIGN(auto r, conn_.run(Q::complete, {pg_param(lease.task_id), o_.node_id,
                                                  pg_param(lease.epoch), result}));
        if (r.rows() == 1) return Completion{true, r.boolean(0, 1), r.integer(0, 0)};
        // Fenced off, or accepted before a lost reply: only the latter has our node and epoch.
        RR_ASSIGN(auto earlier,
                  conn_.run(Q::completed_earlier,
                            {pg_param(lease.task_id), o_.node_id, pg_param(lease.epoch)}));
        if (earlier.rows() == 1)
            return Completion{true, earlier.boolean(0, 1), earlier.integer(0, 0)};
        return Completion{false, false, lease.job_id};
    });
}

Status PgQueue::fail_job(int64_t job_id, int64_t task_id) {
    RR_TRY(conn_.run(Q::fail_job, {pg_param(job_id), pg_param(task_id)}));
    RR_TRY(conn_.run(Q::cancel_siblings, {pg_param(job_id)}));
    return {};
}

Result<FailOutcome> PgQueue::fail(const Lease& lease, const std::string& error) {
    return retrying([&]() -> Result<FailOutcome> {
        RR_ASSIGN(auto tx, PgTransaction::begin(conn_));
        RR_ASSIGN(auto r,
                  conn_.run(Q::fail_attempt,
                            {pg_param(lease.task_id), o_.node_id, pg_param(lease.epoch), error,
                             pg_param(o_.backoff_seconds), pg_param(o_.backoff_max_seconds)}));
        if (r.rows() == 0) return FailOutcome{false, false, false, lease.job_id};
        FailOutcome out{true, r.boolean(0, 3), false, r.integer(0, 1)};
        if (out.task_failed) {
            RR_TRY(fail_job(out.job_id, lease.task_id));
            out.job_failed = true;
        }
        RR_TRY(tx.commit());
        return out;
    });
}

Result<std::vector<Reaped>> PgQueue::reap(int limit) {
    return retrying([&]() -> Result<std::vector<Reaped>> {
        RR_ASSIGN(auto tx, PgTransaction::begin(conn_));
        RR_ASSIGN(auto r, conn_.run(Q::reap, {pg_param(limit), pg_param(o_.backoff_seconds),
                                              pg_param(o_.backoff_max_seconds)}));
        std::vector<Reaped> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(Reaped{r.integer(i, 0), r.integer(i, 1),
                                 static_cast<int>(r.integer(i, 2)), r.boolean(i, 3), r.text(i, 4)});
            if (out.back().failed) RR_TRY(fail_job(out.back().job_id, out.back().task_id));
        }
        RR_TRY(tx.commit());
        return out;
    });
}

Result<int64_t> PgQueue::release() {
    return retrying([&]() -> Result<int64_t> {
        RR_ASSIGN(auto r, conn_.run(Q::release, {o_.node_id}));
        return r.integer(0, 0);
    });
}

Result<int64_t> PgQueue::leave() {
    RR_ASSIGN(const int64_t released, release());
    RR_TRY(retrying([&]() -> Status {
        RR_TRY(conn_.run(Q::node_gone, {o_.node_id, pg_param(incarnation_)}));
        return {};
    }));
    return released;
}

Result<QueueDepth> PgQueue::queue_depth() {
    return retrying([&]() -> Result<QueueDepth> {
        RR_ASSIGN(auto r, conn_.run(Q::queue_depth, std::initializer_list<PgParam>{}));
        return QueueDepth{r.integer(0, 0), r.integer(0, 1)};
    });
}

Result<std::optional<std::string>> PgQueue::cluster_id() {
    return retrying([&]() -> Result<std::optional<std::string>> {
        RR_ASSIGN(auto r, conn_.run(Q::cluster_id, std::initializer_list<PgParam>{}));
        if (r.rows() == 0) return std::optional<std::string>();
        return std::optional<std::string>(r.text(0, 0));
    });
}

Result<std::string> PgQueue::init_cluster_id(const std::string& id) {
    return retrying([&]() -> Result<std::string> {
        RR_ASSIGN(auto r, conn_.run(Q::init_cluster_id, {id}));
        if (r.rows() == 1) return r.text(0, 0);
        // Another node's insert committed while this statement waited on it: its snapshot
        // predates that row, so the id is read again by a statement of its own.
        RR_ASSIGN(auto now, conn_.run(Q::cluster_id, {}));
        if (now.rows() == 1) return now.text(0, 0);
        return make_error(Errc::conflict, "the cluster id is being written and removed at once");
    });
}

Status PgQueue::register_node(const NodeRegistration& reg) {
    return retrying([&]() -> Status {
        RR_ASSIGN(auto tx, PgTransaction::begin(conn_));
        RR_ASSIGN(auto r, conn_.run(Q::register_node,
                                    {o_.node_id, pg_param(incarnation_), reg.host,
                                     pg_param(reg.pid), reg.version, pg_param(reg.workers),
                                     pg_param(reg.stale_after_seconds)}));
        if (r.rows() == 0) {
            return make_error(Errc::conflict,
                              "cluster: node id '" + o_.node_id +
                                  "' is in use by a live node; set cluster.node_id");
        }
        RR_TRY(conn_.run(Q::expire_node_leases, {o_.node_id}));
        return tx.commit();
    });
}

Result<std::string> PgQueue::node_heartbeat(int busy,
                                            const std::optional<std::string>& storage_problem) {
    return retrying([&]() -> Result<std::string> {
        RR_ASSIGN(auto r, conn_.run(Q::node_heartbeat, {o_.node_id, pg_param(incarnation_),
                                                        pg_param(busy), storage_problem}));
        if (r.rows() == 0) {
            return make_error(Errc::conflict, "cluster: node id '" + o_.node_id +
                                                  "' was taken over by another process");
        }
        return r.text(0, 0);
    });
}

Status PgQueue::set_node_state(const std::string& node_id, const std::string& state) {
    if (state != "active" && state != "draining") {
        return make_error(Errc::invalid_argument, "a node can be set active or draining");
    }
    return retrying([&]() -> Status {
        RR_ASSIGN(auto r, conn_.run(Q::set_node_state, {node_id, state}));
        if (r.rows() == 0) return make_error(Errc::not_found, "no live node '" + node_id + "'");
        return {};
    });
}

Result<std::vector<std::string>> PgQueue::mark_lost(double stale_seconds) {
    return retrying([&]() -> Result<std::vector<std::string>> {
        RR_ASSIGN(auto r, conn_.run(Q::mark_lost, {pg_param(stale_seconds)}));
        std::vector<std::string> out;
        for (int i = 0; i < r.rows(); ++i) out.push_back(r.text(i, 0));
        return out;
    });
}

Result<std::vector<NodeView>> PgQueue::nodes() {
    return retrying([&]() -> Result<std::vector<NodeView>> {
        RR_ASSIGN(auto r, conn_.run(Q::list_nodes, std::initializer_list<PgParam>{}));
        std::vector<NodeView> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(read_node_row(PgRow(r, i)));
        }
        return out;
    });
}

Status PgQueue::finish_job(int64_t job_id, const std::string& result) {
    int runs = 0;
    return retrying([&]() -> Status {
        const bool retry = runs++ > 0;
        RR_ASSIGN(auto r, conn_.run(Q::finish_job, {pg_param(job_id), o_.node_id, result}));
        if (r.rows() == 1) return {};
        if (retry) {  // the first run may have finished it before its reply was lost
            RR_ASSIGN(const JobView j, job(job_id));
            if (j.state == "done" && j.joiner == o_.node_id) return {};
        }
        return make_error(Errc::conflict, "job " + std::to_string(job_id) +
                                              " is not waiting for this node to join it");
    });
}

Result<JobView> PgQueue::job(int64_t job_id) {
    return retrying([&]() -> Result<JobView> {
        RR_ASSIGN(auto r, conn_.run(Q::job, {pg_param(job_id)}));
        if (r.rows() == 0) return make_error(Errc::not_found, "no job " + std::to_string(job_id));
        return read_job_row(PgRow(r, 0));
    });
}

Result<std::vector<FarmJob>> PgQueue::farm_jobs(int limit) {
    return retrying([&]() -> Result<std::vector<FarmJob>> {
        // Two reads: for display, a lease taken between them does not matter.
        RR_ASSIGN(auto jobs, conn_.run(Q::farm_jobs, {pg_param(limit)}));
        RR_ASSIGN(auto leases, conn_.run(Q::farm_leases, {}));
        std::vector<FarmJob> out;
        for (int i = 0; i < jobs.rows(); ++i) out.push_back({read_job_row(PgRow(jobs, i)), {}});
        for (int i = 0; i < leases.rows(); ++i) add_farm_leases(out, PgRow(leases, i));
        return out;
    });
}

Result<std::vector<AttemptView>> PgQueue::attempts(int64_t job_id, int idx) {
    return retrying([&]() -> Result<std::vector<AttemptView>> {
        RR_ASSIGN(auto r, conn_.run(Q::task_attempts, {pg_param(job_id), pg_param(idx)}));
        std::vector<AttemptView> out;
        for (int i = 0; i < r.rows(); ++i) {
            out.push_back(AttemptView{static_cast<int>(r.integer(i, 0)), r.integer(i, 1),
                                      r.text(i, 2), r.text(i, 3)});
        }
        return out;
    });
}

Result<int64_t> PgQueue::prune(double retention_days) {
    return retrying([&]() -> Result<int64_t> {
        const double seconds = retention_days * 86400.0;
        RR_ASSIGN(auto jobs, conn_.run(Q::prune_jobs, {pg_param(seconds)}));
        RR_TRY(conn_.run(Q::prune_nodes, {pg_param(seconds)}));
        return jobs.affected();
    });
}

}  // namespace rr::store
