#include "netbootd/cli.hpp"

namespace netbootd {

std::unique_ptr<CLI::App> make_cli(CliArgs& args, const std::string& version_text) {
    auto app = std::make_unique<CLI::App>(
        "netbootd: proxyDHCP, TFTP and HTTP boot server for pibuild releases", "netbootd");
    app->set_version_flag("--version", version_text);
    auto* c1 = app->add_option("--config", args.config,
                               "Serve with this config file (YAML; man netbootd.yaml)");
    auto* c2 = app->add_option("--check-config", args.check_config,
                               "Validate a config file (and its inventory and key), then exit");
    app->add_flag("--keep-privileges", args.keep_privileges,
                  "Do not switch to the configured user after binding (for tests and containers)");
    c1->excludes(c2);
    app->footer("The config's keys: man netbootd.yaml. The inventory: man pibuild-nodes.");
    return app;
}

}  // namespace netbootd
