#include "stages/detect_result.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "stages/rounding.h"
#include "vision/detection.h"

namespace rr::stages {
namespace {

constexpr float kStitchIou = 0.3f;

const nlohmann::json& list(const nlohmann::json& record, const char* key) {
    static const nlohmann::json kEmpty = nlohmann::json::array();  // immutable
    auto it = record.find(key);
    return it != record.end() && it->is_array() ? *it : kEmpty;
}

cv::Rect2f box_of(const nlohmann::json& o) {
    const auto& b = o.at("box");
    return {b[0].get<float>(), b[1].get<float>(), b[2].get<float>(), b[3].get<float>()};
}

// For chunk `c`, which of its local tracks continue which local tracks of chunk `c - 1`.
std::map<int, int> links(const nlohmann::json& prev, const nlohmann::json& next) {
    std::map<int64_t, const nlohmann::json*> prev_frames;
    for (const auto& f : list(prev, "frames")) prev_frames[f.at("pts").get<int64_t>()] = &f;
    // Votes: (next local, prev local) -> summed IoU over the shared frames.
    std::map<std::pair<int, int>, float> votes;
    for (const auto& o : list(next, "overlap")) {
        auto it = prev_frames.find(o.at("pts").get<int64_t>());
        if (it == prev_frames.end()) continue;
        for (const auto& a : o.at("objects")) {
            for (const auto& b : it->second->at("objects")) {
                if (a.at("label") != b.at("label")) continue;
                const float v = vision::iou(box_of(a), box_of(b));
                if (v >= kStitchIou)
                    votes[{a.at("track").get<int>(), b.at("track").get<int>()}] += v;
            }
        }
    }
    std::vector<std::pair<float, std::pair<int, int>>> ranked;
    for (const auto& [key, v] : votes) ranked.push_back({v, key});
    std::sort(ranked.begin(), ranked.end(),
              [](const auto& a, const auto& b) { return a.first > b.first; });
    std::map<int, int> out;
    std::map<int, bool> prev_taken;
    for (const auto& [v, key] : ranked) {
        if (out.count(key.first) || prev_taken[key.second]) continue;
        out[key.first] = key.second;
        prev_taken[key.second] = true;
    }
    return out;
}

}  // namespace

nlohmann::json merge_detections(const std::vector<nlohmann::json>& chunks, AVRational time_base) {
    std::vector<const nlohmann::json*> present;
    for (const auto& c : chunks) {
        if (c.is_object()) present.push_back(&c);
    }
    nlohmann::json frames = nlohmann::json::array();
    nlohmann::json tracks = nlohmann::json::object();
    int64_t origin_frame = -1, origin_pts = 0, frames_seen = 0;
    for (const auto* c : present) {
        if (c->contains("first_frame") && origin_frame < 0) {
            origin_frame = c->at("first_frame").get<int64_t>();
            origin_pts = c->at("first_pts").get<int64_t>();
        }
        frames_seen += c->value("frames_seen", int64_t{0});
    }
    const double tb = av_q2d(time_base);

    struct TrackInfo {
        std::string label;
        int64_t first = 0, last = 0, count = 0;
        double first_time = 0, last_time = 0;
        float max_score = 0;
    };
    std::map<int, TrackInfo> info;  // by global id
    int next_global = 1;
    std::map<int, int> prev_global;  // previous chunk: local -> global
    for (size_t ci = 0; ci < present.size(); ++ci) {
        const nlohmann::json& chunk = *present[ci];
        const auto continued = ci > 0 ? links(*present[ci - 1], chunk) : std::map<int, int>{};
        std::map<int, int> global;
        for (const auto& f : list(chunk, "frames")) {
            const int64_t frame = f.at("frame").get<int64_t>() - std::max<int64_t>(0, origin_frame);
            const double time =
                round_to(static_cast<double>(f.at("pts").get<int64_t>() - origin_pts) * tb, 3);
            nlohmann::json objects = nlohmann::json::array();
            for (const auto& o : f.at("objects")) {
                const int local = o.at("track").get<int>();
                auto g = global.find(local);
                if (g == global.end()) {
                    int id = 0;
                    if (auto l = continued.find(local); l != continued.end()) {
                        if (auto p = prev_global.find(l->second); p != prev_global.end())
                            id = p->second;
                    }
                    g = global.emplace(local, id ? id : next_global++).first;
                }
                nlohmann::json out = o;
                out["track"] = g->second;
                objects.push_back(std::move(out));
                TrackInfo& t = info[g->second];
                const float score = o.at("score").get<float>();
                if (t.count == 0) {
                    t.label = o.at("label").get<std::string>();
                    t.first = frame;
                    t.first_time = time;
                }
                t.last = frame;
                t.last_time = time;
                ++t.count;
                t.max_score = std::max(t.max_score, score);
            }
            frames.push_back({{"frame", frame}, {"time", time}, {"objects", std::move(objects)}});
        }
        // A track of the previous chunk that ran through this whole chunk unseen cannot
        // continue later: links only look one chunk back.
        prev_global = std::move(global);
    }
    std::sort(frames.begin(), frames.end(), [](const nlohmann::json& a, const nlohmann::json& b) {
        return a["frame"] < b["frame"];
    });
    for (const auto& [id, t] : info) {
        auto& label = tracks[t.label];
        if (label.is_null())
            label = {{"count", 0}, {"frames", 0}, {"tracks", nlohmann::json::array()}};
        label["count"] = label["count"].get<int>() + 1;
        label["frames"] = label["frames"].get<int64_t>() + t.count;
        label["tracks"].push_back({{"track", id},
                                   {"first_frame", t.first},
                                   {"last_frame", t.last},
                                   {"first_time", t.first_time},
                                   {"last_time", t.last_time},
                                   {"frames", t.count},
                                   {"max_score", round_to(t.max_score, 3)}});
    }
    return {{"frames_processed", frames_seen},
            {"frames_with_objects", frames.size()},
            {"frames", std::move(frames)},
            {"tracks", std::move(tracks)}};
}

}  // namespace rr::stages
