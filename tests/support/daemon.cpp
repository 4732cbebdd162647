#include "support/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "support/process.h"

namespace rr::test {

Daemon::Daemon(const std::string& config_body) {
    for (const char* d : {"inbox", "outbox", "done", "failed", "state", "run"})
        std::filesystem::create_directories(box_ / d);
    write_config(config_body);
}

Daemon::~Daemon() {
    if (pid_ > 0) kill9();
}

void Daemon::write_config(const std::string& body) const {
    // A test's disk is whatever the machine has: 1 MB keeps the disk guard out of the way,
    // unless the case sets min_free_mb itself (the first of two keys would win).
    const bool own_min_free =
        body.starts_with("min_free_mb:") || body.find("\nmin_free_mb:") != std::string::npos;
    const std::string paths = "paths:\n  state_dir: " + (box_ / "state").string() +
                              "\n  runtime_dir: " + (box_ / "run").string() + "\n" +
                              (own_min_free ? "" : "min_free_mb: 1\n");
    write_file(config_path(), paths + body);
}

void Daemon::start(const std::map<std::string, std::string>& env,
                   const std::filesystem::path& listen_socket) {
    const auto log = box_ / ("daemon-" + std::to_string(++starts_) + ".log");
    int listen_fd = -1;
    if (!listen_socket.empty()) {
        listen_fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", listen_socket.c_str());
        if (::bind(listen_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::listen(listen_fd, 16) != 0) {
            throw std::runtime_error("cannot bind " + listen_socket.string());
        }
    }
    pid_ = fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
        for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
        if (listen_fd >= 0) {
            dup2(listen_fd, 3);
            setenv("LISTEN_FDS", "1", 1);
            setenv("LISTEN_PID", std::to_string(getpid()).c_str(), 1);
        }
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        const std::string bin = (binary_.empty() ? renderrushd() : binary_).string(),
                          cfg = config_path().string();
        execl(bin.c_str(), bin.c_str(), "--config", cfg.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    if (listen_fd >= 0) ::close(listen_fd);
}

void Daemon::signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
}

int Daemon::wait_exit(std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (pid_ > 0) {
        int status = 0;
        pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        }
        if (std::chrono::steady_clock::now() > deadline)
            throw std::runtime_error("daemon did not exit in time");
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
}

void Daemon::kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string Daemon::log() const {
    std::string all;
    for (int i = 1; i <= starts_; ++i)
        all += read_file(box_ / ("daemon-" + std::to_string(i) + ".log"));
    return all;
}

std::vector<store::JobRow> Daemon::jobs() const {
    const auto db = box_ / "state" / "renderrush.db";
    if (!std::filesystem::exists(db)) return {};
    auto store = store::JobStore::open_read_only(db);
    if (!store) return {};
    auto rows = store->jobs(std::nullopt, 100000, 0);
    if (!rows) return {};
    std::vector<store::JobRow> out(rows->rbegin(), rows->rend());  // oldest first
    return out;
}

std::vector<store::ChunkRow> Daemon::chunks(int64_t job) const {
    auto store = store::JobStore::open_read_only(box_ / "state" / "renderrush.db");
    if (!store) return {};
    auto rows = store->chunks(job);
    return rows ? *rows : std::vector<store::ChunkRow>{};
}

bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return done();
}

}  // namespace rr::test
