#include "store/job_store.h"

#include <chrono>

#include "store/migrations.h"

namespace rr::store {
namespace {

constexpr const char* kJobColumns =
    "id, source_path, input_path, watch_path, output_path, size, mtime_ns, checksum, profile, "
    "priority, state, "
    "progress, attempts, error, duplicate_of, frames_total, chunks_total, sidecar, created_at, "
    "updated_at, "
    "started_at, finished_at, reprocess_of, interruptions, rerun";

constexpr const char* kChunkColumns =
    "job_id, idx, first_frame, frames, start_time, end_time, state, file, bytes, checksum, worker, "
    "attempts, "
    "seconds, error, result, started_at, finished_at, node";

JobRow read_job(const Stmt& s) {
    JobRow r;
    r.id = s.integer(0);
    r.source_path = s.text(1);
    r.input_path = s.text(2);
    r.watch_path = s.optional_text(3);
    r.output_path = s.optional_text(4);
    r.size = s.integer(5);
    r.mtime_ns = s.integer(6);
    r.checksum = s.optional_text(7);
    r.profile = s.text(8);
    r.priority = static_cast<int>(s.integer(9));
    r.state = parse_job_state(s.text(10)).value_or(JobState::failed);
    r.progress = s.real(11);
    r.attempts = static_cast<int>(s.integer(12));
    r.error = s.optional_text(13);
    r.duplicate_of = s.optional_integer(14);
    r.frames_total = s.optional_integer(15);
    r.chunks_total = s.optional_integer(16);
    r.interruptions = static_cast<int>(s.integer(23));
    r.sidecar = s.optional_text(17);
    r.created_at = s.real(18);
    r.updated_at = s.real(19);
    r.started_at = s.optional_real(20);
    r.finished_at = s.optional_real(21);
    r.reprocess_of = s.optional_integer(22);
    r.rerun = s.integer(24) != 0;
    return r;
}

ChunkState parse_chunk_state(const std::string& s) {
    if (s == "running") return ChunkState::running;
    if (s == "done") return ChunkState::done;
    if (s == "failed") return ChunkState::failed;
    return ChunkState::pending;
}

ChunkRow read_chunk(const Stmt& s) {
    ChunkRow c;
    c.job_id = s.integer(0);
    c.task = TaskRef::from_index(static_cast<int>(s.integer(1)));
    c.first_frame = s.integer(2);
    c.frames = s.integer(3);
    c.start_time = s.real(4);
    c.end_time = s.real(5);
    c.state = parse_chunk_state(s.text(6));
    c.file = s.optional_text(7);
    c.bytes = s.optional_integer(8);
    c.checksum = s.optional_text(9);
    c.worker = s.optional_integer(10);
    c.attempts = static_cast<int>(s.integer(11));
    c.seconds = s.optional_real(12);
    c.error = s.optional_text(13);
    c.result = s.optional_text(14);
    c.started_at = s.optional_real(15);
    c.finished_at = s.optional_real(16);
    c.node = s.optional_text(17);
    return c;
}

std::string placeholders(size_t n) {
    std::string p;
    for (size_t i = 0; i < n; ++i) p += i ? ",?" : "?";
    return p;
}

Result<std::vector<JobRow>> collect_jobs(Stmt& s) {
    std::vector<JobRow> rows;
    while (true) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        rows.push_back(read_job(s));
    }
    return rows;
}

// One column of one job, with its updated_at. Column names come from this file only.
template <class T>
Status update_job(const Db& db, int64_t id, std::string_view column, const T& value) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db, "UPDATE jobs SET " + std::string(column) +
                                            " = ?, updated_at = ? WHERE id = ?"));
    s.bind(1, value).bind(2, now_seconds()).bind(3, id);
    return s.run();
}

}  // namespace

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

