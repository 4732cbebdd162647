#pragma once
// Runs the real renderrushd in a sandbox (inbox/, outbox/, done/, failed/, state/, run/) and
// reads its job database, the way an operator would see it.

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "store/job_store.h"
#include "support/sandbox.h"

namespace rr::test {

class Daemon {
  public:
    // `config_body` is appended to a generated `paths:` block pointing into the sandbox.
    explicit Daemon(const std::string& config_body);
    ~Daemon();  // SIGKILL if still running

    [[nodiscard]] const Sandbox& box() const { return box_; }
    [[nodiscard]] std::filesystem::path dir(const std::string& name) const { return box_ / name; }
    [[nodiscard]] std::filesystem::path config_path() const { return box_ / "renderrush.yaml"; }
    void write_config(const std::string& config_body) const;
    // Runs this renderrushd instead of the shipped one (the test build's renderrushd-faults).
    void set_binary(const std::filesystem::path& binary) { binary_ = binary; }
    [[nodiscard]] pid_t pid() const { return pid_; }

    // `env` is added to the daemon's environment; a non-empty `listen_socket` is bound here and
    // handed over the way systemd socket activation does (LISTEN_FDS=1 on fd 3).
    void start(const std::map<std::string, std::string>& env = {},
               const std::filesystem::path& listen_socket = {});
    void signal(int sig) const;
    // Waits for the process to exit; returns its exit status (-1 if killed by a signal).
    int wait_exit(std::chrono::seconds timeout);
    void kill9();
    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] std::string log() const;

    [[nodiscard]] std::vector<store::JobRow> jobs() const;
    [[nodiscard]] std::vector<store::ChunkRow> chunks(int64_t job) const;

  private:
    Sandbox box_;
    std::filesystem::path binary_;
    pid_t pid_ = -1;
    int starts_ = 0;
};

// Polls `done()` every 100 ms until it is true or `timeout` passes.
[[nodiscard]] bool wait_until(const std::function<bool()>& done, std::chrono::seconds timeout);

}  // namespace rr::test
