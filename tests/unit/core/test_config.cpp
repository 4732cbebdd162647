#define BOOST_TEST_MODULE core_config
#include <unistd.h>

#include <boost/test/unit_test.hpp>

#include "core/config.h"
#include "support/process.h"

using rr::parse_config_text;

BOOST_AUTO_TEST_CASE(the_shipped_default_config_is_valid) {
    auto cfg = rr::load_config_file(rr::test::source_dir() / "config/renderrush.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    BOOST_TEST(cfg->profiles.count("default") == 1u);
    BOOST_TEST(cfg->profiles.count("web-1080p") == 1u);
    // Its relative models_dir is the source tree's models/, wherever the daemon runs.
    BOOST_TEST(cfg->paths.models_dir == rr::test::source_dir() / "models");
}

BOOST_AUTO_TEST_CASE(absolute_models_dir_is_kept_and_the_default_is_the_package_path) {
    auto cfg = parse_config_text("paths: {models_dir: /opt/models}\n", "test.yaml");
    BOOST_REQUIRE(cfg.ok());
    BOOST_TEST(cfg->paths.models_dir == "/opt/models");
    auto none = parse_config_text("workers: 1\n", "test.yaml");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(none->paths.models_dir == "/usr/share/renderrush/models");
}

BOOST_AUTO_TEST_CASE(profiles_read_stages_and_settings) {
    auto cfg = parse_config_text(R"(
workers: 3
chunk_seconds: 4.5
limits: {max_pixels: 1000000, decode_error_ratio: 0.2}
profiles:
  web:
    stages:
      - grayscale: {}
      - brightness: {amount: 0.1}
      - blur
    video: {codec: hevc, crf: 26, preset: fast, hwaccel: none}
    audio: {codec: opus, bitrate: 96k}
    container: mkv
)",
                                 "test.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    BOOST_TEST(cfg->workers == 3);
    BOOST_TEST(cfg->chunk_seconds == 4.5);
    BOOST_TEST(cfg->limits.max_pixels == 1000000);
    const auto& p = cfg->profiles.at("web");
    BOOST_REQUIRE_EQUAL(p.stages.size(), 3u);
    BOOST_TEST(p.stages[1].name == "brightness");
    BOOST_TEST(p.stages[1].params["amount"].get<double>() == 0.1);
    BOOST_TEST(p.stages[1].mark->line == 9);
    BOOST_TEST(p.stages[2].name == "blur");
    BOOST_TEST(p.video.codec == rr::VideoCodec::hevc);
    BOOST_TEST(p.video.hwaccel == rr::HwAccel::none);
    BOOST_TEST(p.video.crf == 26);
    BOOST_TEST(p.audio.codec == rr::AudioCodec::opus);
    BOOST_TEST(p.container == rr::Container::mkv);
}

BOOST_AUTO_TEST_CASE(every_problem_is_reported_with_line_and_column) {
    auto cfg = parse_config_text(R"(workers: many
chunk_seconds: -3
profiles:
  web:
    video: {codec: vp8, crff: 20}
    colour: red
)",
                                 "bad.yaml");
    BOOST_REQUIRE(!cfg.ok());
    const std::string& m = cfg.error().message;
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("bad.yaml:1:10: workers: expected an integer") != std::string::npos);
    BOOST_TEST(m.find("bad.yaml:2:16: chunk_seconds") != std::string::npos);
    BOOST_TEST(m.find("profiles.web.video.codec: invalid value 'vp8'") != std::string::npos);
    BOOST_TEST(m.find("profiles.web.video.crff: unknown key") != std::string::npos);
    BOOST_TEST(m.find("bad.yaml:6:5: profiles.web.colour: unknown key") != std::string::npos);
}

// YAML keeps one of two equal keys and drops the other without a word: a setting written
// twice (a pasted block, an edit below an old line) was half ignored. It is an error, with
// both places.
BOOST_AUTO_TEST_CASE(a_key_given_twice_is_an_error_naming_both_lines) {
    auto cfg = parse_config_text(R"(workers: 2
min_free_mb: 10
min_free_mb: 5000
profiles:
  web:
    video: {codec: h264, crf: 20, crf: 30}
  web:
    video: {codec: h264}
)",
                                 "twice.yaml");
    BOOST_REQUIRE(!cfg.ok());
    const std::string& m = cfg.error().message;
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("twice.yaml:3:1: min_free_mb: given twice (first on line 2") !=
               std::string::npos);
    BOOST_TEST(m.find("twice.yaml:7:3: profiles.web: given twice (first on line 5") !=
               std::string::npos);
    BOOST_TEST(m.find("profiles.web.video.crf: given twice") != std::string::npos);
    // Once each is fine.
    BOOST_TEST(parse_config_text("workers: 2\nmin_free_mb: 10\n", "once.yaml").ok());
}