const std::vector<JobState>& all_job_states() {
    static const std::vector<JobState> kAll = {
        JobState::queued,     JobState::probing,   JobState::running,
        JobState::assembling, JobState::done,      JobState::done_with_warnings,
        JobState::failed,     JobState::cancelled, JobState::duplicate};
    return kAll;
}

std::string_view to_string(JobState s) {
    switch (s) {
        case JobState::queued:
            return "queued";
        case JobState::probing:
            return "probing";
        case JobState::running:
            return "running";
        case JobState::assembling:
            return "assembling";
        case JobState::done:
            return "done";
        case JobState::done_with_warnings:
            return "done_with_warnings";
        case JobState::failed:
            return "failed";
        case JobState::cancelled:
            return "cancelled";
        case JobState::duplicate:
            return "duplicate";
    }
    return "failed";
}

std::string_view to_string(ChunkState s) {
    switch (s) {
        case ChunkState::pending:
            return "pending";
        case ChunkState::running:
            return "running";
        case ChunkState::done:
            return "done";
        case ChunkState::failed:
            return "failed";
    }
    return "pending";
}

std::optional<JobState> parse_job_state(std::string_view s) {
    for (JobState st : all_job_states()) {
        if (to_string(st) == s) return st;
    }
    return std::nullopt;
}

bool is_final(JobState s) {
    return published(s) || s == JobState::failed || s == JobState::cancelled ||
           s == JobState::duplicate;
}

bool published(JobState s) {
    return s == JobState::done || s == JobState::done_with_warnings;
}

Result<JobStore> JobStore::open(const std::filesystem::path& path) {
    RR_ASSIGN(Db db, Db::open(path));
    RR_TRY(migrate(db));
    return JobStore(std::move(db));
}

Result<JobStore> JobStore::open_read_only(const std::filesystem::path& path) {
    RR_ASSIGN(Db db, Db::open(path, true));
    return JobStore(std::move(db));
}

Result<std::vector<int64_t>> JobStore::insert_jobs(const std::vector<NewJob>& jobs) {
    std::vector<int64_t> ids;
    if (jobs.empty()) return ids;
    RR_ASSIGN(Transaction tx, Transaction::begin(db_));
    RR_ASSIGN(
        Stmt s,
        Stmt::prepare(db_,
                      "INSERT INTO jobs (source_path, input_path, watch_path, output_path, size, "
                      "mtime_ns, profile, priority, state, created_at, updated_at, reprocess_of, "
                      "rerun) VALUES (?,?,?,?,?,?,?,?,'queued',?,?,?,?)"));
    const double now = now_seconds();
    for (const auto& j : jobs) {
        s.bind(1, j.source_path)
            .bind(2, j.input_path.value_or(j.source_path))
            .bind(3, j.watch_path)
            .bind(4, j.output_path);
        s.bind(5, j.size)
            .bind(6, j.mtime_ns)
            .bind(7, j.profile)
            .bind(8, j.priority)
            .bind(9, now)
            .bind(10, now)
            .bind(11, j.reprocess_of)
            .bind(12, int64_t{j.reprocess_of ? 1 : 0});
        RR_TRY(s.run());
        ids.push_back(db_.last_insert_id());
    }
    RR_TRY(tx.commit());
    return ids;
}

Result<int64_t> JobStore::insert_job(const NewJob& job) {
    RR_ASSIGN(auto ids, insert_jobs({job}));
    return ids.front();
}

Result<std::optional<JobRow>> JobStore::job(int64_t id) {
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_, std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?"));
    s.bind(1, id);
    RR_ASSIGN(bool row, s.step());
    if (!row) return std::optional<JobRow>();
    return std::optional<JobRow>(read_job(s));
}

Result<std::vector<JobRow>> JobStore::jobs(std::optional<JobState> state, int limit, int offset) {
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs";
    if (state) sql += " WHERE state = ?";
    sql += " ORDER BY id DESC LIMIT ? OFFSET ?";
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sql));
    int i = 1;
    if (state) s.bind(i++, to_string(*state));
    s.bind(i, limit);
    s.bind(i + 1, offset);
    return collect_jobs(s);
}

