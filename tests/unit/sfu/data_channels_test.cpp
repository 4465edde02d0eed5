// Data channels over a real usrsctp association per pair, the two ends wired back to back in
// memory (what DTLS would carry), and the room's slide deck fanning a slide out over them.
#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "datachannel/data_channels.hpp"
#include "datachannel/dcep.hpp"
#include "sctp/sctp_transport.hpp"
#include "slides/slide_deck.hpp"

namespace podium::sfu {
namespace {

using datachannel::DataChannels;
using Clock = std::chrono::steady_clock;

struct Received {
  std::uint16_t stream;
  bool binary;
  std::vector<std::uint8_t> bytes;
  std::string text() const { return {bytes.begin(), bytes.end()}; }
};

// One end of a pair: records what arrives, queues its SCTP packets for the other end.
class End : public datachannel::DataChannelObserver {
 public:
  End(bool dtls_client, std::size_t remote_max, std::size_t send_buffer = 256 * 1024) {
    datachannel::DataChannelOptions options;
    options.dtls_client = dtls_client;
    options.remote_max_message_size = remote_max;
    options.sctp.send_buffer = send_buffer;
    channels = std::make_unique<DataChannels>(options, *this);
  }
  ~End() override {
    blocked = true;
    channels.reset();  // its ABORT comes back through on_data_packet
  }
  void on_data_packet(std::span<const std::uint8_t> packet) override {
    if (!blocked) outbox.emplace_back(packet.begin(), packet.end());
  }
  void on_data_connected() override { connected = true; }
  void on_data_closed() override { closed = true; }
  void on_channel_open(std::uint16_t stream, const datachannel::Channel& channel) override {
    opened[stream] = channel.label;
  }
  void on_channel_message(std::uint16_t stream, bool binary, sctp::Message&& message) override {
    if (deck && !presenter) return deck->on_guest_message(*channels, stream);
    if (deck && presenter)
      return deck->on_presenter_message(binary, std::move(message), Clock::now());
    auto bytes = message.bytes();
    messages.push_back({stream, binary, {bytes.begin(), bytes.end()}});
  }
  void on_data_writable() override {
    if (deck && !presenter) deck->on_guest_writable(*channels, Clock::now());
  }
  void on_channel_error(datachannel::ChannelError error) override { errors.push_back(error); }
  void on_sctp_error(sctp::Error error) override { sctp_errors.push_back(error); }

