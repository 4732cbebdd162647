#pragma once
// Prometheus text exposition of what the daemon does. Counters and the chunk-duration
// histogram are fed from the job event stream; gauges are read when rendered.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "control/events.h"

namespace rr::service {

struct GaugeReadings {
    std::map<std::string, int64_t> jobs_by_state;
    int64_t queue_depth = 0;
    int workers_busy = 0, workers_total = 0;
    bool intake_paused = false, processing_paused = false, low_disk = false;
    std::map<std::string, int64_t> disk_free_bytes;  // by folder
    double uptime_seconds = 0;
    int control_connections = 0;
    // Cluster mode only: what this node sees of the cluster.
    struct Cluster {
        std::string node_id;
        bool connected = false, claiming = false;
        int64_t nodes_active = 0, nodes_draining = 0, nodes_lost = 0;
        int64_t leases = 0;  // held by this node
        int64_t queue_available = 0, queue_leased = 0;
    };
    std::optional<Cluster> cluster;
};

// What renderrush_build_info labels: this build and the libraries it runs with.
struct BuildVersions {
    std::string version, ffmpeg, opencv;
};
[[nodiscard]] BuildVersions build_versions();

class Metrics {
  public:
    // Counts what an event tells (chunk finished, job ended).
    void observe(const control::Event& event);
    [[nodiscard]] std::string render(const GaugeReadings& g) const;

    static constexpr std::array<double, 10> kBuckets = {0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300};

  private:
    int64_t chunks_done_ = 0;
    std::array<int64_t, kBuckets.size()> bucket_counts_{};
    double chunk_seconds_sum_ = 0;
    std::map<std::string, int64_t> jobs_finished_;  // by final state
    int64_t frames_in_ = 0, frames_out_ = 0, bytes_in_ = 0, bytes_out_ = 0;
    // Wall clock, as Prometheus' *_start_time_seconds convention wants (restarts show as jumps).
    std::chrono::system_clock::time_point started_ = std::chrono::system_clock::now();
};

}  // namespace rr::service
