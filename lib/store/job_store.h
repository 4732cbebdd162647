#pragma once
// The daemon's durable record: jobs, their chunks and events. All SQL lives in lib/store.
// A JobStore is used from one thread (the loop thread) at a time.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "store/db.h"
#include "store/task_ref.h"

namespace rr::store {

// done_with_warnings: the output was published but something after it went wrong (the source
// could not be moved or deleted); the job's error says what.
enum class JobState {
    queued,
    probing,
    running,
    assembling,
    done,
    done_with_warnings,
    failed,
    cancelled,
    duplicate
};
enum class ChunkState { pending, running, done, failed };

[[nodiscard]] std::string_view to_string(JobState s);
[[nodiscard]] std::string_view to_string(ChunkState s);
[[nodiscard]] std::optional<JobState> parse_job_state(std::string_view s);
[[nodiscard]] bool is_final(JobState s);  // done(_with_warnings), failed, cancelled, duplicate
// Whether the job published an output: done or done_with_warnings.
[[nodiscard]] bool published(JobState s);
[[nodiscard]] const std::vector<JobState>& all_job_states();

inline std::ostream& operator<<(std::ostream& os, JobState s) {
    return os << to_string(s);
}
inline std::ostream& operator<<(std::ostream& os, ChunkState s) {
    return os << to_string(s);
}

struct NewJob {
    std::string source_path;
    std::optional<std::string> input_path;  // where the file is now, when not at source_path
    std::optional<std::string> watch_path;
    std::optional<std::string> output_path;
    int64_t size = 0;
    int64_t mtime_ns = 0;
    std::string profile;
    int priority = 0;
    std::optional<int64_t> reprocess_of;  // made again on request: dedupe does not apply
};

struct JobRow {
    int64_t id = 0;
    std::string source_path, input_path;
    std::optional<std::string> watch_path, output_path;
    int64_t size = 0, mtime_ns = 0;
    std::optional<std::string> checksum;
    std::string profile;
    int priority = 0;
    JobState state = JobState::queued;
    double progress = 0;
    int attempts = 0;
    // Runs in a row cut short by the daemon dying (not a clean stop) without finishing a chunk.
    int interruptions = 0;
    std::optional<std::string> error;
    std::optional<int64_t> duplicate_of, frames_total, chunks_total;
    std::optional<std::string> sidecar;
    double created_at = 0, updated_at = 0;
    std::optional<double> started_at, finished_at;
    std::optional<int64_t> reprocess_of;
    // A run asked for (retry, reprocess): its prepare makes a new queue job when the file's
    // has ended, instead of following that one to its end. Cleared once the run's queue job is
    // open, so a restart resumes the run rather than starting the file again.
    bool rerun = false;
};

struct ChunkRow {
    int64_t job_id = 0;
    TaskRef task = TaskRef::chunk(0);
    int64_t first_frame = 0, frames = 0;
    double start_time = 0, end_time = 0;
    ChunkState state = ChunkState::pending;
    std::optional<std::string> file, checksum, error, result;
    std::optional<int64_t> bytes, worker;
    int attempts = 0;
    std::optional<double> seconds, started_at, finished_at;
    // Cluster mode: the node whose completion the queue accepted; none for a job run here alone.
    std::optional<std::string> node;
};

struct EventRow {
    int64_t id = 0;
    std::optional<int64_t> job_id;
    double at = 0;
    std::string kind, message;
};

[[nodiscard]] double now_seconds();  // wall clock, Unix seconds

class JobStore {
  public:
    // Opens (creating) the database and applies pending migrations.
    [[nodiscard]] static Result<JobStore> open(const std::filesystem::path& path);
    // Opens an existing database for reading only (tools, tests); no migrations.
    [[nodiscard]] static Result<JobStore> open_read_only(const std::filesystem::path& path);

