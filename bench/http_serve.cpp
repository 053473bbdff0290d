// http-serve: serves one directory (flat, read-only) through netbootd's
// HttpServer on one EventLoop thread, as netbootd does, so that
// bench/http_bench.sh can compare it with nginx. Not a product: no config,
// no subdirectories, warnings only on stderr.
//
//   http-serve --root DIR [--address 0.0.0.0] [--port 8080]
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "netbootd/event_loop.hpp"
#include "netbootd/http_server.hpp"

namespace {

netbootd::EventLoop* g_loop = nullptr;  // for the signal handler only

class DirectoryHandler : public netbootd::HttpHandler {
public:
    explicit DirectoryHandler(std::string root) : root_(std::move(root)) {}

    netbootd::HttpResponse handle(const netbootd::HttpRequest& r) override {
        const std::string name = r.path.size() > 1 ? r.path.substr(1) : "";
        if (name.empty() || name.find('/') != std::string::npos || name[0] == '.')
            return netbootd::HttpResponse::text(404, "not found\n");
        int fd = open((root_ + "/" + name).c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return netbootd::HttpResponse::text(404, "not found\n");
        struct stat st{};
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return netbootd::HttpResponse::text(404, "not found\n");
        }
        netbootd::HttpResponse resp;
        resp.file = netbootd::HttpFile{
            fd, static_cast<std::uint64_t>(st.st_size),
            "\"" + std::to_string(st.st_ino) + "-" + std::to_string(st.st_size) + "-" +
                std::to_string(st.st_mtime) + "\"",
            static_cast<std::int64_t>(st.st_mtime)};
        return resp;
    }

private:
    std::string root_;
};

int usage() {
    std::fprintf(stderr, "usage: http-serve --root DIR [--address A] [--port N]\n");
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    netbootd::HttpServerConfig config;
    config.port = 8080;
    std::string root;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--root") root = value;
        else if (key == "--address") config.address = value;
        else if (key == "--port") config.port = static_cast<std::uint16_t>(std::stoi(value));
        else return usage();
    }
    if (root.empty() || argc % 2 == 0) return usage();

    std::signal(SIGPIPE, SIG_IGN);  // as a daemon must: lets MHD use sendfile
    auto loop = netbootd::EventLoop::create();
    if (!loop) {
        std::fprintf(stderr, "http-serve: %s\n", loop.error().message.c_str());
        return 1;
    }
    pib::Logger log([](pib::Level level, const std::string& line) {
        std::fprintf(stderr, "%s %s\n", pib::level_name(level), line.c_str());
    }, pib::Level::warn);
    DirectoryHandler handler(root);
    auto server = netbootd::HttpServer::create(**loop, config, handler, log);
    if (!server) {
        std::fprintf(stderr, "http-serve: %s\n", server.error().message.c_str());
        return 1;
    }
    std::printf("http-serve listening address=%s port=%u\n", config.address.c_str(),
                static_cast<unsigned>((*server)->port()));
    std::fflush(stdout);
    g_loop = loop->get();
    std::signal(SIGTERM, [](int) { g_loop->stop(); });
    std::signal(SIGINT, [](int) { g_loop->stop(); });
    auto st = (*loop)->run();
    server->reset();
    if (!st) {
        std::fprintf(stderr, "http-serve: %s\n", st.error().message.c_str());
        return 1;
    }
    return 0;
}
