#include "core/choices.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace rr {

std::string_view container_extension(Container c) {
    switch (c) {
        case Container::mkv:
            return ".mkv";
        case Container::webm:
            return ".webm";
        case Container::mp4:
            break;
    }
    return ".mp4";
}

const char* muxer_name(Container c) {
    switch (c) {
        case Container::mkv:
            return "matroska";
        case Container::webm:
            return "webm";
        case Container::mp4:
            break;
    }
    return "mp4";
}

std::optional<Container> container_for_extension(std::string_view extension) {
    std::string ext(extension);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (ext == ".m4v" || ext == ".mov") return Container::mp4;
    for (std::size_t i = 0; i < ChoiceNames<Container>::names.size(); ++i) {
        const auto c = static_cast<Container>(i);
        if (ext == container_extension(c)) return c;
    }
    return std::nullopt;
}

}  // namespace rr
