#include "cpu_usage.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace rr::farm {
namespace {

std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

struct Proc {
    int pid = 0, ppid = 0;
    double cpu_s = 0;
    std::string comm;
};

std::vector<Proc> processes() {
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    std::vector<Proc> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/proc", ec)) {
        const std::string name = e.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        const std::string stat = slurp(e.path() / "stat");
        const auto open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos) continue;
        Proc p;
        p.pid = std::stoi(name);
        p.comm = stat.substr(open + 1, close - open - 1);
        std::istringstream rest(stat.substr(close + 2));
        std::string field;
        std::vector<std::string> f;
        while (rest >> field) f.push_back(field);
        if (f.size() < 13) continue;
        // After the name: state ppid ... utime (field 14 of the file) stime (15).
        p.ppid = std::stoi(f[1]);
        p.cpu_s = (std::stod(f[11]) + std::stod(f[12])) / tick;
        out.push_back(std::move(p));
    }
    return out;
}

}  // namespace

MachineCpu machine_cpu() {
    std::istringstream in(slurp("/proc/stat"));
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
    const double busy = user + nice + system + irq + softirq + steal;
    return MachineCpu{busy / tick, (busy + idle + iowait) / tick};
}

double postgres_cpu_seconds(const std::string& socket_dir) {
    if (socket_dir.empty()) return 0;
    const auto all = processes();
    int postmaster = 0;
    for (const auto& p : all) {
        if (p.comm != "postgres") continue;
        std::string cmd = slurp("/proc/" + std::to_string(p.pid) + "/cmdline");
        for (auto& c : cmd)
            if (c == '\0') c = ' ';
        if (cmd.find("-k " + socket_dir) != std::string::npos) postmaster = p.pid;
    }
    double sum = 0;
    for (const auto& p : all)
        if (postmaster && (p.pid == postmaster || p.ppid == postmaster)) sum += p.cpu_s;
    return sum;
}

}  // namespace rr::farm