  std::unique_ptr<DataChannels> channels;
  std::deque<std::vector<std::uint8_t>> outbox;
  bool connected = false, closed = false, blocked = false;
  std::map<std::uint16_t, std::string> opened;
  std::vector<Received> messages;
  std::vector<datachannel::ChannelError> errors;
  std::vector<sctp::Error> sctp_errors;
  slides::SlideDeck* deck = nullptr;  // set on the SFU end
  bool presenter = false;
};

struct Pair {
  // `sfu` is the DTLS server (odd streams), `peer` the browser (DTLS client, even streams).
  Pair(std::size_t peer_max = 262144, std::size_t sfu_queue = 256 * 1024,
       std::size_t sfu_max_as_seen_by_peer = 262144)
      : sfu(false, peer_max, sfu_queue), peer(true, sfu_max_as_seen_by_peer, 1u << 20) {}
  // Moves packets both ways until nothing is in flight (or `limit` rounds).
  bool exchange(int limit = 100000) {
    for (int round = 0; round < limit; ++round) {
      if (sfu.outbox.empty() && peer.outbox.empty()) return true;
      auto a = std::move(sfu.outbox);
      sfu.outbox.clear();
      for (auto& packet : a) {
        if (!peer.blocked) peer.channels->receive_packet(packet);
      }
      auto b = std::move(peer.outbox);
      peer.outbox.clear();
      for (auto& packet : b) {
        if (!sfu.blocked) sfu.channels->receive_packet(packet);
      }
    }
    return false;
  }
  void connect() {
    sfu.channels->start();
    peer.channels->start();
    ASSERT_TRUE(exchange());
    ASSERT_TRUE(sfu.connected && peer.connected);
  }
  End sfu;
  End peer;
};

TEST(Dcep, OpenRoundTripsAndRejectsBadLengths) {
  datachannel::OpenMessage open;
  open.label = "slides";
  open.protocol = "v1";
  open.priority = 512;
  auto bytes = datachannel::serialize_open(open);
  ASSERT_EQ(bytes.size(), 12u + 6 + 2);
  auto parsed = datachannel::parse_open(bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->label, "slides");
  EXPECT_EQ(parsed->protocol, "v1");
  EXPECT_EQ(parsed->priority, 512);
  EXPECT_TRUE(parsed->ordered());
  bytes.push_back(0);
  EXPECT_FALSE(datachannel::parse_open(bytes));
  bytes.resize(5);
  EXPECT_FALSE(datachannel::parse_open(bytes));
  EXPECT_FALSE(datachannel::classify(std::vector<std::uint8_t>{0x07}));
}

TEST(DataChannels, SfuOpensOddStreamAndMessagesFlowBothWays) {
  Pair pair;
  pair.connect();
  auto stream = pair.sfu.channels->open("slides");
  ASSERT_TRUE(stream);
  EXPECT_EQ(*stream % 2, 1);  // RFC 8832 section 6: the DTLS server uses odd ids
  ASSERT_TRUE(pair.exchange());
  ASSERT_EQ(pair.peer.opened.at(*stream), "slides");
  EXPECT_TRUE(pair.sfu.channels->channel(*stream)->acked);

  EXPECT_EQ(pair.sfu.channels->send_text(*stream, "hello"), sctp::SendStatus::sent);
  std::vector<std::uint8_t> big(200000);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::uint8_t>(i * 7);
  EXPECT_EQ(pair.sfu.channels->send_binary(*stream, big), sctp::SendStatus::sent);
  EXPECT_EQ(pair.sfu.channels->send_text(*stream, ""), sctp::SendStatus::sent);
  ASSERT_TRUE(pair.exchange());
  ASSERT_EQ(pair.peer.messages.size(), 3u);
  EXPECT_EQ(pair.peer.messages[0].text(), "hello");
  EXPECT_FALSE(pair.peer.messages[0].binary);
  EXPECT_TRUE(pair.peer.messages[1].binary);
  EXPECT_EQ(pair.peer.messages[1].bytes, big);
  EXPECT_TRUE(pair.peer.messages[2].bytes.empty());  // PPID 56: empty string

  EXPECT_EQ(pair.peer.channels->send_text(*stream, "back"), sctp::SendStatus::sent);
  ASSERT_TRUE(pair.exchange());
  ASSERT_EQ(pair.sfu.messages.size(), 1u);
  EXPECT_EQ(pair.sfu.messages[0].text(), "back");
}

TEST(DataChannels, HonoursThePeersMaxMessageSize) {
  Pair pair(65536);
  pair.connect();
  auto stream = pair.sfu.channels->open("slides");
  ASSERT_TRUE(stream);
  std::vector<std::uint8_t> too_big(65537);
  EXPECT_EQ(pair.sfu.channels->send_binary(*stream, too_big), sctp::SendStatus::failed);
  too_big.pop_back();
  EXPECT_EQ(pair.sfu.channels->send_binary(*stream, too_big), sctp::SendStatus::sent);
}

TEST(DataChannels, IncomingMessageAboveTheAdvertisedSizeIsDroppedAndReported) {
  // A peer that ignores the SFU's a=max-message-size:262144 (aiortc does) sends 300000 bytes.
  Pair pair(262144, 256 * 1024, 1u << 20);
  pair.connect();
  auto stream = pair.peer.channels->open("slides");
  ASSERT_TRUE(stream);
  ASSERT_TRUE(pair.exchange());
  std::vector<std::uint8_t> big(300000, 1);
  ASSERT_EQ(pair.peer.channels->send_binary(*stream, big), sctp::SendStatus::sent);
  ASSERT_EQ(pair.peer.channels->send_text(*stream, "after"), sctp::SendStatus::sent);
  ASSERT_TRUE(pair.exchange());
  ASSERT_EQ(pair.sfu.sctp_errors.size(), 1u);
  EXPECT_EQ(pair.sfu.sctp_errors[0], sctp::Error::message_too_large);
  // The association carries on with the next message.
  ASSERT_EQ(pair.sfu.messages.size(), 1u);
  EXPECT_EQ(pair.sfu.messages[0].text(), "after");
}

TEST(DataChannels, PeerOpeningAStreamOfOurParityIsCountedAndAcceptedWhenFree) {
  Pair pair;
  pair.connect();
  auto ours = pair.sfu.channels->open("slides");  // stream 1
  ASSERT_TRUE(ours);
  ASSERT_TRUE(pair.exchange());
  auto hand_open = [&](std::uint16_t stream, const char* label) {
    datachannel::OpenMessage open;
    open.label = label;
    auto owner = std::make_shared<std::vector<std::uint8_t>>(datachannel::serialize_open(open));
    sctp::Message message;
    message.stream = stream;
    message.ppid = sctp::kPpidDcep;
    message.data = std::shared_ptr<const std::uint8_t[]>(owner, owner->data());
    message.size = owner->size();
    pair.sfu.channels->on_sctp_message(std::move(message));
  };
  // The peer (DTLS client) must use even ids; an OPEN on 3 (free) is counted and accepted, one
  // on 1 (ours) is refused.
  hand_open(3, "x");
  hand_open(*ours, "y");
  ASSERT_EQ(pair.sfu.errors.size(), 3u);
  EXPECT_EQ(pair.sfu.errors[0], datachannel::ChannelError::stream_parity);
  EXPECT_EQ(pair.sfu.errors[1], datachannel::ChannelError::stream_parity);
  EXPECT_EQ(pair.sfu.errors[2], datachannel::ChannelError::stream_in_use);
  EXPECT_EQ(pair.sfu.opened.size(), 1u);
  EXPECT_EQ(pair.sfu.opened.at(3), "x");
  EXPECT_EQ(pair.sfu.channels->channel(*ours)->label, "slides");
}

// --- The deck over real associations.

struct GuestView {
  std::map<std::string, std::vector<std::uint8_t>> slides;
  std::vector<std::string> order;  // "slide:<id>", "show:<id>", "cancel:<id>"
  std::string last_show;
  std::vector<bool> presenter;  // every `presenter` state received, in order
};

// Replays what a guest page would do with the messages of its slides channel.
GuestView replay(const std::vector<Received>& messages) {
  GuestView view;
  std::string id;
  std::uint64_t size = 0;
  std::vector<std::uint8_t> bytes;
  for (const auto& m : messages) {
    if (m.binary) {
      bytes.insert(bytes.end(), m.bytes.begin(), m.bytes.end());
      if (bytes.size() == size) view.slides[id] = bytes;
      continue;
    }
    auto text = m.text();
    auto field = [&](const std::string& key) {
      auto at = text.find("\"" + key + "\":");
      if (at == std::string::npos) return std::string();
      at += key.size() + 3;
      if (text[at] == '"') return text.substr(at + 1, text.find('"', at + 1) - at - 1);
      return text.substr(at, text.find_first_of(",}", at) - at);
    };
    const auto type = field("type");
    if (type == "presenter") {  // state, not part of the slide order
      view.presenter.push_back(field("connected") == "true");
      continue;
    }
    if (type == "slide") {
      id = field("id");
      size = std::stoull(field("size"));
      bytes.clear();
      if (size == 0) view.slides[id] = {};
    } else if (type == "show") {
      view.last_show = field("id");
      // The slide's bytes must be complete before its show.
      EXPECT_TRUE(view.slides.contains(view.last_show)) << view.last_show;
    }
    view.order.push_back(type + ":" + field("id"));
  }
  return view;
}

std::vector<std::uint8_t> pattern(std::size_t size, std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::uint8_t>(i * 31 + seed);
  return bytes;
}

class DeckTest : public ::testing::Test {
 protected:
  DeckTest() : deck(slides::SlideLimits{8u << 20, 32u << 20}, counters) {}