    // Jobs
    [[nodiscard]] Result<std::vector<int64_t>> insert_jobs(const std::vector<NewJob>& jobs);
    [[nodiscard]] Result<int64_t> insert_job(const NewJob& job);
    [[nodiscard]] Result<std::optional<JobRow>> job(int64_t id);
    [[nodiscard]] Result<std::vector<JobRow>> jobs(std::optional<JobState> state, int limit,
                                                   int offset);
    [[nodiscard]] Result<std::vector<JobRow>> jobs_in(const std::vector<JobState>& states);
    // The queued job to start next: highest priority, then oldest.
    [[nodiscard]] Result<std::optional<JobRow>> next_queued(const std::vector<int64_t>& skip);
    // A job already seen for this exact file (path, size, mtime), in any state.
    [[nodiscard]] Result<std::optional<int64_t>> find_by_source(const std::string& path,
                                                                int64_t size, int64_t mtime_ns);
    // Jobs with the same content and profile that published or are still going (not failed,
    // cancelled or duplicate), oldest first.
    [[nodiscard]] Result<std::vector<int64_t>> find_by_content(const std::string& checksum,
                                                               const std::string& profile,
                                                               int64_t other_than);
    [[nodiscard]] Result<std::map<std::string, int64_t>> count_by_state();
    // Jobs in one state (served by the state index; cheap enough for a 1 s status line).
    [[nodiscard]] Result<int64_t> count_in(JobState state);

    [[nodiscard]] Status set_state(int64_t id, JobState state,
                                   const std::optional<std::string>& error = std::nullopt);
    [[nodiscard]] Status set_probed(int64_t id, const std::string& checksum, int64_t frames,
                                    int64_t chunks);
    [[nodiscard]] Status set_progress(int64_t id, double progress);
    [[nodiscard]] Status set_input_path(int64_t id, const std::string& path);
    [[nodiscard]] Status set_output_path(int64_t id, const std::string& path);
    [[nodiscard]] Status set_duplicate(int64_t id, int64_t of);
    [[nodiscard]] Status set_sidecar(int64_t id, const std::string& json);
    [[nodiscard]] Status start_attempt(int64_t id);  // attempts + 1, started_at
    // Back to queued to resume where it was (recovery after a restart).
    [[nodiscard]] Status requeue(int64_t id);
    // Back to queued for another run of an ended job (retry command): rerun is set.
    [[nodiscard]] Status retry(int64_t id);
    // This run's queue job is open (JobRow::rerun).
    [[nodiscard]] Status clear_rerun(int64_t id);
    // Counts one more run cut short by the daemon dying; returns the new count.
    [[nodiscard]] Result<int> add_interruption(int64_t id);

    // Chunks (the audio task's row among them), in index order: the audio task first.
    [[nodiscard]] Status replace_chunks(int64_t job_id, const std::vector<ChunkRow>& chunks);
    [[nodiscard]] Result<std::vector<ChunkRow>> chunks(int64_t job_id);
    // A task the queue finished, as its owner learns of it: finished_at is the row's own, else
    // now; started_at and worker only when known (the node that ran it sends them); attempts
    // never goes down.
    [[nodiscard]] Status chunk_done(const ChunkRow& row);
    [[nodiscard]] Status chunk_failed(int64_t job_id, TaskRef task, const std::string& error);
    // The nodes that produced each listed job's video chunks (as the sidecar's chunks[].node),
    // by name; jobs without any are absent.
    [[nodiscard]] Result<std::map<int64_t, std::vector<std::string>>> chunk_nodes(
        const std::vector<int64_t>& job_ids);

    // Events
    [[nodiscard]] Status add_event(std::optional<int64_t> job_id, const std::string& kind,
                                   const std::string& message);
    [[nodiscard]] Result<std::vector<EventRow>> events(int64_t job_id, int limit);

    [[nodiscard]] Db& db() { return db_; }

  private:
    explicit JobStore(Db db) : db_(std::move(db)) {}
    // requeue and retry: back to queued, with the rerun mark set or left as it was.
    [[nodiscard]] Status queue_again(int64_t id, bool rerun);
    Db db_;
};

}  // namespace rr::store
