#include "slides/data_metrics.hpp"

#include <algorithm>

namespace podium::sfu::slides {

namespace {

prometheus::Family<prometheus::Counter>& counters(prometheus::Registry& registry, const char* name,
                                                  const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(registry);
}

void add(prometheus::Counter* counter, std::uint64_t& value) {
  if (value) counter->Increment(static_cast<double>(value));
  value = 0;
}

void flush_histogram(prometheus::Histogram* histogram, BucketCounts& counts) {
  if (!counts.any) return;
  histogram->ObserveMultiple(counts.counts, counts.sum);
  std::fill(counts.counts.begin(), counts.counts.end(), 0.0);
  counts.sum = 0;
  counts.any = false;
}

const char* kDirections[] = {"in", "out"};
const char* kRoles[] = {"presenter", "guest"};

}  // namespace

DataMetrics::DataMetrics(prometheus::Registry& registry) {
  received_ = &counters(registry, "podium_sfu_slides_received_total",
                        "Slides whose last byte the SFU received from a presenter.")
                   .Add({});
  delivered_ = &counters(registry, "podium_sfu_slides_delivered_total",
                         "Slides a guest acknowledged every byte of (one per guest and slide).")
                    .Add({});
  auto& skipped = counters(registry, "podium_sfu_slides_skipped_total",
                           "Slides or shows a guest did not get: superseded by a newer show, "
                           "or evicted before it had them.");
  skipped_[0] = &skipped.Add({{"reason", "superseded"}});
  skipped_[1] = &skipped.Add({{"reason", "evicted"}});
  auto& bytes = counters(registry, "podium_sfu_datachannel_bytes_total",
                         "Data-channel message payload bytes, by direction and the session's "
                         "role.");
  auto& messages = counters(registry, "podium_sfu_datachannel_messages_total",
                            "Data-channel messages, by direction and the session's role.");
  auto& sctp = counters(registry, "podium_sfu_sctp_bytes_total",
                        "SCTP packet bytes carried in DTLS (data, SACKs, headers), by direction "
                        "and the session's role.");
  for (std::size_t d = 0; d < 2; ++d) {
    for (std::size_t r = 0; r < 2; ++r) {
      const prometheus::Labels labels{{"direction", kDirections[d]}, {"role", kRoles[r]}};
      message_bytes_[d][r] = &bytes.Add(labels);
      messages_[d][r] = &messages.Add(labels);
      sctp_bytes_[d][r] = &sctp.Add(labels);
    }
  }
  auto& sctp_errors = counters(registry, "podium_sfu_sctp_errors_total",
                               "SCTP associations lost or refused and messages refused, by "
                               "reason.");
  for (std::size_t i = 0; i < sctp_errors_.size(); ++i) {
    sctp_errors_[i] = &sctp_errors.Add({{"reason", to_string(static_cast<sctp::Error>(i))}});
  }
  auto& channel_errors = counters(registry, "podium_sfu_datachannel_errors_total",
                                  "DCEP and data-channel messages refused, by reason.");
  for (std::size_t i = 0; i < channel_errors_.size(); ++i) {
    channel_errors_[i] = &channel_errors.Add(
        {{"reason", datachannel::to_string(static_cast<datachannel::ChannelError>(i))}});
  }
  auto& protocol = counters(registry, "podium_sfu_slide_protocol_errors_total",
                            "Slide-protocol messages answered with an error, by reason.");
  for (std::size_t i = 0; i < protocol_errors_.size(); ++i) {
    protocol_errors_[i] = &protocol.Add({{"reason", to_string(static_cast<ProtocolError>(i))}});
  }
  auto& opened = counters(registry, "podium_sfu_datachannels_opened_total",
                          "Data channels opened with DCEP, by the peer or by the SFU.");
  channels_opened_[0] = &opened.Add({{"by", "peer"}});
  channels_opened_[1] = &opened.Add({{"by", "sfu"}});
  delivery_ = &prometheus::BuildHistogram()
                   .Name("podium_sfu_slide_delivery_seconds")
                   .Help(
                       "From the presenter's last byte of a slide (or the guest's joining, if "
                       "later) to the guest's acknowledgement of its last byte.")
                   .Register(registry)
                   .Add({}, delivery_buckets());
  queue_ = &prometheus::BuildHistogram()
                .Name("podium_sfu_slide_guest_queue_bytes")
                .Help("Bytes queued in SCTP for each guest, sampled every second.")
                .Register(registry)
                .Add({}, queue_buckets());
  stored_ = &prometheus::BuildGauge()
                 .Name("podium_sfu_slides_stored")
                 .Help("Slides stored in all rooms' decks.")
                 .Register(registry)
                 .Add({});
  stored_bytes_ = &prometheus::BuildGauge()
                       .Name("podium_sfu_slides_stored_bytes")
                       .Help("Bytes reserved by the stored slides (their declared sizes).")
                       .Register(registry)
                       .Add({});
}

void DataMetrics::flush(DataCounters& c, std::size_t slides_stored, std::uint64_t stored_bytes) {
  add(received_, c.slides_received);
  add(delivered_, c.slides_delivered);
  for (std::size_t i = 0; i < skipped_.size(); ++i) add(skipped_[i], c.slides_skipped[i]);
  for (std::size_t d = 0; d < 2; ++d) {
    for (std::size_t r = 0; r < 2; ++r) {
      add(message_bytes_[d][r], c.message_bytes[d][r]);
      add(messages_[d][r], c.messages[d][r]);
      add(sctp_bytes_[d][r], c.sctp_bytes[d][r]);
    }
  }
  for (std::size_t i = 0; i < sctp_errors_.size(); ++i) add(sctp_errors_[i], c.sctp_errors[i]);
  for (std::size_t i = 0; i < channel_errors_.size(); ++i) {
    add(channel_errors_[i], c.channel_errors[i]);
  }
  for (std::size_t i = 0; i < protocol_errors_.size(); ++i) {
    add(protocol_errors_[i], c.protocol_errors[i]);
  }
  for (std::size_t i = 0; i < 2; ++i) add(channels_opened_[i], c.channels_opened[i]);
  flush_histogram(delivery_, c.delivery);
  flush_histogram(queue_, c.queue);
  stored_->Set(static_cast<double>(slides_stored));
  stored_bytes_->Set(static_cast<double>(stored_bytes));
}

}  // namespace podium::sfu::slides