  Pair& add_presenter() {
    presenter = std::make_unique<Pair>();
    presenter->sfu.deck = &deck;
    presenter->sfu.presenter = true;
    presenter->connect();
    auto stream = presenter->peer.channels->open("slides");
    EXPECT_TRUE(stream);
    presenter->exchange();
    presenter_stream = *stream;
    deck.set_presenter(presenter->sfu.channels.get(), *stream);
    return *presenter;
  }
  Pair& add_guest(std::size_t peer_max = 262144, std::size_t queue = 2u << 20) {
    guests.push_back(std::make_unique<Pair>(peer_max, queue));
    auto& guest = *guests.back();
    guest.sfu.deck = &deck;
    guest.connect();
    auto stream = guest.sfu.channels->open("slides");
    EXPECT_TRUE(stream);
    deck.add_guest(*guest.sfu.channels, *stream, Clock::now());
    return guest;
  }
  void upload(const std::string& id, const std::vector<std::uint8_t>& bytes,
              std::size_t chunk = 65536) {
    auto& channels = *presenter->peer.channels;
    ASSERT_EQ(
        channels.send_text(presenter_stream, R"({"type":"slide","id":")" + id + R"(","size":)" +
                                                 std::to_string(bytes.size()) +
                                                 R"(,"mime":"image/jpeg","name":"a.jpg"})"),
        sctp::SendStatus::sent);
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
      const auto n = std::min(chunk, bytes.size() - at);
      while (channels.send_binary(presenter_stream, std::span(bytes).subspan(at, n)) !=
             sctp::SendStatus::sent) {
        run(1);
      }
      run(1);
    }
    run();
  }
  void show(const std::string& id) {
    ASSERT_EQ(presenter->peer.channels->send_text(presenter_stream,
                                                  R"({"type":"show","id":")" + id + "\"}"),
              sctp::SendStatus::sent);
    run();
  }
  // Exchanges packets on every pair and runs the deck's tick, `rounds` times (until quiet when 0).
  void run(int rounds = 0) {
    for (int i = 0; rounds == 0 ? i < 400 : i < rounds; ++i) {
      bool quiet = presenter->exchange(1);
      for (auto& guest : guests) quiet = guest->exchange(1) && quiet;
      deck.on_tick(Clock::now());
      if (rounds == 0 && quiet && i > 3) break;
    }
  }

