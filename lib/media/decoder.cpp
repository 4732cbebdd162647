#include "media/decoder.h"

#include "media/av_error.h"

namespace rr::media {

Result<Decoder> Decoder::open(const AVStream* stream, int threads) {
    const AVCodec* codec = avcodec_find_decoder(stream->codecpar->codec_id);
    if (!codec) {
        return make_error(Errc::unsupported, std::string("no decoder for codec '") +
                                                 avcodec_get_name(stream->codecpar->codec_id) +
                                                 "'");
    }
    Decoder d;
    d.ctx_.reset(avcodec_alloc_context3(codec));
    if (!d.ctx_) return make_error(Errc::internal, "out of memory");
    int ret = avcodec_parameters_to_context(d.ctx_.get(), stream->codecpar);
    if (ret < 0) return av::error(ret, "decoder parameters");
    d.ctx_->pkt_timebase = stream->time_base;
    d.ctx_->thread_count = threads;
    d.ctx_->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    ret = avcodec_open2(d.ctx_.get(), codec, nullptr);
    if (ret < 0) return av::error(ret, std::string("cannot open decoder ") + codec->name);
    return d;
}

}  // namespace rr::media
