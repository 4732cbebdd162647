#include "store/sqlite_queue.h"

#include <algorithm>
#include <random>

#include "core/filesystem_kind.h"
#include "store/row_readers.h"
#include "store/sqlite_migrations.h"
#include "store/sqlite_statements.h"

namespace rr::store {
namespace {

// Lease rows from a RETURNING clause (id, job_id, idx, attempt, lease_epoch, payload,
// priority), in the order the claim picks them (RETURNING has no order of its own).
Result<std::vector<Lease>> leases(Stmt& s) {
    std::vector<Lease> out;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        out.push_back(Lease{s.integer(0), s.integer(1), static_cast<int>(s.integer(2)),
                            static_cast<int>(s.integer(3)), s.integer(4), s.text(5),
                            static_cast<int>(s.integer(6))});
    }
    std::sort(out.begin(), out.end(), in_claim_order);
    return out;
}

// Counts the rows a RETURNING clause gives back. SQLite makes every change on the first step;
// a statement is never stepped again after it reports done (that would run it once more).
Result<int64_t> count_rows(Stmt& s) {
    int64_t n = 0;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) return n;
        ++n;
    }
}

}  // namespace

Result<std::filesystem::path> sqlite_queue_path(std::string_view database) {
    std::string_view rest = database;
    if (!rest.starts_with("sqlite:")) {
        return make_error(Errc::config, std::string(database) + " is not a sqlite: database");
    }
    rest.remove_prefix(rest.starts_with("sqlite://") ? 9 : 7);
    // A relative file would follow each process's working folder: nodes meant to share one
    // queue would each open their own.
    if (!rest.starts_with('/')) {
        return make_error(Errc::config, std::string(database) +
                                            ": a SQLite queue needs an absolute path "
                                            "(sqlite:/var/lib/renderrush/queue.db)");
    }
    return std::filesystem::path(rest);
}

Status sqlite_queue_on_local_disk(const std::filesystem::path& file) {
    RR_ASSIGN(auto network, network_filesystem_of(file));
    if (!network) return {};
    return make_error(Errc::config,
                      "cluster.database sqlite:" + file.string() +
                          " is on a network file system (" + *network +
                          "): a SQLite queue works for nodes on one host, on its local disk; "
                          "use PostgreSQL for nodes on several hosts");
}

Result<SqliteQueue> SqliteQueue::open(QueueOptions options) {
    if (options.node_id.empty()) return make_error(Errc::config, "cluster: node_id is empty");
    RR_ASSIGN(auto path, sqlite_queue_path(options.database));
    RR_TRY(sqlite_queue_on_local_disk(path));
    RR_ASSIGN(Db db, Db::open(path));
    if (Status st = sqlite_queue_migrate(db); !st) {
        return st.error().context("cluster.database " + path.string());
    }
    SqliteQueue q(std::move(options), std::move(db));
    // Distinguishes this process from an earlier or concurrent one under the same node id.
    q.incarnation_ = static_cast<int64_t>(std::random_device{}() >> 1) << 31 ^
                     static_cast<int64_t>(std::random_device{}());
    return q;
}

Result<int64_t> SqliteQueue::add_job(const std::string& source_path, const std::string& profile,
                                     const std::vector<std::string>& payloads, int priority) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    int64_t id = 0;
    {
        RR_ASSIGN(Stmt job, Stmt::prepare(db_, sq::kInsertJob));
        job.bind(1, source_path)
            .bind(2, profile)
            .bind(3, static_cast<int64_t>(payloads.size()))
            .bind(4, priority);
        RR_ASSIGN(bool row, job.step());
        if (!row) return make_error(Errc::io, "add_job: no id returned");
        id = job.integer(0);
    }
    RR_ASSIGN(Stmt task, Stmt::prepare(db_, sq::kInsertTask));
    for (size_t i = 0; i < payloads.size(); ++i) {
        RR_TRY(task.bind(1, id)
                   .bind(2, static_cast<int64_t>(i))
                   .bind(3, payloads[i])
                   .bind(4, o_.max_attempts)
                   .run());
    }
    RR_TRY(tx.commit());
    return id;
}