  slides::DataCounters counters;
  slides::SlideDeck deck;
  std::unique_ptr<Pair> presenter;
  std::uint16_t presenter_stream = 0;
  std::vector<std::unique_ptr<Pair>> guests;
};

TEST_F(DeckTest, SlideReachesEveryGuestOnceAndShowFollowsItsBytes) {
  add_presenter();
  add_guest();
  add_guest(65536);  // an aiortc-like peer: every message must fit 65536
  add_guest();
  const auto image = pattern(1'000'000, 1);
  upload("s1", image, 100000);
  show("s1");
  for (auto& guest : guests) {
    auto view = replay(guest->peer.messages);
    ASSERT_TRUE(view.slides.contains("s1"));
    EXPECT_EQ(view.slides["s1"], image);
    EXPECT_EQ(view.last_show, "s1");
    for (const auto& m : guest->peer.messages) {
      EXPECT_LE(m.bytes.size(), guest->sfu.channels->max_send_message());
    }
  }
  EXPECT_EQ(counters.slides_received, 1u);
  EXPECT_EQ(counters.slides_delivered, 3u);
  // Upload once: the presenter's payload crossed once, each guest got its own copy.
  EXPECT_GE(counters.message_bytes[0][slides::kPresenter], image.size());
  EXPECT_LE(counters.message_bytes[0][slides::kPresenter], image.size() + 200);
  // The presenter heard about guests and delivery.
  auto presenter_view = presenter->peer.messages;
  bool delivered_all = false, guests_three = false;
  for (const auto& m : presenter_view) {
    delivered_all |=
        m.text().find(R"("type":"delivered","id":"s1","guests":3,"of":3)") != std::string::npos;
    guests_three |= m.text() == R"({"type":"guests","count":3})";
  }
  EXPECT_TRUE(delivered_all);
  EXPECT_TRUE(guests_three);
}

TEST_F(DeckTest, GuestsLearnWhetherThePresenterIsConnected) {
  auto& early = add_guest();  // before any presenter
  early.exchange();
  EXPECT_EQ(replay(early.peer.messages).presenter, std::vector<bool>{false});
  add_presenter();
  run();
  EXPECT_EQ(replay(early.peer.messages).presenter, (std::vector<bool>{false, true}));
  auto& late = add_guest();
  run();
  EXPECT_EQ(replay(late.peer.messages).presenter, std::vector<bool>{true});
  deck.presenter_left(presenter->sfu.channels.get());
  run();
  EXPECT_EQ(replay(early.peer.messages).presenter, (std::vector<bool>{false, true, false}));
  EXPECT_EQ(replay(late.peer.messages).presenter, (std::vector<bool>{true, false}));
}

