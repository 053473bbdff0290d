// The network side of pib-init that needs the kernel: choose and bring up
// the interface, a packet-socket DhcpTransport, and the IPv4 address and
// default route (ioctl SIOCSIFADDR/SIOCSIFNETMASK/SIOCADDRT).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>

#include "client/dhcp_client.hpp"
#include "common/result.hpp"

namespace pib::client {

using Ipv4Addr = std::array<std::uint8_t, 4>;

/// `wanted` if given, else the first Ethernet interface in name order,
/// waiting up to `timeout_ms` for it to appear (drivers probe asynchronously).
Result<std::string> choose_interface(const std::string& wanted, int timeout_ms,
                                     const std::function<void(const std::string&)>& say);

/// Sets IFF_UP and waits up to `carrier_ms` for carrier (no error when it never comes).
Status bring_up(const std::string& iface, int carrier_ms);

/// The interface's Ethernet address (SIOCGIFHWADDR).
Result<Mac> hardware_address(const std::string& iface);

/// Address, netmask, and a default route via `gateway` unless it is 0.0.0.0.
Status configure_ipv4(const std::string& iface, const Ipv4Addr& address, const Ipv4Addr& netmask,
                      const Ipv4Addr& gateway);

/// DHCP over AF_PACKET/SOCK_DGRAM/ETH_P_IP on one interface: broadcast out,
/// every IPv4/UDP packet to port 68 in; monotonic clock in ms.
Result<std::unique_ptr<DhcpTransport>> open_packet_transport(const std::string& iface);

/// CLOCK_MONOTONIC in ms.
std::int64_t monotonic_ms();

}  // namespace pib::client