Result<std::vector<JobRow>> JobStore::jobs_in(const std::vector<JobState>& states) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, std::string("SELECT ") + kJobColumns +
                                             " FROM jobs WHERE state IN (" +
                                             placeholders(states.size()) + ") ORDER BY id"));
    for (size_t i = 0; i < states.size(); ++i)
        s.bind(static_cast<int>(i + 1), to_string(states[i]));
    return collect_jobs(s);
}

Result<std::optional<JobRow>> JobStore::next_queued(const std::vector<int64_t>& skip) {
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs WHERE state = 'queued'";
    if (!skip.empty()) sql += " AND id NOT IN (" + placeholders(skip.size()) + ")";
    sql += " ORDER BY priority DESC, id LIMIT 1";
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, sql));
    for (size_t i = 0; i < skip.size(); ++i) s.bind(static_cast<int>(i + 1), skip[i]);
    RR_ASSIGN(bool row, s.step());
    if (!row) return std::optional<JobRow>();
    return std::optional<JobRow>(read_job(s));
}

Result<std::optional<int64_t>> JobStore::find_by_source(const std::string& path, int64_t size,
                                                        int64_t mtime_ns) {
    RR_ASSIGN(Stmt s, Stmt::prepare(
                          db_,
                          "SELECT id FROM jobs WHERE source_path = ? AND size = ? AND mtime_ns = ? "
                          "ORDER BY id DESC LIMIT 1"));
    s.bind(1, path).bind(2, size).bind(3, mtime_ns);
    RR_ASSIGN(bool row, s.step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(s.integer(0));
}

Result<std::vector<int64_t>> JobStore::find_by_content(const std::string& checksum,
                                                       const std::string& profile,
                                                       int64_t other_than) {
    RR_ASSIGN(
        Stmt s,
        Stmt::prepare(db_,
                      "SELECT id FROM jobs WHERE checksum = ? AND profile = ? AND id != ? "
                      "AND state IN ('probing','running','assembling','done','done_with_warnings') "
                      "ORDER BY id"));
    s.bind(1, checksum).bind(2, profile).bind(3, other_than);
    std::vector<int64_t> ids;
    while (true) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        ids.push_back(s.integer(0));
    }
    return ids;
}

Result<std::map<std::string, int64_t>> JobStore::count_by_state() {
    std::map<std::string, int64_t> counts;
    for (JobState st : all_job_states()) counts[std::string(to_string(st))] = 0;
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, "SELECT state, COUNT(*) FROM jobs GROUP BY state"));
    while (true) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        counts[s.text(0)] = s.integer(1);
    }
    return counts;
}

Result<int64_t> JobStore::count_in(JobState state) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, "SELECT COUNT(*) FROM jobs WHERE state = ?"));
    s.bind(1, std::string(to_string(state)));
    RR_ASSIGN(bool row, s.step());
    return row ? s.integer(0) : 0;
}

Status JobStore::set_state(int64_t id, JobState state, const std::optional<std::string>& error) {
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_,
                            "UPDATE jobs SET state = ?, error = ?, updated_at = ?, "
                            "finished_at = CASE WHEN ? THEN ? ELSE NULL END, "
                            "progress = CASE WHEN ? THEN 1 ELSE progress END WHERE id = ?"));
    const double now = now_seconds();
    s.bind(1, to_string(state))
        .bind(2, error)
        .bind(3, now)
        .bind(4, is_final(state) ? 1 : 0)
        .bind(5, now);
    s.bind(6, published(state) ? 1 : 0).bind(7, id);
    return s.run();
}

Status JobStore::set_probed(int64_t id, const std::string& checksum, int64_t frames,
                            int64_t chunks) {
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_,
                            "UPDATE jobs SET checksum = ?, frames_total = ?, chunks_total = ?, "
                            "updated_at = ? WHERE id = ?"));
    s.bind(1, checksum).bind(2, frames).bind(3, chunks).bind(4, now_seconds()).bind(5, id);
    return s.run();
}

