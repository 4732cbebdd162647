#include "service/notifier.h"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

namespace rr::service {

void Notifier::ready(const std::string& s) {
    last_status_ = s;
    sd_notifyf(0, "READY=1\nSTATUS=%s", s.c_str());
}

void Notifier::status(const std::string& s) {
    if (s == last_status_) return;
    last_status_ = s;
    sd_notifyf(0, "STATUS=%s", s.c_str());
}

void Notifier::reloading() {
    sd_notify(0, "RELOADING=1\nSTATUS=reloading configuration");
}

void Notifier::stopping(const std::string& s) {
    last_status_ = s;
    sd_notifyf(0, "STOPPING=1\nSTATUS=%s", s.c_str());
}

void Notifier::watchdog() {
    sd_notify(0, "WATCHDOG=1");
}

std::optional<uint64_t> Notifier::watchdog_period_ms() const {
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return std::nullopt;
    return std::max<uint64_t>(1, usec / 2000);
}

int inherited_control_socket() {
    const int n = sd_listen_fds(1);
    if (n < 1) return -1;
    const int fd = SD_LISTEN_FDS_START;
    return sd_is_socket_unix(fd, SOCK_STREAM, 1, nullptr, 0) > 0 ? fd : -1;
}

}  // namespace rr::service