BOOST_AUTO_TEST_CASE(choices_name_their_allowed_values_where_they_are_wrong) {
    auto cfg = parse_config_text(R"(watches:
  - {path: /in, output: /out, profile: web, on_failure: delete, on_success: shred}
profiles:
  web:
    video: {hwaccel: cuda}
    audio: {codec: mp3}
    container: avi
)",
                                 "bad.yaml");
    BOOST_REQUIRE(!cfg.ok());
    const std::string& m = cfg.error().message;
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("bad.yaml:2:57: watches[0].on_failure: invalid value 'delete' (expected "
                      "move|keep)") != std::string::npos);
    BOOST_TEST(m.find("watches[0].on_success: invalid value 'shred' (expected "
                      "move|keep|delete)") != std::string::npos);
    BOOST_TEST(m.find("profiles.web.video.hwaccel: invalid value 'cuda' (expected "
                      "auto|none|qsv|vaapi|nvenc)") != std::string::npos);
    BOOST_TEST(m.find("profiles.web.audio.codec: invalid value 'mp3' (expected copy|aac|opus)") !=
               std::string::npos);
    BOOST_TEST(m.find("bad.yaml:7:16: profiles.web.container: invalid value 'avi' (expected "
                      "mp4|mkv|webm)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(watch_dispositions_and_defaults_parse) {
    auto cfg = parse_config_text(R"(watches:
  - {path: /in, output: /out, profile: web, on_success: delete, on_failure: keep}
  - {path: /in2, output: /out2, profile: web}
profiles:
  web: {}
)",
                                 "ok.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    BOOST_TEST(cfg->watches[0].on_success == rr::Disposition::remove);
    BOOST_TEST(cfg->watches[0].on_failure == rr::Disposition::keep);
    BOOST_TEST(cfg->watches[1].on_success == rr::Disposition::move);
    BOOST_TEST(cfg->watches[1].on_failure == rr::Disposition::move);
    const auto& p = cfg->profiles.at("web");
    BOOST_TEST(p.video.codec == rr::VideoCodec::h264);
    BOOST_TEST(p.video.hwaccel == rr::HwAccel::automatic);
    BOOST_TEST(p.audio.codec == rr::AudioCodec::copy);
    BOOST_TEST(p.container == rr::Container::mp4);
}

BOOST_AUTO_TEST_CASE(a_choice_reads_back_what_it_writes) {
    for (auto c :
         {rr::VideoCodec::h264, rr::VideoCodec::hevc, rr::VideoCodec::av1, rr::VideoCodec::vp9})
        BOOST_TEST((rr::parse_choice<rr::VideoCodec>(rr::to_string(c)) == c));
    BOOST_TEST(rr::to_string(rr::HwAccel::automatic) == "auto");
    BOOST_TEST(rr::to_string(rr::Disposition::remove) == "delete");
    BOOST_TEST(!rr::parse_choice<rr::Container>("avi").has_value());
    for (auto c : {rr::Container::mp4, rr::Container::mkv, rr::Container::webm})
        BOOST_TEST((rr::container_for_extension(rr::container_extension(c)) == c));
    BOOST_TEST(rr::container_extension(rr::Container::mkv) == ".mkv");
    BOOST_TEST(std::string(rr::muxer_name(rr::Container::mkv)) == "matroska");
    BOOST_TEST(std::string(rr::muxer_name(rr::Container::webm)) == "webm");
    BOOST_TEST((rr::container_for_extension(".MOV") == rr::Container::mp4));
    BOOST_TEST(!rr::container_for_extension(".avi").has_value());
}

BOOST_AUTO_TEST_CASE(yaml_syntax_errors_have_a_position) {
    auto cfg = parse_config_text("profiles: {web: [\n", "broken.yaml");
    BOOST_REQUIRE(!cfg.ok());
    BOOST_TEST(cfg.error().code == rr::Errc::config);
    BOOST_TEST(cfg.error().message.find("broken.yaml:") == 0u);
}

BOOST_AUTO_TEST_CASE(empty_file_gives_defaults) {
    auto cfg = parse_config_text("", "empty.yaml");
    BOOST_REQUIRE(cfg.ok());
    BOOST_TEST(cfg->workers == 0);
    BOOST_TEST(cfg->chunk_seconds == 10.0);
    BOOST_TEST(cfg->profiles.empty());
}

// Debian's prometheus-node-exporter reads this folder; the unit makes it writable. "" is off.
BOOST_AUTO_TEST_CASE(metrics_textfile_defaults_to_debians_node_exporter_folder) {
    for (const char* text : {"", "workers: 1\n", "metrics: {interval_seconds: 5}\n"}) {
        auto cfg = parse_config_text(text, "test.yaml");
        BOOST_REQUIRE(cfg.ok());
        BOOST_TEST(cfg->metrics.textfile_path.string() ==
                   "/var/lib/prometheus/node-exporter/renderrush.prom");
    }
    auto off = parse_config_text("metrics: {textfile_path: \"\"}\n", "test.yaml");
    BOOST_REQUIRE(off.ok());
    BOOST_TEST(off->metrics.textfile_path.empty());
}

BOOST_AUTO_TEST_CASE(no_cluster_section_means_single_node_and_the_section_has_defaults) {
    auto none = parse_config_text("workers: 1\n", "test.yaml");
    BOOST_REQUIRE(none.ok());
    BOOST_TEST(!none->cluster.has_value());
    BOOST_TEST(none->storage.root == "/srv/renderrush");
    auto cfg = parse_config_text(
        "cluster:\n  database: postgresql://rr@db/rr\n  work_dir: /srv/rr/.work\n", "test.yaml");
    BOOST_REQUIRE_MESSAGE(cfg.ok(), (cfg.ok() ? "" : cfg.error().message));
    BOOST_REQUIRE(cfg->cluster.has_value());
    const auto& c = *cfg->cluster;
    BOOST_TEST(c.database == "postgresql://rr@db/rr");
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    BOOST_TEST(c.node_id == std::string(host));
    BOOST_TEST(c.lease_seconds == 60.0);
    BOOST_TEST(c.heartbeat_seconds == 10.0);
    BOOST_TEST(c.poll_seconds == 2.0);
    BOOST_TEST(c.retention_days == 7.0);
    BOOST_TEST(c.work_dir == "/srv/rr/.work");
}

BOOST_AUTO_TEST_CASE(cluster_problems_have_line_and_column) {
    auto cfg = parse_config_text(R"(storage: {root: /mnt/share}
cluster:
  node_id: n1
  lease_seconds: 2
  heartbeat_seconds: 5
  work_dir: rel/dir
  poll: 3
)",
                                 "c.yaml");
    BOOST_REQUIRE(!cfg.ok());
    const std::string& m = cfg.error().message;
    BOOST_TEST(m.find("c.yaml:3:3: cluster.database: required") != std::string::npos, m);
    BOOST_TEST(
        m.find("c.yaml:6:13: cluster.work_dir: must be an absolute path") != std::string::npos, m);
    BOOST_TEST(m.find("c.yaml:5:22: cluster.heartbeat_seconds: must be shorter than "
                      "lease_seconds") != std::string::npos,
               m);
    BOOST_TEST(m.find("c.yaml:7:3: cluster.poll") != std::string::npos, m);
}

