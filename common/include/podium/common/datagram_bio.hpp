// DTLS over a socket OpenSSL does not own: a source/sink BIO whose writes are outgoing datagrams
// and whose read returns the datagram being fed, whole and exactly once (RFC 6347 section 4.1.1:
// the record layer must see datagram boundaries). Used by the SFU's DTLS transport and the
// relay's dtls:// listener; each supplies the endpoint.
#pragma once

#include <openssl/bio.h>

#include <cstdint>
#include <span>

namespace podium {

class DatagramBioEndpoint {
 public:
  virtual ~DatagramBioEndpoint() = default;
  // One datagram OpenSSL wrote (a flight of handshake records, or one record).
  virtual void send_datagram(std::span<const std::uint8_t> datagram) = 0;
  // What BIO_CTRL_DGRAM_QUERY_MTU answers; 0 leaves the MTU to SSL_set_mtu / OpenSSL.
  virtual long datagram_mtu() const { return 0; }

  // The received datagram OpenSSL may read next; the BIO clears it once read. Set it before
  // calling into OpenSSL and clear it afterwards.
  std::span<const std::uint8_t> pending_input;
};

// A new BIO over `endpoint` (not owned; it must outlive the BIO), or nullptr when OpenSSL cannot
// allocate one.
BIO* new_datagram_bio(DatagramBioEndpoint& endpoint);
// Points a BIO made by new_datagram_bio at another endpoint (the same rules).
void set_datagram_bio_endpoint(BIO* bio, DatagramBioEndpoint& endpoint);

}  // namespace podium
