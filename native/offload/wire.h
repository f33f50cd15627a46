// Numbers from the IP, TCP and UDP headers (RFC 791, 8200, 9293, 768) that
// both the split and the coalescing read and write.
#pragma once

#include <stdint.h>

namespace tunl {
namespace offload {

constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoIcmpV6 = 58;
constexpr uint8_t kNoNextHeader = 59;

// TCP flags (byte 13 of the header).
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpCwr = 0x80;

// Where the transport checksum sits: csum_offset of the virtio header.
constexpr uint16_t kTcpCsumOffset = 16;
constexpr uint16_t kUdpCsumOffset = 6;

}  // namespace offload
}  // namespace tunl
