#pragma once
// systemd's notification protocol (Type=notify): READY=1 once truly ready, STATUS= on every
// change, WATCHDOG=1 from the loop itself, RELOADING=1 around reloads, STOPPING=1 at the end.
// Without NOTIFY_SOCKET every call is a no-op.

#include <cstdint>
#include <optional>
#include <string>

namespace rr::service {

class Notifier {
  public:
    void ready(const std::string& status);
    void status(const std::string& status);  // sent only when it changed
    void reloading();
    void stopping(const std::string& status);
    void watchdog();
    // Half the watchdog interval in milliseconds, when systemd asked for pings.
    [[nodiscard]] std::optional<uint64_t> watchdog_period_ms() const;

  private:
    std::string last_status_;
};

// A listening socket passed by systemd socket activation, or -1.
[[nodiscard]] int inherited_control_socket();

}  // namespace rr::service
