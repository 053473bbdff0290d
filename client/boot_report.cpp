// Boot timeline serialisation for pib-init.
#include "client/boot_report.hpp"

#include <nlohmann/json.hpp>

namespace pib::client {

namespace {
nlohmann::json phases_json(const BootTimeline& t) {
    nlohmann::json p = nlohmann::json::object();
    for (const auto& [name, ms] : t.phases) p[name] = ms;
    return p;
}
}  // namespace

std::string boot_json(const std::string& node, const std::string& release, const BootTimeline& t) {
    std::int64_t total = 0;
    for (const auto& ph : t.phases) total += ph.second;
    nlohmann::json j = {
        {"node", node},         {"release", release},  {"root", t.root},
        {"phases", phases_json(t)}, {"total_ms", total}};
    return j.dump(2) + "\n";
}

std::string report_json(const std::string& release, const BootTimeline& t) {
    nlohmann::json j = {
        {"release", release}, {"kind", "boot"}, {"healthy", true}, {"root", t.root},
        {"phases", phases_json(t)}};
    return j.dump();
}

}  // namespace pib::client
