// Interface, packet socket and address configuration for pib-init.
#include "client/net_setup.hpp"

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "client/udp_frame.hpp"

namespace pib::client {

namespace {

Error sys_error(const std::string& what) {
    return fail(Errc::io, what + ": " + std::strerror(errno));
}

// A socket for interface ioctls, closed on scope exit.
struct IoctlSocket {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ~IoctlSocket() {
        if (fd >= 0) ::close(fd);
    }
};

ifreq named(const std::string& iface) {
    ifreq r{};
    std::strncpy(r.ifr_name, iface.c_str(), IFNAMSIZ - 1);
    return r;
}

sockaddr as_sockaddr(const Ipv4Addr& a) {
    sockaddr_in in{};
    in.sin_family = AF_INET;
    std::memcpy(&in.sin_addr, a.data(), 4);
    sockaddr out{};
    std::memcpy(&out, &in, sizeof in);
    return out;
}

class PacketTransport : public DhcpTransport {
  public:
    PacketTransport(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
    ~PacketTransport() override { ::close(fd_); }

    Status send(std::span<const std::uint8_t> payload) override {
        UdpDatagram d;
        d.dst = {255, 255, 255, 255};
        d.src_port = dhcp::kClientPort;
        d.dst_port = dhcp::kServerPort;
        d.payload.assign(payload.begin(), payload.end());
        auto frame = encode_udp_ipv4(d);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_protocol = htons(ETH_P_IP);
        to.sll_ifindex = ifindex_;
        to.sll_halen = 6;
        std::memset(to.sll_addr, 0xff, 6);
        if (::sendto(fd_, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to),
                     sizeof to) < 0)
            return sys_error("dhcp send");
        return {};
    }

    Result<std::optional<std::vector<std::uint8_t>>> receive(std::int64_t deadline_ms) override {
        std::vector<std::uint8_t> buf(65536);
        for (;;) {
            std::int64_t left = deadline_ms - now_ms();
            if (left <= 0) return std::optional<std::vector<std::uint8_t>>{};
            pollfd p{fd_, POLLIN, 0};
            int rc = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left, 60000)));
            if (rc < 0 && errno == EINTR) continue;
            if (rc < 0) return sys_error("dhcp poll");
            if (rc == 0) continue;
            ssize_t n = ::recv(fd_, buf.data(), buf.size(), 0);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return sys_error("dhcp receive");
            auto d = decode_udp_ipv4(std::span(buf.data(), static_cast<std::size_t>(n)));
            if (!d || d->dst_port != dhcp::kClientPort) continue;
            return std::optional<std::vector<std::uint8_t>>{std::move(d->payload)};
        }
    }

    std::int64_t now_ms() override { return monotonic_ms(); }

  private:
    int fd_;
    int ifindex_;
};

}  // namespace

std::int64_t monotonic_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

Result<std::string> choose_interface(const std::string& wanted, int timeout_ms,
                                     const std::function<void(const std::string&)>& say) {
    const std::int64_t end = monotonic_ms() + timeout_ms;
    bool told = false;
    for (;;) {
        std::vector<std::string> names;
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator("/sys/class/net", ec))
            names.push_back(e.path().filename().string());
        std::sort(names.begin(), names.end());
        if (!wanted.empty()) {
            if (std::find(names.begin(), names.end(), wanted) != names.end()) return wanted;
        } else {
            // Ethernet only (ARPHRD_ETHER = 1): not lo, nor sit0/tunl0 should a tunnel module be loaded.
            for (const auto& n : names) {
                std::ifstream type_file("/sys/class/net/" + n + "/type");
                int type = 0;
                if (type_file >> type && type == 1) return n;
            }
        }
        if (monotonic_ms() >= end)
            return fail(Errc::not_found, wanted.empty() ? "no network interface besides lo"
                                                        : "no network interface " + wanted);
        if (!told)
            say("waiting for network interface " +
                (wanted.empty() ? std::string("(any)") : wanted));
        told = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
}

Status bring_up(const std::string& iface, int carrier_ms) {
    IoctlSocket s;
    if (s.fd < 0) return sys_error("socket");
    ifreq r = named(iface);
    if (::ioctl(s.fd, SIOCGIFFLAGS, &r) != 0) return sys_error("SIOCGIFFLAGS " + iface);
    r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP);
    if (::ioctl(s.fd, SIOCSIFFLAGS, &r) != 0) return sys_error("SIOCSIFFLAGS " + iface);
    const std::int64_t end = monotonic_ms() + carrier_ms;
    while (monotonic_ms() < end) {
        std::ifstream f("/sys/class/net/" + iface + "/carrier");
        int carrier = 0;
        if (f >> carrier && carrier == 1) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {};
}

Result<Mac> hardware_address(const std::string& iface) {
    IoctlSocket s;
    if (s.fd < 0) return sys_error("socket");
    ifreq r = named(iface);
    if (::ioctl(s.fd, SIOCGIFHWADDR, &r) != 0) return sys_error("SIOCGIFHWADDR " + iface);
    Mac m{};
    std::memcpy(m.data(), r.ifr_hwaddr.sa_data, 6);
    return m;
}

Status configure_ipv4(const std::string& iface, const Ipv4Addr& address, const Ipv4Addr& netmask,
                      const Ipv4Addr& gateway) {
    IoctlSocket s;
    if (s.fd < 0) return sys_error("socket");
    ifreq r = named(iface);
    r.ifr_addr = as_sockaddr(address);
    if (::ioctl(s.fd, SIOCSIFADDR, &r) != 0) return sys_error("SIOCSIFADDR " + iface);
    r = named(iface);
    r.ifr_netmask = as_sockaddr(netmask);
    if (::ioctl(s.fd, SIOCSIFNETMASK, &r) != 0) return sys_error("SIOCSIFNETMASK " + iface);
    if (gateway == Ipv4Addr{}) return {};
    rtentry rt{};
    rt.rt_dst = as_sockaddr({0, 0, 0, 0});
    rt.rt_genmask = as_sockaddr({0, 0, 0, 0});
    rt.rt_gateway = as_sockaddr(gateway);
    rt.rt_flags = RTF_UP | RTF_GATEWAY;
    std::string dev = iface;
    rt.rt_dev = dev.data();
    if (::ioctl(s.fd, SIOCADDRT, &rt) != 0 && errno != EEXIST)
        return sys_error("SIOCADDRT via gateway");
    return {};
}

Result<std::unique_ptr<DhcpTransport>> open_packet_transport(const std::string& iface) {
    unsigned idx = ::if_nametoindex(iface.c_str());
    if (idx == 0) return sys_error("if_nametoindex " + iface);
    int fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
    if (fd < 0) return sys_error("socket(AF_PACKET)");
    sockaddr_ll me{};
    me.sll_family = AF_PACKET;
    me.sll_protocol = htons(ETH_P_IP);
    me.sll_ifindex = static_cast<int>(idx);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0) {
        Error e = sys_error("bind(AF_PACKET) " + iface);
        ::close(fd);
        return e;
    }
    return std::unique_ptr<DhcpTransport>(new PacketTransport(fd, static_cast<int>(idx)));
}

}  // namespace pib::client