Result<OpenedJob> SqliteQueue::open_job(const std::string& source_path,
                                        const std::string& source_key, const std::string& profile,
                                        const std::string& payload, int priority) {
    if (source_key.empty()) {
        return make_error(Errc::invalid_argument, "open_job: the source version key is empty");
    }
    // One writer at a time: the look-up, the insert and the adoption see one state of the file,
    // so of nodes opening the same version at once exactly one creates (or adopts) the row.
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::optional<OpenedJob> found;
    {
        RR_ASSIGN(Stmt find, Stmt::prepare(db_, sq::kFindJob));
        find.bind(1, source_path).bind(2, source_key);
        RR_ASSIGN(bool row, find.step());
        if (row) found = OpenedJob{find.integer(0), false, find.text(1), find.text(2), {}};
    }
    if (!found) {
        OpenedJob out;
        {
            RR_ASSIGN(Stmt ins, Stmt::prepare(db_, sq::kOpenJob));
            ins.bind(1, source_path)
                .bind(2, source_key)
                .bind(3, profile)
                .bind(4, payload)
                .bind(5, o_.node_id)
                .bind(6, priority);
            RR_ASSIGN(bool row, ins.step());
            if (!row) return make_error(Errc::io, "open_job: no row returned");
            out = OpenedJob{ins.integer(0), true, ins.text(1), ins.text(2), {}};
        }
        RR_TRY(tx.commit());
        return out;
    }
    const bool ended = queue_job_ended(found->state);
    if ((found->state != "preparing" && !ended) || found->owner == o_.node_id) return *found;
    {
        RR_ASSIGN(Stmt adopt, Stmt::prepare(db_, sq::kAdoptJob));
        adopt.bind(1, found->id)
            .bind(2, found->owner)
            .bind(3, o_.node_id)
            .bind(4, payload)
            .bind(5, priority)
            .bind(6, o_.max_attempts);
        RR_ASSIGN(bool row, adopt.step());
        if (!row) return *found;  // the owner is alive, or the disposition has finished
        // An ended job is adopted for its disposition only: there is nothing to prepare.
        const std::string state = adopt.text(2);
        found =
            OpenedJob{adopt.integer(0), state == "preparing", adopt.text(1), state, found->owner};
    }
    RR_TRY(tx.commit());
    return *found;
}

Status SqliteQueue::start_tasks(int64_t job_id, const std::vector<std::string>& payloads,
                                bool last_first) {
    const auto n = static_cast<int64_t>(payloads.size());
    {
        RR_ASSIGN(auto tx, Transaction::begin(db_));
        bool started = false;
        {
            RR_ASSIGN(Stmt start, Stmt::prepare(db_, sq::kStartJob));
            start.bind(1, job_id).bind(2, o_.node_id).bind(3, n);
            RR_ASSIGN(started, start.step());
        }
        if (started) {
            RR_ASSIGN(Stmt task, Stmt::prepare(db_, sq::kInsertTask));
            // Ids in insertion order: the last payload's first when it leads.
            std::vector<int64_t> order;
            if (last_first && n > 0) order.push_back(n - 1);
            for (int64_t i = 0; i < n - (last_first && n > 0 ? 1 : 0); ++i) order.push_back(i);
            for (int64_t i : order) {
                RR_TRY(task.bind(1, job_id)
                           .bind(2, i)
                           .bind(3, payloads[static_cast<size_t>(i)])
                           .bind(4, o_.max_attempts)
                           .run());
            }
            return tx.commit();
        }
    }
    // Not preparing or not ours: fine only when this very plan already started it.
    RR_ASSIGN(const JobView j, job(job_id));
    const bool ours = j.owner == o_.node_id;
    const bool started = j.state == "running" || j.state == "joining" || j.state == "done";
    if (ours && started && j.chunks_total == n) return {};
    return make_error(Errc::conflict, "job " + std::to_string(job_id) + " cannot be started by " +
                                          o_.node_id + " (owner '" + j.owner + "', state " +
                                          j.state + ", " + std::to_string(j.chunks_total) +
                                          " tasks)");
}