TEST_F(DeckTest, PresenterStateNeverInterruptsASlidesBytes) {
  add_presenter();
  auto& guest = add_guest(262144, 256 * 1024);
  run();
  guest.peer.blocked = true;  // the guest stalls mid-slide: its queue holds a fraction
  guest.sfu.blocked = true;
  const auto image = pattern(900000, 4);
  upload("big", image);
  deck.presenter_left(presenter->sfu.channels.get());  // ...when the presenter leaves
  run(20);
  guest.peer.blocked = false;
  guest.sfu.blocked = false;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline && replay(guest.peer.messages).presenter.size() < 2) {
    sctp::handle_sctp_timers(Clock::now());
    run(50);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::uint64_t bytes_since_header = 0;
  bool in_slide = false, interrupted = false;
  for (const auto& m : guest.peer.messages) {
    if (m.binary) {
      bytes_since_header += m.bytes.size();
      continue;
    }
    if (m.text().find(R"("type":"slide")") != std::string::npos) {
      in_slide = true;
      bytes_since_header = 0;
    }
    if (m.text().find(R"("type":"presenter")") != std::string::npos && in_slide &&
        bytes_since_header < image.size()) {
      interrupted = true;
    }
  }
  EXPECT_FALSE(interrupted);
  EXPECT_EQ(replay(guest.peer.messages).slides["big"], image);
  EXPECT_EQ(replay(guest.peer.messages).presenter, (std::vector<bool>{true, false}));
}

TEST_F(DeckTest, AReconnectingPresenterIsToldWhatTheRoomStores) {
  add_presenter();
  upload("a", pattern(1000, 1));
  upload("b", pattern(2000, 2));
  show("b");
  auto first = std::move(presenter);
  deck.presenter_left(first->sfu.channels.get());
  add_presenter();
  presenter->exchange();
  bool told = false;
  for (const auto& m : presenter->peer.messages) {
    told |=
        m.text() ==
        R"({"type":"deck","slides":[{"id":"a","size":1000},{"id":"b","size":2000}],"current":"b"})";
  }
  EXPECT_TRUE(told);
}

TEST_F(DeckTest, LateJoinerGetsTheCurrentSlideFirstThenTheRest) {
  add_presenter();
  upload("a", pattern(30000, 1));
  upload("b", pattern(40000, 2));
  upload("c", pattern(50000, 3));
  show("b");
  auto& late = add_guest();
  run();
  auto view = replay(late.peer.messages);
  ASSERT_GE(view.order.size(), 4u);
  EXPECT_EQ(view.order[0], "slide:b");
  EXPECT_EQ(view.order[1], "show:b");
  EXPECT_EQ(view.order[2], "slide:a");
  EXPECT_EQ(view.order[3], "slide:c");
  EXPECT_EQ(view.slides["c"], pattern(50000, 3));
}

