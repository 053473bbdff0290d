// Console lines of pib-init: "pib-init: <what it does or waits for>".
// The init writes to /dev/console; the test modes write to stderr.
#pragma once

#include <string>

namespace pib::client {

class Console {
  public:
    /// Writes to `fd` (not owned).
    explicit Console(int fd) : fd_(fd) {}
    /// stderr when it is open (the kernel gives init /dev/console as fds 0-2), else /dev/console.
    static Console open_console();
    void say(const std::string& line) const;
    int fd() const { return fd_; }

  private:
    int fd_;
};

}  // namespace pib::client