Status JobStore::set_progress(int64_t id, double progress) {
    return update_job(db_, id, "progress", progress);
}

Status JobStore::set_input_path(int64_t id, const std::string& path) {
    return update_job(db_, id, "input_path", path);
}

Status JobStore::set_output_path(int64_t id, const std::string& path) {
    return update_job(db_, id, "output_path", path);
}

Status JobStore::set_duplicate(int64_t id, int64_t of) {
    return update_job(db_, id, "duplicate_of", of);
}

Status JobStore::set_sidecar(int64_t id, const std::string& json) {
    return update_job(db_, id, "sidecar", json);
}

Status JobStore::start_attempt(int64_t id) {
    RR_ASSIGN(Stmt s, Stmt::prepare(
                          db_,
                          "UPDATE jobs SET attempts = attempts + 1, started_at = ?, updated_at = ? "
                          "WHERE id = ?"));
    const double now = now_seconds();
    s.bind(1, now).bind(2, now).bind(3, id);
    return s.run();
}

Status JobStore::queue_again(int64_t id, bool rerun) {
    // rerun: set by a retry; a requeue leaves the mark as it was.
    RR_ASSIGN(Stmt s, Stmt::prepare(db_,
                                    "UPDATE jobs SET state = 'queued', error = NULL, "
                                    "finished_at = NULL, rerun = max(rerun, ?), updated_at = ? "
                                    "WHERE id = ?"));
    s.bind(1, int64_t{rerun ? 1 : 0}).bind(2, now_seconds()).bind(3, id);
    return s.run();
}

Status JobStore::requeue(int64_t id) {
    return queue_again(id, false);
}

Status JobStore::retry(int64_t id) {
    return queue_again(id, true);
}

Status JobStore::clear_rerun(int64_t id) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, "UPDATE jobs SET rerun = 0 WHERE id = ? AND rerun <> 0"));
    s.bind(1, id);
    return s.run();
}

Result<int> JobStore::add_interruption(int64_t id) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_,
                                    "UPDATE jobs SET interruptions = interruptions + 1, "
                                    "updated_at = ? WHERE id = ? RETURNING interruptions"));
    s.bind(1, now_seconds()).bind(2, id);
    RR_ASSIGN(bool row, s.step());
    if (!row) return make_error(Errc::not_found, "no job " + std::to_string(id));
    return static_cast<int>(s.integer(0));
}

Status JobStore::replace_chunks(int64_t job_id, const std::vector<ChunkRow>& chunks) {
    RR_ASSIGN(Transaction tx, Transaction::begin(db_));
    {
        RR_ASSIGN(Stmt del, Stmt::prepare(db_, "DELETE FROM chunks WHERE job_id = ?"));
        del.bind(1, job_id);
        RR_TRY(del.run());
        RR_ASSIGN(Stmt ins, Stmt::prepare(db_, std::string("INSERT INTO chunks (") + kChunkColumns +
                                                   ") VALUES (" + placeholders(18) + ")"));
        for (const auto& c : chunks) {
            ins.bind(1, job_id)
                .bind(2, c.task.index())
                .bind(3, c.first_frame)
                .bind(4, c.frames)
                .bind(5, c.start_time);
            ins.bind(6, c.end_time)
                .bind(7, to_string(c.state))
                .bind(8, c.file)
                .bind(9, c.bytes)
                .bind(10, c.checksum);
            ins.bind(11, c.worker)
                .bind(12, c.attempts)
                .bind(13, c.seconds)
                .bind(14, c.error)
                .bind(15, c.result);
            ins.bind(16, c.started_at).bind(17, c.finished_at).bind(18, c.node);
            RR_TRY(ins.run());
        }
    }
    return tx.commit();
}