Status SqliteQueue::end_job(int64_t job_id, const std::string& state, const std::string& error) {
    if (state != "failed" && state != "cancelled") {
        return make_error(Errc::invalid_argument, "a job ends failed or cancelled");
    }
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::string now;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kJobState));
        s.bind(1, job_id);
        RR_ASSIGN(bool row, s.step());
        if (!row) return make_error(Errc::not_found, "no job " + std::to_string(job_id));
        now = s.text(0);
    }
    if (now != "preparing" && now != "running" && now != "joining") return {};
    RR_ASSIGN(Stmt tasks, Stmt::prepare(db_, sq::kEndTasks));
    RR_TRY(tasks.bind(1, job_id).run());
    RR_ASSIGN(Stmt end, Stmt::prepare(db_, sq::kEndJob));
    RR_TRY(end.bind(1, job_id).bind(2, state).bind(3, error).run());
    return tx.commit();
}

Status SqliteQueue::record_output(int64_t job_id, int64_t size, const std::string& checksum) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kRecordOutput));
        s.bind(1, job_id).bind(2, o_.node_id).bind(3, size).bind(4, checksum);
        RR_ASSIGN(int64_t n, count_rows(s));
        if (n == 0) {
            return make_error(Errc::conflict, "job " + std::to_string(job_id) +
                                                  " is not waiting for this node to join it");
        }
    }
    return tx.commit();
}

Result<bool> SqliteQueue::take_over_join(int64_t job_id, const std::string& dead_joiner) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    int64_t n = 0;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kTakeOverJoin));
        s.bind(1, job_id).bind(2, o_.node_id).bind(3, dead_joiner);
        RR_ASSIGN(n, count_rows(s));
    }
    RR_TRY(tx.commit());
    return n == 1;
}

Result<std::vector<OrphanedJob>> SqliteQueue::orphaned_jobs(int limit) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kOrphanedJobs));
    s.bind(1, o_.node_id).bind(2, limit);
    std::vector<OrphanedJob> out;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) return out;
        out.push_back(
            OrphanedJob{s.integer(0), s.text(1), s.text(2), s.text(3), s.text(4), s.text(5)});
    }
}

Result<std::optional<OpenedJob>> SqliteQueue::find_job(const std::string& source_path,
                                                       const std::string& source_key) {
    RR_ASSIGN(Stmt find, Stmt::prepare(db_, sq::kFindJob));
    find.bind(1, source_path).bind(2, source_key);
    RR_ASSIGN(bool row, find.step());
    if (!row) return std::optional<OpenedJob>();
    return std::optional<OpenedJob>(
        OpenedJob{find.integer(0), false, find.text(1), find.text(2), {}});
}

Result<std::optional<ContentHolder>> SqliteQueue::record_content(int64_t job_id,
                                                                 const std::string& checksum,
                                                                 int64_t output_gone) {
    // One writer at a time: the look and the record see one state of the file, so of owners
    // recording one content at once the first records and the others find it.
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    if (output_gone) {
        RR_ASSIGN(Stmt release, Stmt::prepare(db_, sq::kReleaseContent));
        RR_TRY(release.bind(1, output_gone).bind(2, checksum).run());
    }
    std::optional<ContentHolder> holder;
    {
        RR_ASSIGN(Stmt find, Stmt::prepare(db_, sq::kContentHolder));
        find.bind(1, job_id).bind(2, checksum);
        RR_ASSIGN(bool row, find.step());
        if (row) holder = ContentHolder{find.integer(0), find.text(1), find.text(2), find.text(3)};
    }
    if (!holder) {
        RR_ASSIGN(Stmt rec, Stmt::prepare(db_, sq::kRecordContent));
        rec.bind(1, job_id).bind(2, checksum);
        RR_ASSIGN(int64_t n, count_rows(rec));
        if (n == 0) return make_error(Errc::not_found, "no job " + std::to_string(job_id));
    }
    RR_TRY(tx.commit());
    return holder;
}