// In cluster mode any node may run, join and publish a job: every folder a job's files come
// from or go to must lie under storage.root, each refusal naming its key.
BOOST_AUTO_TEST_CASE(cluster_mode_refuses_folders_outside_storage_root) {
    const std::string cluster =
        "storage: {root: /srv/rr}\ncluster:\n  database: \"postgresql://rr@db/rr\"\n"
        "  work_dir: /srv/rr/.work\nprofiles:\n  web: {}\n";
    const std::string inside =
        "watches:\n  - {path: /srv/rr/in, output: /srv/rr/out, profile: web}\n"
        "submit_roots: [/srv/rr/uploads]\nsubmit_output: /srv/rr/submitted\n";
    auto ok = parse_config_text(cluster + inside, "ok.yaml");
    BOOST_TEST(ok.ok(), (ok.ok() ? "" : ok.error().message));

    const std::string outside =
        "watches:\n  - {path: /home/me/in, output: /srv/rr/out, profile: web}\n"
        "  - {path: /srv/rr/../elsewhere/in, output: /mnt/other/out, profile: web}\n"
        "submit_roots: [/srv/rr/uploads, /tmp/uploads]\nsubmit_output: /var/out\n";
    auto bad = parse_config_text(cluster + outside, "bad.yaml");
    BOOST_REQUIRE(!bad.ok());
    const std::string& m = bad.error().message;
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("watches[0].path: /home/me/in is outside storage.root /srv/rr: in cluster "
                      "mode every node must reach a job's files") != std::string::npos);
    BOOST_TEST(m.find("watches[0].output") == std::string::npos);
    // Dot segments do not lead back inside.
    BOOST_TEST(m.find("watches[1].path: /srv/rr/../elsewhere/in is outside") != std::string::npos);
    BOOST_TEST(m.find("watches[1].output: /mnt/other/out is outside") != std::string::npos);
    BOOST_TEST(m.find("submit_roots[0]") == std::string::npos);
    BOOST_TEST(m.find("submit_roots[1]: /tmp/uploads is outside") != std::string::npos);
    BOOST_TEST(m.find("submit_output: /var/out is outside") != std::string::npos);

    // Without a cluster section the same folders are this node's business alone.
    auto alone = parse_config_text("profiles:\n  web: {}\n" + outside, "alone.yaml");
    BOOST_TEST(alone.ok(), (alone.ok() ? "" : alone.error().message));
}

