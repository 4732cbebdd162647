#include "service/cluster_publish.h"

#include <fmt/format.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "media/checksum.h"
#include "pipeline/sidecar.h"

namespace rr::service {

namespace fs = std::filesystem;

Result<OutputRecord> describe_output(const fs::path& file) {
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    if (ec) return make_error(Errc::io, file.string() + ": " + ec.message());
    RR_ASSIGN(std::string sum, media::xxh3_128_file(file));
    return OutputRecord{static_cast<int64_t>(size), std::move(sum)};
}

Result<Publication> record_then_publish(StagedPublish& staged,
                                        const std::function<Status(const OutputRecord&)>& record) {
    Publication out;
    RR_ASSIGN(out.record, describe_output(staged.output.path()));
    if (Status st = record(out.record); !st) {
        if (st.error().code != Errc::conflict) return st.error();
        out.outcome = PublishOutcome::fenced_off;
        return out;  // the staged files go with `staged`
    }
    // The output first: link() lets one publisher win, and only the winner puts the files that
    // describe the output beside it, so a stale publisher never replaces the winner's sidecar.
    // The sidecar last: once it is there, everything is (a reader waits for it).
    Status linked = staged.output.commit_exclusive();
    if (!linked) {
        if (linked.error().code != Errc::conflict) return linked.error();
        out.outcome = PublishOutcome::lost_race;
        // An earlier joiner linked this very output and died before its sidecar: ours describes
        // the same bytes, so it completes that publication.
        std::error_code ec;
        if (fs::exists(pipeline::sidecar_path_for(staged.output.final_path()), ec) || ec)
            return out;  // the winner's sidecar stands; our staged files go with `staged`
        auto there = describe_output(staged.output.final_path());
        if (!there || *there != out.record) return out;
        for (auto& extra : staged.extras) RR_TRY(extra.commit());
        RR_TRY(staged.sidecar.commit());
        out.outcome = PublishOutcome::completed;
        return out;
    }
    for (auto& extra : staged.extras) RR_TRY(extra.commit());
    RR_TRY(staged.sidecar.commit());
    return out;
}

Result<PublishedCheck> check_published(const OutputRecord& recorded, const fs::path& output) {
    PublishedCheck c;
    std::error_code ec;
    if (!fs::exists(output, ec)) {
        if (ec) return make_error(Errc::io, output.string() + ": " + ec.message());
        return c;
    }
    RR_ASSIGN(const OutputRecord found, describe_output(output));
    if (found != recorded) {
        c.state = PublishedCheck::State::broken;
        c.message = fmt::format(
            "{} exists but is not the output this job recorded (recorded {} bytes, xxh3 {}; "
            "found {} bytes, xxh3 {}); it was left alone",
            output.string(), recorded.size, recorded.checksum, found.size, found.checksum);
        return c;
    }
    const fs::path sidecar = pipeline::sidecar_path_for(output);
    std::ifstream in(sidecar);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    if (!in.is_open()) {
        c.state = PublishedCheck::State::sidecar_missing;
        return c;
    }
    if (!parsed.is_object()) {
        c.state = PublishedCheck::State::broken;
        c.message =
            fmt::format("{} was published as recorded, but its sidecar {} is {}", output.string(),
                        sidecar.string(), in.is_open() ? "not a JSON object" : "missing");
        return c;
    }
    c.state = PublishedCheck::State::matches;
    c.sidecar = std::move(text);
    return c;
}

}  // namespace rr::service
