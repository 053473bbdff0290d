// Console output for pib-init.
#include "client/console.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace pib::client {

Console Console::open_console() {
    // The kernel opens /dev/console as fds 0-2 of init when the initramfs has
    // the node (init/main.c console_on_rootfs); use that, so that a sandbox
    // that redirects stderr sees the lines too. Without the node they are
    // closed: open it from devtmpfs and give it fds 0-2 as the kernel would,
    // so that the root's init inherits a console too.
    if (::fcntl(2, F_GETFD) != -1) return Console(2);
    int fd = ::open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0) return Console(2);
    for (int i = 0; i <= 2; ++i)
        if (::fcntl(i, F_GETFD) == -1) ::dup2(fd, i);
    if (fd > 2) ::close(fd);
    return Console(2);
}

void Console::say(const std::string& line) const {
    std::string out = "pib-init: " + line + "\n";
    std::string_view rest = out;
    while (!rest.empty()) {
        ssize_t n = ::write(fd_, rest.data(), rest.size());
        if (n <= 0) return;  // nowhere else to tell
        rest.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace pib::client