BOOST_AUTO_TEST_CASE(a_sqlite_queue_takes_an_absolute_path_only) {
    for (const std::string db : {"sqlite:/var/lib/rr/queue.db", "sqlite:///var/lib/rr/queue.db"}) {
        auto ok = parse_config_text("cluster:\n  database: \"" + db + "\"\n  work_dir: /srv/w\n",
                                    "ok.yaml");
        BOOST_TEST(ok.ok(), db << ": " << (ok.ok() ? "" : ok.error().message));
    }
    for (const std::string db : {"sqlite:queue.db", "sqlite://var/lib/rr/queue.db"}) {
        auto bad = parse_config_text("cluster:\n  database: \"" + db + "\"\n  work_dir: /srv/w\n",
                                     "bad.yaml");
        BOOST_REQUIRE(!bad.ok());
        BOOST_TEST(bad.error().message.find("bad.yaml:2:13: cluster.database: a SQLite queue "
                                            "needs an absolute path") != std::string::npos,
                   bad.error().message);
    }
}

BOOST_AUTO_TEST_CASE(interlace_keys_parse_and_wrong_values_name_line_and_choices) {
    auto ok = parse_config_text(R"(profiles:
  tv: {video: {interlace: keep}}
  web: {video: {interlace: deinterlace, deinterlace_rate: field}}
  plain: {}
)",
                                "ok.yaml");
    BOOST_REQUIRE_MESSAGE(ok.ok(), (ok.ok() ? "" : ok.error().message));
    BOOST_TEST(ok->profiles.at("tv").video.interlace == rr::Interlace::keep);
    BOOST_TEST(ok->profiles.at("web").video.interlace == rr::Interlace::deinterlace);
    BOOST_TEST(ok->profiles.at("web").video.deinterlace_rate == rr::DeinterlaceRate::field);
    BOOST_TEST(ok->profiles.at("plain").video.interlace == rr::Interlace::automatic);
    BOOST_TEST(ok->profiles.at("plain").video.deinterlace_rate == rr::DeinterlaceRate::frame);

    auto bad = parse_config_text(R"(profiles:
  tv:
    video: {interlace: yadif, deinterlace_rate: double}
)",
                                 "bad.yaml");
    BOOST_REQUIRE(!bad.ok());
    const std::string& m = bad.error().message;
    BOOST_TEST_MESSAGE(m);
    BOOST_TEST(m.find("bad.yaml:3:24: profiles.tv.video.interlace: invalid value 'yadif' "
                      "(expected auto|keep|deinterlace)") != std::string::npos);
    BOOST_TEST(m.find("profiles.tv.video.deinterlace_rate: invalid value 'double' (expected "
                      "frame|field)") != std::string::npos);
}
