#include "node.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "event_log.h"
#include "store/pg_queue.h"

namespace rr::farm {
namespace {

using store::PgQueue;

// A connection and the lock that serialises the threads sharing it (one thread each when
// every thread has its own).
struct Slot {
    explicit Slot(PgQueue q) : queue(std::move(q)) {}
    std::mutex mutex;
    PgQueue queue;
};

class Node {
  public:
    Node(const NodeOptions& o, std::vector<std::unique_ptr<Slot>> slots)
        : o_(o), log_(o.log_path), slots_(std::move(slots)) {}

    // Thread i (workers 0..n-1, the heartbeat n) uses this connection.
    Slot& slot(int i) { return *slots_[std::min<size_t>(i, slots_.size() - 1)]; }

    void start_heartbeat() {
        threads_.emplace_back([this] { heartbeat(); });
    }
    void start_workers() {
        for (int i = 0; i < o_.workers; ++i) threads_.emplace_back([this, i] { work(i); });
    }
    void stop() {
        {
            std::lock_guard lock(stop_mutex_);
            stopping_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) t.join();
        Slot& s = slot(o_.workers);
        std::lock_guard lock(s.mutex);
        if (auto left = s.queue.leave(); !left) error("leave", left.error().message);
    }

  private:
    // Sleeps for ms unless stopping; returns false when stopping.
    bool pause(int ms) {
        std::unique_lock lock(stop_mutex_);
        return !wake_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
    }
    bool stopping() {
        std::lock_guard lock(stop_mutex_);
        return stopping_;
    }
    void error(const char* what, const std::string& message) {
        log_.append(Event{Ev::error, now_us(), 0, 0, 0, false, std::string(what) + ": " + message});
        std::fprintf(stderr, "%s: %s: %s\n", o_.node_id.c_str(), what, message.c_str());
    }

    void work(int i) {
        Slot& s = slot(i);
        while (!stopping()) {
            const int64_t t0 = now_us();
            auto claimed = [&] {
                std::lock_guard lock(s.mutex);
                return s.queue.claim(1);
            }();
            const int64_t t1 = now_us();
            if (!claimed) {
                error("claim", claimed.error().message);
                pause(o_.poll_ms);
                continue;
            }
            if (claimed->empty()) {
                log_.append(Event{Ev::empty, t1, 0, 0, t1 - t0, false, {}});
                pause(o_.poll_ms);
                continue;
            }
            const store::Lease lease = claimed->front();
            log_.append(Event{Ev::claimed, t1, lease.task_id, lease.epoch, t1 - t0, false, {}});
            ++busy_;
            // The "encode": a render node would be decoding and encoding the chunk here.
            std::this_thread::sleep_for(std::chrono::milliseconds(o_.task_ms));
            const int64_t t2 = now_us();
            auto done = [&] {
                std::lock_guard lock(s.mutex);
                return s.queue.complete(lease, "ok");
            }();
            const int64_t t3 = now_us();
            --busy_;
            if (!done) {
                error("complete", done.error().message);
                continue;
            }
            if (!done->accepted) {
                log_.append(
                    Event{Ev::rejected, t3, lease.task_id, lease.epoch, t3 - t2, false, {}});
                continue;
            }
            log_.append(
                Event{Ev::done, t3, lease.task_id, lease.epoch, t3 - t2, done->job_ready, {}});
            if (done->job_ready) {
                // The joiner: a real node would concatenate the chunks here.
                std::lock_guard lock(s.mutex);
                if (auto f = s.queue.finish_job(done->job_id, "{}"); !f)
                    error("finish_job", f.error().message);
            }
        }
    }

    // What the daemon's ClusterNode thread does each heartbeat (docs/CLUSTER.md).
    void heartbeat() {
        Slot& s = slot(o_.workers);
        const int ms = static_cast<int>(o_.heartbeat_seconds * 1000);
        do {
            std::lock_guard lock(s.mutex);
            if (auto r = s.queue.renew(); !r) error("renew", r.error().message);
            if (auto r = s.queue.node_heartbeat(busy_.load(), std::nullopt); !r)
                error("node_heartbeat", r.error().message);
            if (auto r = s.queue.reap(); !r) {
                error("reap", r.error().message);
            } else {
                for (const auto& x : *r)
                    log_.append(Event{Ev::reaped, now_us(), x.task_id, 0, 0, false, x.owner});
            }
            if (auto r = s.queue.mark_lost(o_.lease_seconds); !r) {
                error("mark_lost", r.error().message);
            } else {
                for (const auto& id : *r)
                    log_.append(Event{Ev::lost, now_us(), 0, 0, 0, false, id});
            }
        } while (pause(ms));
    }

    NodeOptions o_;
    EventLog log_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::vector<std::thread> threads_;
    std::atomic<int> busy_{0};
    std::mutex stop_mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
};

}  // namespace

int run_node(const NodeOptions& o, int ready_fd, int go_fd) {
    // SIGTERM is taken by sigwait below, never by a thread in the middle of a call.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    // A coordinator that dies (a test's timeout) takes its nodes with it instead of leaving
    // them polling.
    const pid_t parent = ::getppid();
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) return 1;

    std::vector<std::unique_ptr<Slot>> slots;
    const int connections = o.connection_per_thread ? o.workers + 1 : 1;
    for (int i = 0; i < connections; ++i) {
        store::QueueOptions qo;
        qo.database = o.conninfo;
        qo.node_id = o.node_id;
        qo.lease_seconds = o.lease_seconds;
        auto q = PgQueue::open(qo);
        if (!q) {
            std::fprintf(stderr, "%s: %s\n", o.node_id.c_str(), q.error().message.c_str());
            return 2;
        }
        slots.push_back(std::make_unique<Slot>(std::move(*q)));
    }
    store::NodeRegistration reg;
    reg.host = "farm";
    reg.pid = static_cast<int>(::getpid());
    reg.version = "queue-farm";
    reg.workers = o.workers;
    reg.stale_after_seconds = o.lease_seconds;
    if (auto r = slots.back()->queue.register_node(reg); !r) {
        std::fprintf(stderr, "%s: %s\n", o.node_id.c_str(), r.error().message.c_str());
        return 2;
    }
    Node node(o, std::move(slots));
    node.start_heartbeat();
    [[maybe_unused]] auto w = ::write(ready_fd, "r", 1);
    ::close(ready_fd);
    char c = 0;
    while (::read(go_fd, &c, 1) > 0) {
    }
    ::close(go_fd);
    node.start_workers();
    int sig = 0;
    sigwait(&stop_signals, &sig);
    node.stop();
    return 0;
}

}  // namespace rr::farm