Result<std::vector<int64_t>> SqliteQueue::unfinished_joins() {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kUnfinishedJoins));
    s.bind(1, o_.node_id);
    std::vector<int64_t> out;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) return out;
        out.push_back(s.integer(0));
    }
}

Result<bool> SqliteQueue::claim_disposal(int64_t job_id) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    bool claimed = false;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kClaimDisposal));
        s.bind(1, job_id).bind(2, o_.node_id);
        RR_ASSIGN(claimed, s.step());
    }
    RR_TRY(tx.commit());
    return claimed;
}

Result<bool> SqliteQueue::finish_disposal(int64_t job_id) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    bool finished = false;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kFinishDisposal));
        s.bind(1, job_id).bind(2, o_.node_id);
        RR_ASSIGN(finished, s.step());
    }
    RR_TRY(tx.commit());
    return finished;
}

Result<bool> SqliteQueue::retire_job(int64_t job_id) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    bool retired = false;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kRetireJob));
        s.bind(1, job_id);
        RR_ASSIGN(retired, s.step());
    }
    RR_TRY(tx.commit());
    return retired;
}

Result<std::vector<TaskView>> SqliteQueue::tasks(int64_t job_id) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kListTasks));
    s.bind(1, job_id);
    std::vector<TaskView> out;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) return out;
        TaskView t;
        t.id = s.integer(0);
        t.idx = static_cast<int>(s.integer(1));
        t.state = s.text(2);
        t.attempt = static_cast<int>(s.integer(3));
        t.node = s.optional_text(4);
        t.lease_owner = s.optional_text(5);
        t.payload = s.text(6);
        t.result = s.optional_text(7);
        t.priority = static_cast<int>(s.integer(8));
        t.frames_done = s.integer(9);
        out.push_back(std::move(t));
    }
}

Result<std::vector<Lease>> SqliteQueue::claim(int n) {
    if (n <= 0) return std::vector<Lease>{};  // SQLite reads a negative LIMIT as none
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::vector<Lease> out;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kClaim));
        s.bind(1, o_.node_id).bind(2, n).bind(3, o_.lease_seconds);
        RR_ASSIGN(out, leases(s));
    }
    RR_TRY(tx.commit());
    return out;
}

Result<std::vector<Lease>> SqliteQueue::renew() {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::vector<Lease> out;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kRenew));
        s.bind(1, o_.node_id).bind(2, o_.lease_seconds);
        RR_ASSIGN(out, leases(s));
    }
    RR_TRY(tx.commit());
    return out;
}

Status SqliteQueue::report_progress(const std::vector<TaskProgress>& progress) {
    if (progress.empty()) return {};
    // One transaction for the batch, as PostgreSQL's one statement.
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kReportProgress));
        for (const auto& p : progress) {
            RR_TRY(
                s.bind(1, o_.node_id).bind(2, p.task_id).bind(3, p.epoch).bind(4, p.frames).run());
        }
    }
    return tx.commit();
}

