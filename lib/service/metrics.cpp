#include "service/metrics.h"

#include <fmt/format.h>

extern "C" {
#include <libavutil/avutil.h>
}
#include <opencv2/core/version.hpp>

#include "core/version.h"
#include "store/job_store.h"

namespace rr::service {
namespace {

std::string escape_label(const std::string& v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

BuildVersions build_versions() {
    return {kVersion, av_version_info(), CV_VERSION};
}

void Metrics::observe(const control::Event& event) {
    if (const auto* chunk = std::get_if<control::ChunkEvent>(&event)) {
        if (chunk->state != store::ChunkState::done) return;
        ++chunks_done_;
        chunk_seconds_sum_ += chunk->seconds;
        for (size_t i = 0; i < kBuckets.size(); ++i) {
            if (chunk->seconds <= kBuckets[i]) ++bucket_counts_[i];
        }
    } else if (const auto* job = std::get_if<control::JobEvent>(&event)) {
        if (!store::is_final(job->state)) return;
        ++jobs_finished_[std::string(store::to_string(job->state))];
        if (store::published(job->state) && job->totals) {
            frames_in_ += job->totals->frames_in;
            frames_out_ += job->totals->frames_out;
            bytes_in_ += job->totals->bytes_in;
            bytes_out_ += job->totals->bytes_out;
        }
    }
}

namespace {

// Every series carries the node label: the textfiles of all nodes meet in one Prometheus.
void render_cluster(std::string& out, const GaugeReadings::Cluster& c) {
    const std::string node = escape_label(c.node_id);
    family(out, "renderrush_cluster_up", "gauge",
           "1 while this node reaches the cluster database.");
    out += fmt::format("renderrush_cluster_up{{node=\"{}\"}} {}\n", node, c.connected ? 1 : 0);
    family(out, "renderrush_cluster_claiming", "gauge",
           "1 while this node may claim chunks (database reachable, active, storage marker ok).");
    out += fmt::format("renderrush_cluster_claiming{{node=\"{}\"}} {}\n", node, c.claiming ? 1 : 0);
    family(out, "renderrush_cluster_nodes", "gauge", "Nodes of the cluster by state.");
    for (const auto& [state, n] : {std::pair<const char*, int64_t>{"active", c.nodes_active},
                                   {"draining", c.nodes_draining},
                                   {"lost", c.nodes_lost}})
        out += fmt::format("renderrush_cluster_nodes{{node=\"{}\",state=\"{}\"}} {}\n", node, state,
                           n);
    family(out, "renderrush_cluster_leases", "gauge", "Chunk leases this node holds.");
    out += fmt::format("renderrush_cluster_leases{{node=\"{}\"}} {}\n", node, c.leases);
    family(out, "renderrush_cluster_queue_depth", "gauge",
           "Chunks in the cluster queue: available (waiting) or leased (being worked on).");
    out += fmt::format("renderrush_cluster_queue_depth{{node=\"{}\",state=\"available\"}} {}\n",
                       node, c.queue_available);
    out += fmt::format("renderrush_cluster_queue_depth{{node=\"{}\",state=\"leased\"}} {}\n", node,
                       c.queue_leased);
}

}  // namespace

std::string Metrics::render(const GaugeReadings& g) const {
    std::string out;
    family(out, "renderrush_jobs", "gauge", "Jobs in the job database by state.");
    for (const auto& [state, n] : g.jobs_by_state)
        out += fmt::format("renderrush_jobs{{state=\"{}\"}} {}\n", state, n);
    family(out, "renderrush_jobs_finished_total", "counter",
           "Jobs that reached a final state since the daemon started.");
    for (auto st : store::all_job_states()) {
        if (!store::is_final(st)) continue;
        const std::string state(store::to_string(st));
        auto it = jobs_finished_.find(state);
        out += fmt::format("renderrush_jobs_finished_total{{state=\"{}\"}} {}\n", state,
                           it == jobs_finished_.end() ? 0 : it->second);
    }
    family(out, "renderrush_queue_depth", "gauge", "Jobs waiting to start.");
    out += fmt::format("renderrush_queue_depth {}\n", g.queue_depth);
    family(out, "renderrush_chunks_processed_total", "counter",
           "Chunks (and audio tracks) finished since the daemon started.");
    out += fmt::format("renderrush_chunks_processed_total {}\n", chunks_done_);
    family(out, "renderrush_chunk_duration_seconds", "histogram",
           "Wall time to process one chunk.");
    for (size_t i = 0; i < kBuckets.size(); ++i) {
        out += fmt::format("renderrush_chunk_duration_seconds_bucket{{le=\"{:g}\"}} {}\n",
                           kBuckets[i], bucket_counts_[i]);
    }
    out +=
        fmt::format("renderrush_chunk_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", chunks_done_);
    out += fmt::format("renderrush_chunk_duration_seconds_sum {:.6f}\n", chunk_seconds_sum_);
    out += fmt::format("renderrush_chunk_duration_seconds_count {}\n", chunks_done_);
    family(out, "renderrush_frames_total", "counter",
           "Video frames read from inputs and written to outputs of finished jobs.");
    out += fmt::format("renderrush_frames_total{{direction=\"in\"}} {}\n", frames_in_);
    out += fmt::format("renderrush_frames_total{{direction=\"out\"}} {}\n", frames_out_);
    family(out, "renderrush_bytes_total", "counter",
           "Bytes of inputs and outputs of finished jobs.");
    out += fmt::format("renderrush_bytes_total{{direction=\"in\"}} {}\n", bytes_in_);
    out += fmt::format("renderrush_bytes_total{{direction=\"out\"}} {}\n", bytes_out_);
    // Two families, not one with a state label: busy/total is a ratio, and sum() over a
    // state label would add them.
    family(out, "renderrush_workers", "gauge", "Worker threads.");
    out += fmt::format("renderrush_workers {}\n", g.workers_total);
    family(out, "renderrush_workers_busy", "gauge", "Worker threads running a chunk now.");
    out += fmt::format("renderrush_workers_busy {}\n", g.workers_busy);
    family(out, "renderrush_intake_paused", "gauge", "1 while no new files are taken, by reason.");
    out += fmt::format("renderrush_intake_paused{{reason=\"operator\"}} {}\n",
                       g.intake_paused ? 1 : 0);
    out += fmt::format("renderrush_intake_paused{{reason=\"low_disk\"}} {}\n", g.low_disk ? 1 : 0);
    family(out, "renderrush_processing_paused", "gauge", "1 while no new work starts.");
    out += fmt::format("renderrush_processing_paused {}\n", g.processing_paused ? 1 : 0);
    family(out, "renderrush_disk_free_bytes", "gauge",
           "Free space in the state and output folders.");
    for (const auto& [dir, bytes] : g.disk_free_bytes) {
        out +=
            fmt::format("renderrush_disk_free_bytes{{path=\"{}\"}} {}\n", escape_label(dir), bytes);
    }
    family(out, "renderrush_control_connections", "gauge", "Open control socket connections.");
    out += fmt::format("renderrush_control_connections {}\n", g.control_connections);
    const BuildVersions b = build_versions();
    family(out, "renderrush_build_info", "gauge",
           "Always 1; the labels name this build and the libraries it runs with.");
    out += fmt::format("renderrush_build_info{{version=\"{}\",ffmpeg=\"{}\",opencv=\"{}\"}} 1\n",
                       escape_label(b.version), escape_label(b.ffmpeg), escape_label(b.opencv));
    family(out, "renderrush_start_time_seconds", "gauge",
           "When the daemon started, in seconds since the Unix epoch.");
    out += fmt::format("renderrush_start_time_seconds {:.3f}\n",
                       std::chrono::duration<double>(started_.time_since_epoch()).count());
    family(out, "renderrush_uptime_seconds", "gauge", "Seconds since the daemon started.");
    out += fmt::format("renderrush_uptime_seconds {:.1f}\n", g.uptime_seconds);
    if (g.cluster) render_cluster(out, *g.cluster);
    return out;
}

}  // namespace rr::service
