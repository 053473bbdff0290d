// The real Connector: TCP to a numeric IPv4 address with a connect timeout
// and an idle timeout on every read and write (poll(2)).
#pragma once

#include "client/fetch.hpp"

namespace pib::client {

class TcpConnector : public Connector {
  public:
    explicit TcpConnector(int connect_timeout_ms = 5000, int idle_timeout_ms = 15000)
        : connect_ms_(connect_timeout_ms), idle_ms_(idle_timeout_ms) {}
    Result<std::unique_ptr<Stream>> connect(const Url& url) override;

  private:
    int connect_ms_;
    int idle_ms_;
};

}  // namespace pib::client