Result<Completion> SqliteQueue::complete(const Lease& lease, const std::string& result) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    int64_t job_id = 0;
    {
        RR_ASSIGN(Stmt done, Stmt::prepare(db_, sq::kCompleteTask));
        done.bind(1, lease.task_id).bind(2, o_.node_id).bind(3, lease.epoch).bind(4, result);
        RR_ASSIGN(bool row, done.step());
        if (row) job_id = done.integer(1);
    }
    if (job_id == 0) {
        // Fenced off, or this very completion accepted before: only the latter has our node
        // and epoch.
        RR_ASSIGN(Stmt earlier, Stmt::prepare(db_, sq::kCompletedEarlier));
        earlier.bind(1, lease.task_id).bind(2, o_.node_id).bind(3, lease.epoch);
        RR_ASSIGN(bool row, earlier.step());
        if (row) return Completion{true, earlier.integer(1) != 0, earlier.integer(0)};
        return Completion{false, false, lease.job_id};
    }
    RR_ASSIGN(Stmt node, Stmt::prepare(db_, sq::kCountDone));
    RR_TRY(node.bind(1, o_.node_id).run());
    Completion out{true, false, job_id};
    {
        RR_ASSIGN(Stmt counted, Stmt::prepare(db_, sq::kCountJob));
        counted.bind(1, job_id).bind(2, o_.node_id).bind(3, lease.task_id);
        RR_ASSIGN(bool row, counted.step());
        if (row) out.job_ready = counted.integer(1) != 0;
    }
    RR_TRY(tx.commit());
    return out;
}

Status SqliteQueue::fail_job(int64_t job_id, int64_t task_id) {
    // rr_fail_job's text: every attempt of the chunk that exhausted its attempts.
    std::string list;
    int idx = 0;
    int count = 0;
    {
        RR_ASSIGN(Stmt a, Stmt::prepare(db_, sq::kTaskAttemptsById));
        a.bind(1, task_id);
        for (;;) {
            RR_ASSIGN(bool row, a.step());
            if (!row) break;
            idx = static_cast<int>(a.integer(0));
            if (count++) list += "; ";
            list +=
                "attempt " + std::to_string(a.integer(1)) + " on " + a.text(2) + ": " + a.text(3);
        }
    }
    RR_ASSIGN(Stmt fail, Stmt::prepare(db_, sq::kFailJob));
    fail.bind(1, job_id);
    if (count > 0) {
        fail.bind(2, "chunk " + std::to_string(idx) + " failed after " + std::to_string(count) +
                         " attempts: " + list);
    } else {
        fail.bind_null(2);
    }
    RR_TRY(fail.run());
    RR_ASSIGN(Stmt siblings, Stmt::prepare(db_, sq::kCancelSiblings));
    RR_TRY(siblings.bind(1, job_id).run());
    return {};
}

Result<FailOutcome> SqliteQueue::fail(const Lease& lease, const std::string& error) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    FailOutcome out{false, false, false, lease.job_id};
    int attempt = 0;
    int64_t epoch = 0;
    {
        RR_ASSIGN(Stmt f, Stmt::prepare(db_, sq::kFailAttempt));
        f.bind(1, lease.task_id)
            .bind(2, o_.node_id)
            .bind(3, lease.epoch)
            .bind(5, o_.backoff_seconds)
            .bind(6, o_.backoff_max_seconds);
        RR_ASSIGN(bool row, f.step());
        if (!row) return out;
        out = FailOutcome{true, f.integer(3) != 0, false, f.integer(1)};
        attempt = static_cast<int>(f.integer(4));
        epoch = f.integer(5);
    }
    RR_ASSIGN(Stmt a, Stmt::prepare(db_, sq::kInsertAttempt));
    RR_TRY(a.bind(1, lease.task_id)
               .bind(2, attempt)
               .bind(3, epoch)
               .bind(4, o_.node_id)
               .bind(5, error)
               .run());
    if (out.task_failed) {
        RR_TRY(fail_job(out.job_id, lease.task_id));
        out.job_failed = true;
    }
    RR_TRY(tx.commit());
    return out;
}