TEST_F(DeckTest, StalledGuestDoesNotHoldOthersAndConvergesOnTheNewestShow) {
  add_presenter();
  auto& fast = add_guest();
  auto& slow = add_guest(262144, 256 * 1024);
  upload("s1", pattern(200000, 1));
  show("s1");
  slow.peer.blocked = true;  // stops reading: nothing reaches it, nothing comes back
  slow.sfu.blocked = true;
  upload("s2", pattern(900000, 2));
  show("s2");
  upload("s3", pattern(900000, 3));
  show("s3");
  auto fast_view = replay(fast.peer.messages);
  EXPECT_EQ(fast_view.last_show, "s3");
  EXPECT_EQ(fast_view.slides["s3"], pattern(900000, 3));
  EXPECT_LE(slow.sfu.channels->buffered(), 256u * 1024);
  // It resumes: SCTP retransmits what was lost, then the newest slide and its show.
  slow.peer.blocked = false;
  slow.sfu.blocked = false;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  GuestView slow_view;
  while (Clock::now() < deadline) {
    sctp::handle_sctp_timers(Clock::now());
    run(50);
    slow_view = replay(slow.peer.messages);
    if (slow_view.last_show == "s3") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(slow_view.last_show, "s3");
  EXPECT_EQ(slow_view.slides["s3"], pattern(900000, 3));
  // It never got the show of s2: the newest one won.
  for (const auto& entry : slow_view.order) EXPECT_NE(entry, "show:s2");
  EXPECT_GE(counters.slides_skipped[static_cast<std::size_t>(slides::Skip::superseded)], 1u);
}

TEST_F(DeckTest, BadInputGetsAnErrorAndTheDeckCarriesOn) {
  add_presenter();
  add_guest();
  auto& channels = *presenter->peer.channels;
  auto send = [&](const std::string& text) {
    ASSERT_EQ(channels.send_text(presenter_stream, text), sctp::SendStatus::sent);
    run();
  };
  send("not json");
  send(R"({"type":"dance"})");
  send(R"({"type":"slide","id":"x","size":-1,"mime":"image/png"})");
  send(R"({"type":"slide","id":"huge","size":99999999999,"mime":"image/png"})");
  send(R"({"type":"show","id":"nope"})");
  std::vector<std::uint8_t> stray(10);
  channels.send_binary(presenter_stream, stray);  // swallowed: bytes of the refused slide
  run();
  upload("ok", pattern(1000, 9));
  channels.send_binary(presenter_stream, stray);  // beyond any announced slide
  run();
  std::vector<std::string> reasons;
  for (const auto& m : presenter->peer.messages) {
    auto text = m.text();
    if (text.find(R"("type":"error")") != std::string::npos) reasons.push_back(text);
  }
  ASSERT_EQ(reasons.size(), 6u);
  EXPECT_NE(reasons[0].find("invalid JSON"), std::string::npos);
  EXPECT_NE(reasons[1].find("unknown type"), std::string::npos);
  EXPECT_NE(reasons[2].find("missing or invalid field: size"), std::string::npos);
  EXPECT_NE(reasons[3].find("slide too large"), std::string::npos);
  EXPECT_NE(reasons[4].find("unknown slide"), std::string::npos);
  EXPECT_NE(reasons[5].find("bytes without a slide"), std::string::npos);
  show("ok");
  auto view = replay(guests[0]->peer.messages);
  EXPECT_EQ(view.slides["ok"], pattern(1000, 9));
  EXPECT_EQ(view.last_show, "ok");
}

TEST_F(DeckTest, AbandonedUploadIsCancelledForGuestsThatStartedIt) {
  add_presenter();
  auto& guest = add_guest();
  auto& channels = *presenter->peer.channels;
  ASSERT_EQ(channels.send_text(presenter_stream,
                               R"({"type":"slide","id":"half","size":200000,"mime":"image/png"})"),
            sctp::SendStatus::sent);
  std::vector<std::uint8_t> part(65536, 7);
  ASSERT_EQ(channels.send_binary(presenter_stream, part), sctp::SendStatus::sent);
  run();
  // The presenter goes away mid-upload (closed, or replaced by a new presenter session).
  deck.presenter_left(presenter->sfu.channels.get());
  run();
  auto view = replay(guest.peer.messages);
  ASSERT_FALSE(view.order.empty());
  EXPECT_EQ(view.order.front(), "slide:half");
  EXPECT_EQ(view.order.back(), "cancel:half");
  EXPECT_FALSE(deck.store().find("half"));
  // A new presenter's slide goes through normally afterwards.
  add_presenter();
  upload("next", pattern(5000, 4));
  show("next");
  view = replay(guest.peer.messages);
  EXPECT_EQ(view.slides["next"], pattern(5000, 4));
  EXPECT_EQ(view.last_show, "next");
}

TEST_F(DeckTest, DuplicateIdAndFullRoomAreRefusedAndTheirBytesSwallowed) {
  add_presenter();
  add_guest();
  upload("a", pattern(1000, 1));
  upload("a", pattern(1000, 2));  // duplicate: refused, its bytes dropped quietly
  show("a");
  auto view = replay(guests[0]->peer.messages);
  EXPECT_EQ(view.slides["a"], pattern(1000, 1));
  std::size_t duplicate = 0, stray = 0;
  for (const auto& m : presenter->peer.messages) {
    duplicate += m.text().find("duplicate slide id") != std::string::npos;
    stray += m.text().find("bytes without a slide") != std::string::npos;
  }
  EXPECT_EQ(duplicate, 1u);
  EXPECT_EQ(stray, 0u);
  EXPECT_EQ(counters.protocol_errors[static_cast<std::size_t>(slides::ProtocolError::duplicate_id)],
            1u);
}

TEST_F(DeckTest, EvictsLeastRecentlyUsedButNeverTheCurrentSlide) {
  add_presenter();
  for (int i = 0; i < 4; ++i) upload("s" + std::to_string(i), pattern(8u << 20, 1));
  show("s0");
  upload("s4", pattern(8u << 20, 2));  // 40 MiB > 32 MiB: s1 goes, s0 is current
  EXPECT_TRUE(deck.store().find("s0"));
  EXPECT_FALSE(deck.store().find("s1"));
  EXPECT_TRUE(deck.store().find("s4"));
  EXPECT_LE(deck.store().reserved_bytes(), 32u << 20);
}

}  // namespace
}  // namespace podium::sfu
