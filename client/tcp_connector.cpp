// TCP streams with timeouts for pib-init's HTTP client.
#include "client/tcp_connector.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace pib::client {

namespace {

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

// Waits for `events` on `fd`; Errc::io on timeout.
Status wait_for(int fd, short events, int timeout_ms, const char* what) {
    pollfd p{fd, events, 0};
    for (;;) {
        int rc = ::poll(&p, 1, timeout_ms);
        if (rc < 0 && errno == EINTR) continue;
        if (rc < 0) return fail(Errc::io, errno_text("poll"));
        if (rc == 0)
            return fail(Errc::io, std::string(what) + ": timed out after " +
                                      std::to_string(timeout_ms) + " ms");
        return {};
    }
}

class TcpStream : public Stream {
  public:
    TcpStream(int fd, int idle_ms) : fd_(fd), idle_ms_(idle_ms) {}
    ~TcpStream() override { ::close(fd_); }

    Status write_all(std::string_view data) override {
        while (!data.empty()) {
            PIB_TRY(wait_for(fd_, POLLOUT, idle_ms_, "send"));
            ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n < 0) return fail(Errc::io, errno_text("send"));
            data.remove_prefix(static_cast<std::size_t>(n));
        }
        return {};
    }

    Result<std::size_t> read(char* buf, std::size_t n) override {
        for (;;) {
            PIB_TRY(wait_for(fd_, POLLIN, idle_ms_, "receive"));
            ssize_t got = ::recv(fd_, buf, n, 0);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got < 0) return fail(Errc::io, errno_text("receive"));
            return static_cast<std::size_t>(got);
        }
    }

  private:
    int fd_;
    int idle_ms_;
};

}  // namespace

Result<std::unique_ptr<Stream>> TcpConnector::connect(const Url& url) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(url.port);
    if (::inet_pton(AF_INET, url.host.c_str(), &sa.sin_addr) != 1)
        return fail(Errc::invalid, "not an IPv4 address: " + url.host);
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return fail(Errc::io, errno_text("socket"));
    const std::string where = "connect " + url.host + ":" + std::to_string(url.port);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
        if (errno != EINPROGRESS) {
            Error e = fail(Errc::io, errno_text(where.c_str()));
            ::close(fd);
            return e;
        }
        if (auto s = wait_for(fd, POLLOUT, connect_ms_, where.c_str()); !s) {
            ::close(fd);
            return s.error();
        }
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            ::close(fd);
            return fail(Errc::io, where + ": " + std::strerror(err));
        }
    }
    return std::unique_ptr<Stream>(new TcpStream(fd, idle_ms_));
}

}  // namespace pib::client
