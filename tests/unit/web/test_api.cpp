#define BOOST_TEST_MODULE web_api
// The dashboard's pure pieces: URL -> control command, reply -> HTTP status and body, and the
// token, cookie and Origin checks.
#include <boost/test/unit_test.hpp>

#include "core/config.h"
#include "web/api.h"
#include "web/auth.h"

using namespace rr::web;
using rr::control::Code;
using rr::control::Reply;

namespace {

QueryArg args(std::map<std::string, std::string> m) {
    return [m](const char* name) -> std::optional<std::string> {
        auto it = m.find(name);
        if (it == m.end()) return std::nullopt;
        return it->second;
    };
}

ApiCall call(Method m, const std::string& path, std::map<std::string, std::string> q = {}) {
    auto r = route(m, path, args(std::move(q)));
    BOOST_REQUIRE(std::holds_alternative<ApiCall>(r));
    return std::get<ApiCall>(r);
}

unsigned refused(Method m, const std::string& path) {
    auto r = route(m, path, args({}));
    BOOST_REQUIRE(std::holds_alternative<HttpError>(r));
    return std::get<HttpError>(r).status;
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_path_names_a_control_command_and_its_arguments) {
    BOOST_TEST(call(Method::get, "/api/status").cmd == "status");
    auto jobs = call(Method::get, "/api/jobs", {{"state", "done"}, {"limit", "5"}});
    BOOST_TEST(jobs.cmd == "jobs");
    BOOST_TEST(jobs.args == (nlohmann::json{{"state", "done"}, {"limit", 5}}));
    auto job = call(Method::get, "/api/jobs/42");
    BOOST_TEST(job.cmd == "job");
    BOOST_TEST(job.args["id"] == 42);
    BOOST_TEST((call(Method::get, "/api/jobs/42/sidecar").shape == ApiCall::Shape::sidecar));
    BOOST_TEST((call(Method::get, "/api/nodes").shape == ApiCall::Shape::nodes));
    BOOST_TEST(call(Method::get, "/api/cluster-jobs").cmd == "cluster-jobs");
    BOOST_TEST(call(Method::post, "/api/jobs/7/cancel").cmd == "cancel");
    BOOST_TEST(call(Method::post, "/api/jobs/7/retry").cmd == "retry");
    auto pause = call(Method::post, "/api/pause", {{"watch", "/srv/in"}});
    BOOST_TEST(pause.cmd == "pause");
    BOOST_TEST(pause.args["watch"] == "/srv/in");
    BOOST_TEST(call(Method::post, "/api/resume").args.empty());
}

BOOST_AUTO_TEST_CASE(wrong_methods_paths_and_ids_are_refused) {
    BOOST_TEST(refused(Method::get, "/api/pause") == 405u);
    BOOST_TEST(refused(Method::post, "/api/status") == 405u);
    BOOST_TEST(refused(Method::post, "/api/cluster-jobs") == 405u);
    BOOST_TEST(refused(Method::get, "/api/jobs/7/cancel") == 405u);
    BOOST_TEST(refused(Method::get, "/api/jobs/abc") == 404u);
    BOOST_TEST(refused(Method::get, "/api/jobs/-1") == 404u);
    BOOST_TEST(refused(Method::get, "/api/jobs/7/delete") == 404u);
    BOOST_TEST(refused(Method::get, "/api/subscribe") == 404u);
    auto bad = route(Method::get, "/api/jobs", args({{"limit", "ten"}}));
    BOOST_TEST(std::get<HttpError>(bad).status == 400u);
}

BOOST_AUTO_TEST_CASE(replies_map_to_statuses_and_bodies) {
    BOOST_TEST(http_status(Code::ok) == 200u);
    BOOST_TEST(http_status(Code::forbidden) == 403u);
    BOOST_TEST(http_status(Code::not_found) == 404u);
    BOOST_TEST(http_status(Code::conflict) == 409u);
    BOOST_TEST(http_status(Code::error) == 400u);
    const ApiCall status{"status"};
    BOOST_TEST(response_body(status, Reply::success({{"a", 1}})) == (nlohmann::json{{"a", 1}}));
    auto err = response_body(status, Reply::failure(Code::conflict, "already ended"));
    BOOST_TEST(err["error"] == "already ended");
    BOOST_TEST(err["code"] == 4);
    auto nodes =
        nodes_from_status({{"version", "0.1.0"}, {"workers", {{"busy", 1}, {"total", 2}}}});
    BOOST_TEST(nodes["nodes"].size() == 1u);
    BOOST_TEST(nodes["nodes"][0]["workers"]["total"] == 2);
}

BOOST_AUTO_TEST_CASE(cluster_nodes_come_from_status_cluster) {
    const nlohmann::json status = {
        {"version", "0.1.0"},
        {"uptime", 12.0},
        {"workers", {{"busy", 1}, {"total", 2}}},
        {"cluster",
         {{"node_id", "a"},
          {"nodes",
           {{{"node_id", "a"}, {"state", "active"}, {"workers", 2}, {"busy", 1}},
            {{"node_id", "b"}, {"state", "lost"}, {"workers", 4}, {"busy", 0}}}}}}};
    auto nodes = nodes_from_status(status)["nodes"];
    BOOST_REQUIRE(nodes.size() == 2u);
    BOOST_TEST(nodes[0]["name"] == "a");
    BOOST_TEST(nodes[0]["self"] == true);
    BOOST_TEST(nodes[0]["uptime"] == 12.0);
    BOOST_TEST(nodes[1]["name"] == "b");
    BOOST_TEST(nodes[1]["self"] == false);
    BOOST_TEST(nodes[1]["state"] == "lost");
    BOOST_TEST(nodes[1]["workers"]["total"] == 4);
}

BOOST_AUTO_TEST_CASE(tokens_cookies_and_origins) {
    BOOST_TEST(token_matches("abcdef0123456789", "abcdef0123456789"));
    BOOST_TEST(!token_matches("abcdef012345678", "abcdef0123456789"));
    BOOST_TEST(!token_matches("abcdef01234567890", "abcdef0123456789"));
    BOOST_TEST(!token_matches("", ""));
    BOOST_TEST(bearer_token("Bearer xyz").value() == "xyz");
    BOOST_TEST(!bearer_token("Basic xyz"));
    BOOST_TEST(cookie_value("a=1; renderrush_token=t0k; b=2", kCookieName).value() == "t0k");
    BOOST_TEST(!cookie_value("xrenderrush_token=t0k", kCookieName));
    BOOST_TEST(same_origin("http://127.0.0.1:8573", "127.0.0.1:8573"));
    BOOST_TEST(!same_origin("http://evil.example", "127.0.0.1:8573"));
    BOOST_TEST(!same_origin("http://127.0.0.1:8573.evil.example", "127.0.0.1:8573"));
    BOOST_TEST(login_url("0.0.0.0:8573", "T") == "http://127.0.0.1:8573/?token=T");
    BOOST_TEST(login_url("10.0.0.5:80", "T") == "http://10.0.0.5:80/?token=T");
}

BOOST_AUTO_TEST_CASE(the_web_section_defaults_off_with_the_token_under_the_state_dir) {
    auto none = rr::parse_config_text("workers: 1\npaths: {state_dir: /var/lib/rr}\n", "t.yaml");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(!none->web.enabled);
    BOOST_TEST(none->web.listen == "127.0.0.1:8573");
    BOOST_TEST(none->web.token_file == "/var/lib/rr/web.token");
    auto on =
        rr::parse_config_text("web: {enabled: true, listen: \"\", token_file: /etc/t}\n", "t.yaml");
    BOOST_REQUIRE(on.ok());
    BOOST_TEST(on->web.enabled);
    BOOST_TEST(on->web.listen.empty());
    BOOST_TEST(on->web.token_file == "/etc/t");
    auto typo = rr::parse_config_text("web: {enable: true}\n", "t.yaml");
    BOOST_TEST(!typo.ok());
}

BOOST_AUTO_TEST_CASE(pictures_are_reached_only_under_the_names_the_sidecar_records) {
    auto before = call(Method::get, "/api/jobs/7/frames/before.jpg");
    BOOST_TEST(before.cmd == "job");
    BOOST_TEST((before.shape == ApiCall::Shape::file));
    BOOST_TEST(refused(Method::get, "/api/jobs/7/frames/../x.jpg") == 404u);
    BOOST_TEST(refused(Method::get, "/api/jobs/7/frames/.hidden.jpg") == 404u);
    BOOST_TEST(refused(Method::get, "/api/jobs/7/frames/before.png") == 404u);
    BOOST_TEST(refused(Method::post, "/api/jobs/7/scenes/scene-001.jpg") == 405u);

    const nlohmann::json job = {
        {"sidecar",
         {{"output", {{"path", "/srv/out/a.mp4"}}},
          {"preview", {{"folder", "a.mp4.frames"}}},
          {"stages", {{{"name", "scenes"}, {"result", {{"thumbnails", {"scene-001.jpg"}}}}}}}}}};
    BOOST_TEST(file_path(before, job) == "/srv/out/a.mp4.frames/before.jpg");
    auto thumb = call(Method::get, "/api/jobs/7/scenes/scene-001.jpg");
    BOOST_TEST(file_path(thumb, job) == "/srv/out/a.mp4.scenes/scene-001.jpg");
    BOOST_TEST(file_path(call(Method::get, "/api/jobs/7/scenes/scene-002.jpg"), job).empty());
    BOOST_TEST(file_path(before, {{"sidecar", nullptr}}).empty());
}