Result<std::vector<Reaped>> SqliteQueue::reap(int limit) {
    if (limit <= 0) return std::vector<Reaped>{};
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::vector<std::pair<int64_t, std::string>> expired;  // task id, the lease's owner
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kExpired));
        s.bind(1, limit);
        for (;;) {
            RR_ASSIGN(bool row, s.step());
            if (!row) break;
            expired.emplace_back(s.integer(0), s.text(1));
        }
    }
    std::vector<Reaped> out;
    RR_ASSIGN(Stmt reap, Stmt::prepare(db_, sq::kReapTask));
    RR_ASSIGN(Stmt attempt, Stmt::prepare(db_, sq::kInsertAttempt));
    for (const auto& [task_id, owner] : expired) {
        reap.bind(1, task_id).bind(5, o_.backoff_seconds).bind(6, o_.backoff_max_seconds);
        RR_ASSIGN(bool row, reap.step());
        if (!row) {
            reap.reset();
            continue;
        }
        Reaped r{reap.integer(0), reap.integer(1), static_cast<int>(reap.integer(2)),
                 reap.integer(3) != 0, owner};
        const int64_t n = reap.integer(4);
        const int64_t epoch = reap.integer(5);
        reap.reset();
        RR_TRY(attempt.bind(1, task_id)
                   .bind(2, n)
                   .bind(3, epoch)
                   .bind(4, owner)
                   .bind(5, "lease expired")
                   .run());
        if (r.failed) RR_TRY(fail_job(r.job_id, r.task_id));
        out.push_back(std::move(r));
    }
    RR_TRY(tx.commit());
    return out;
}

Result<int64_t> SqliteQueue::release() {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    int64_t n = 0;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kRelease));
        s.bind(1, o_.node_id);
        RR_ASSIGN(n, count_rows(s));
    }
    RR_TRY(tx.commit());
    return n;
}

Result<int64_t> SqliteQueue::leave() {
    RR_ASSIGN(const int64_t released, release());
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kNodeGone));
    RR_TRY(s.bind(1, o_.node_id).bind(2, incarnation_).run());
    return released;
}

Result<QueueDepth> SqliteQueue::queue_depth() {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kQueueDepth));
    RR_ASSIGN(bool row, s.step());
    if (!row) return QueueDepth{};
    return QueueDepth{s.integer(0), s.integer(1)};
}

Result<std::optional<std::string>> SqliteQueue::cluster_id() {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kClusterId));
    RR_ASSIGN(bool row, s.step());
    if (!row) return std::optional<std::string>();
    return std::optional<std::string>(s.text(0));
}

Result<std::string> SqliteQueue::init_cluster_id(const std::string& id) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt ins, Stmt::prepare(db_, sq::kInitClusterId));
        RR_TRY(ins.bind(1, id).run());
    }
    RR_ASSIGN(auto held, cluster_id());
    RR_TRY(tx.commit());
    if (!held) return make_error(Errc::io, "init_cluster_id: no id after writing one");
    return *held;
}

Status SqliteQueue::register_node(const NodeRegistration& reg) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kRegisterNode));
        s.bind(1, o_.node_id)
            .bind(2, incarnation_)
            .bind(3, reg.host)
            .bind(4, reg.pid)
            .bind(5, reg.version)
            .bind(6, reg.workers)
            .bind(7, reg.stale_after_seconds);
        RR_ASSIGN(int64_t n, count_rows(s));
        if (n == 0) {
            return make_error(Errc::conflict,
                              "cluster: node id '" + o_.node_id +
                                  "' is in use by a live node; set cluster.node_id");
        }
    }
    RR_ASSIGN(Stmt expire, Stmt::prepare(db_, sq::kExpireNodeLeases));
    RR_TRY(expire.bind(1, o_.node_id).run());
    return tx.commit();
}

Result<std::string> SqliteQueue::node_heartbeat(int busy,
                                                const std::optional<std::string>& storage_problem) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::string state;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kNodeHeartbeat));
        s.bind(1, o_.node_id).bind(2, incarnation_).bind(3, busy).bind(4, storage_problem);
        RR_ASSIGN(bool row, s.step());
        if (!row) {
            return make_error(Errc::conflict, "cluster: node id '" + o_.node_id +
                                                  "' was taken over by another process");
        }
        state = s.text(0);
    }
    RR_TRY(tx.commit());
    return state;
}

