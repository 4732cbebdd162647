#define BOOST_TEST_MODULE service_metrics
// The shipped Grafana dashboard queries only what renderrushd exports: every metric name in
// every panel's expression, and every exact label match there (state="lost"), appears in the
// text the daemon renders with cluster readings. A renamed metric would leave a panel empty
// without any error in Grafana.
#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "service/metrics.h"
#include "support/process.h"
#include "support/sandbox.h"

using namespace rr;
namespace t = rr::test;

namespace {

std::string rendered() {
    service::GaugeReadings g;
    g.jobs_by_state = {{"queued", 1}, {"running", 1}, {"failed", 0}};
    g.disk_free_bytes = {{"/srv", 1}};
    service::GaugeReadings::Cluster c;
    c.node_id = "render-07";
    g.cluster = c;
    return service::Metrics().render(g);
}

nlohmann::json dashboard() {
    return nlohmann::json::parse(
        t::read_file(t::source_dir() / "packaging/grafana/renderrush-dashboard.json"));
}

// The series lines (not # HELP / # TYPE) of one metric.
std::vector<std::string> series(const std::string& text, const std::string& name) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(name, 0) != 0 || line.size() == name.size()) continue;
        if (line[name.size()] == '{' || line[name.size()] == ' ') lines.push_back(line);
    }
    return lines;
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_panel_queries_metrics_and_labels_renderrushd_exports) {
    const std::string text = rendered();
    const std::regex selector(R"((renderrush_[a-z0-9_]+)(\{([^}]*)\})?)");
    const std::regex exact(R"(([a-z_]+)="([^"]*)\")");
    int exprs = 0;
    const auto board = dashboard();
    for (const auto& panel : board["panels"]) {
        for (const auto& target : panel.value("targets", nlohmann::json::array())) {
            const std::string expr = target.value("expr", "");
            ++exprs;
            for (std::sregex_iterator m(expr.begin(), expr.end(), selector), end; m != end; ++m) {
                const std::string name = (*m)[1];
                const auto lines = series(text, name);
                BOOST_TEST(!lines.empty(), panel["title"] << ": " << name << " is not exported");
                const std::string labels = (*m)[3];
                for (std::sregex_iterator l(labels.begin(), labels.end(), exact); l != end; ++l) {
                    const std::string wanted = (*l)[1].str() + "=\"" + (*l)[2].str() + "\"";
                    bool found = false;
                    for (const auto& line : lines) found |= line.find(wanted) != std::string::npos;
                    BOOST_TEST(found, panel["title"] << ": no " << name << " has " << wanted);
                }
            }
        }
    }
    BOOST_TEST(exprs > 10);
}

BOOST_AUTO_TEST_CASE(the_dashboard_has_a_cluster_row_over_the_cluster_metrics) {
    bool row = false;
    std::set<std::string> used;
    const std::regex name(R"(renderrush_cluster_[a-z_]+)");
    const auto board = dashboard();
    for (const auto& panel : board["panels"]) {
        if (panel.value("type", "") == "row" && panel.value("title", "") == "Cluster") row = true;
        if (!row) continue;
        for (const auto& target : panel.value("targets", nlohmann::json::array())) {
            const std::string expr = target.value("expr", "");
            for (std::sregex_iterator m(expr.begin(), expr.end(), name), end; m != end; ++m)
                used.insert(m->str());
        }
    }
    BOOST_REQUIRE(row);
    // Every cluster metric the daemon exports has a panel under the row.
    const std::string text = rendered();
    std::set<std::string> exported;
    for (std::sregex_iterator m(text.begin(), text.end(), name), end; m != end; ++m)
        exported.insert(m->str());
    BOOST_TEST(exported.size() >= 5u);
    for (const auto& metric : exported)
        BOOST_TEST(used.count(metric), metric << " has no panel in the cluster row");
}
