#include "media/media_writer.h"

#include "media/av_error.h"

namespace rr::media {

Result<MediaWriter> MediaWriter::create(const std::filesystem::path& final_path,
                                        const std::string& format) {
    MediaWriter w{TempFile(final_path)};
    AVFormatContext* ctx = nullptr;
    int ret = avformat_alloc_output_context2(&ctx, nullptr, format.c_str(), w.temp_.path().c_str());
    if (ret < 0 || !ctx)
        return av::error(ret, "cannot create " + format + " muxer", Errc::internal);
    w.fmt_.reset(ctx);
    return w;
}

Result<AVStream*> MediaWriter::add_stream(const AVCodecParameters* par, AVRational time_base) {
    AVStream* st = avformat_new_stream(fmt_.get(), nullptr);
    if (!st) return make_error(Errc::internal, "out of memory");
    int ret = avcodec_parameters_copy(st->codecpar, par);
    if (ret < 0) return av::error(ret, "stream parameters", Errc::internal);
    st->codecpar->codec_tag = 0;  // let the muxer pick the tag its container uses
    st->time_base = time_base;
    return st;
}

Status MediaWriter::write_header(AVDictionary** options) {
    if (!(fmt_->oformat->flags & AVFMT_NOFILE)) {
        int ret = avio_open(&fmt_->pb, temp_.path().c_str(), AVIO_FLAG_WRITE);
        if (ret < 0) return av::error(ret, temp_.path().string(), Errc::io);
    }
    int ret = avformat_write_header(fmt_.get(), options);
    if (ret < 0) return av::error(ret, "cannot write container header");
    header_written_ = true;
    return {};
}

Status MediaWriter::write(AVPacket* pkt) {
    int ret = av_interleaved_write_frame(fmt_.get(), pkt);
    if (ret < 0) return av::error(ret, "write " + temp_.final_path().filename().string(), Errc::io);
    return {};
}

Status MediaWriter::finish() {
    if (!header_written_) return make_error(Errc::internal, "finish() before write_header()");
    int ret = av_write_trailer(fmt_.get());
    if (ret < 0) return av::error(ret, "write " + temp_.final_path().filename().string(), Errc::io);
    if (fmt_->pb) {
        ret = fmt_->pb->error;
        if (ret >= 0) ret = avio_closep(&fmt_->pb);
        if (ret < 0)
            return av::error(ret, "write " + temp_.final_path().filename().string(), Errc::io);
    }
    return temp_.commit();
}

}  // namespace rr::media