Result<std::vector<ChunkRow>> JobStore::chunks(int64_t job_id) {
    RR_ASSIGN(Stmt s, Stmt::prepare(db_, std::string("SELECT ") + kChunkColumns +
                                             " FROM chunks WHERE job_id = ? ORDER BY idx"));
    s.bind(1, job_id);
    std::vector<ChunkRow> rows;
    while (true) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        rows.push_back(read_chunk(s));
    }
    return rows;
}

Status JobStore::chunk_done(const ChunkRow& c) {
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_,
                            "UPDATE chunks SET state = 'done', file = ?, bytes = ?, checksum = ?, "
                            "seconds = ?, result = ?, finished_at = ?, node = ?, "
                            "started_at = coalesce(?, started_at), worker = coalesce(?, worker), "
                            "attempts = max(attempts, ?) WHERE job_id = ? AND idx = ?"));
    s.bind(1, c.file).bind(2, c.bytes).bind(3, c.checksum).bind(4, c.seconds).bind(5, c.result);
    s.bind(6, c.finished_at.value_or(now_seconds())).bind(7, c.node).bind(8, c.started_at);
    s.bind(9, c.worker).bind(10, c.attempts).bind(11, c.job_id).bind(12, c.task.index());
    RR_TRY(s.run());
    // Progress: whatever interrupted this job before was not the job's fault. Only a video
    // chunk counts: the audio task finishes early on every run, also of a file whose video
    // keeps taking the daemon down.
    if (c.task.is_audio()) return {};
    RR_ASSIGN(Stmt reset, Stmt::prepare(db_,
                                        "UPDATE jobs SET interruptions = 0 "
                                        "WHERE id = ? AND interruptions > 0"));
    reset.bind(1, c.job_id);
    return reset.run();
}

Status JobStore::chunk_failed(int64_t job_id, TaskRef task, const std::string& error) {
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_,
                            "UPDATE chunks SET state = 'failed', error = ?, finished_at = ? "
                            "WHERE job_id = ? AND idx = ?"));
    s.bind(1, error).bind(2, now_seconds()).bind(3, job_id).bind(4, task.index());
    return s.run();
}

Result<std::map<int64_t, std::vector<std::string>>> JobStore::chunk_nodes(
    const std::vector<int64_t>& job_ids) {
    std::map<int64_t, std::vector<std::string>> nodes;
    if (job_ids.empty()) return nodes;
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_, "SELECT DISTINCT job_id, node FROM chunks WHERE job_id IN (" +
                                     placeholders(job_ids.size()) +
                                     ") AND idx >= 0 AND node IS NOT NULL ORDER BY job_id, node"));
    for (size_t i = 0; i < job_ids.size(); ++i) s.bind(static_cast<int>(i + 1), job_ids[i]);
    while (true) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        nodes[s.integer(0)].push_back(s.text(1));
    }
    return nodes;
}

Status JobStore::add_event(std::optional<int64_t> job_id, const std::string& kind,
                           const std::string& message) {
    RR_ASSIGN(Stmt s, Stmt::prepare(
                          db_, "INSERT INTO events (job_id, at, kind, message) VALUES (?,?,?,?)"));
    s.bind(1, job_id).bind(2, now_seconds()).bind(3, kind).bind(4, message);
    return s.run();
}

Result<std::vector<EventRow>> JobStore::events(int64_t job_id, int limit) {
    RR_ASSIGN(Stmt s,
              Stmt::prepare(db_,
                            "SELECT id, job_id, at, kind, message FROM events WHERE job_id = ? "
                            "ORDER BY id DESC LIMIT ?"));
    s.bind(1, job_id).bind(2, limit);
    std::vector<EventRow> rows;
    while (true) {
        RR_ASSIGN(bool row, s.step());
        if (!row) break;
        rows.push_back({s.integer(0), s.optional_integer(1), s.real(2), s.text(3), s.text(4)});
    }
    return rows;
}

}  // namespace rr::store