Status SqliteQueue::set_node_state(const std::string& node_id, const std::string& state) {
    if (state != "active" && state != "draining") {
        return make_error(Errc::invalid_argument, "a node can be set active or draining");
    }
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kSetNodeState));
        s.bind(1, node_id).bind(2, state);
        RR_ASSIGN(int64_t n, count_rows(s));
        if (n == 0) return make_error(Errc::not_found, "no live node '" + node_id + "'");
    }
    return tx.commit();
}

Result<std::vector<std::string>> SqliteQueue::mark_lost(double stale_seconds) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    std::vector<std::string> out;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kMarkLost));
        s.bind(1, stale_seconds);
        for (;;) {
            RR_ASSIGN(bool row, s.step());
            if (!row) break;
            out.push_back(s.text(0));
        }
    }
    RR_TRY(tx.commit());
    return out;
}

Result<std::vector<NodeView>> SqliteQueue::nodes() {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kListNodes));
    std::vector<NodeView> out;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) return out;
        out.push_back(read_node_row(s));
    }
}

Status SqliteQueue::finish_job(int64_t job_id, const std::string& result) {
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kFinishJob));
        s.bind(1, job_id).bind(2, o_.node_id).bind(3, result);
        RR_ASSIGN(int64_t n, count_rows(s));
        if (n == 0) {
            return make_error(Errc::conflict, "job " + std::to_string(job_id) +
                                                  " is not waiting for this node to join it");
        }
    }
    return tx.commit();
}

Result<JobView> SqliteQueue::job(int64_t job_id) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kJob));
    s.bind(1, job_id);
    RR_ASSIGN(bool row, s.step());
    if (!row) return make_error(Errc::not_found, "no job " + std::to_string(job_id));
    return read_job_row(s);
}

Result<std::vector<FarmJob>> SqliteQueue::farm_jobs(int limit) {
    // Two reads, as on PostgreSQL: for display, a lease taken between them does not matter.
    RR_ASSIGN(Stmt jobs, Stmt::prepare(db_, sq::kFarmJobs));
    jobs.bind(1, limit);
    std::vector<FarmJob> out;
    for (;;) {
        RR_ASSIGN(bool row, jobs.step());
        if (!row) break;
        out.push_back({read_job_row(jobs), {}});
    }
    RR_ASSIGN(Stmt leases, Stmt::prepare(db_, sq::kFarmLeases));
    for (;;) {
        RR_ASSIGN(bool row, leases.step());
        if (!row) return out;
        add_farm_leases(out, leases);
    }
}

Result<std::vector<AttemptView>> SqliteQueue::attempts(int64_t job_id, int idx) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kTaskAttempts));
    s.bind(1, job_id).bind(2, idx);
    std::vector<AttemptView> out;
    for (;;) {
        RR_ASSIGN(bool row, s.step());
        if (!row) return out;
        out.push_back(
            AttemptView{static_cast<int>(s.integer(0)), s.integer(1), s.text(2), s.text(3)});
    }
}

Result<int64_t> SqliteQueue::prune(double retention_days) {
    const double seconds = retention_days * 86400.0;
    RR_ASSIGN(auto tx, Transaction::begin(db_));
    int64_t jobs = 0;
    {
        RR_ASSIGN(Stmt s, Stmt::prepare(db_, sq::kPruneJobs));
        s.bind(1, seconds);
        RR_ASSIGN(jobs, count_rows(s));
    }
    RR_ASSIGN(Stmt nodes, Stmt::prepare(db_, sq::kPruneNodes));
    RR_TRY(nodes.bind(1, seconds).run());
    RR_TRY(tx.commit());
    return jobs;
}

}  // namespace rr::store
