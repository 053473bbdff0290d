// The runner of pib-agent's commands (agent.hpp): gathers what health.cpp and
// watch.cpp decide on, talks to netbootd, and logs each step as an event.
#include "client/agent/agent.hpp"

#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <variant>
#include <vector>

#include "client/agent/health.hpp"
#include "client/agent/watch.hpp"
#include "client/cmdline.hpp"
#include "common/fs.hpp"
#include "common/process.hpp"

namespace pib::client::agent {

namespace fs = std::filesystem;

namespace {

Result<BootParams> read_params(const AgentOptions& o, const Logger& log) {
    auto text = read_file(o.cmdline);
    if (!text) return text.error();
    auto p = parse_cmdline(*text);
    if (!p) {
        log.event(Level::error, "agent", "bad_cmdline")
            .kv("file", o.cmdline.string())
            .kv("error", p.error().message);
        return p.error();
    }
    return p;
}

std::string last_line(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    auto nl = s.rfind('\n');
    return nl == std::string::npos ? s : s.substr(nl + 1);
}

// systemd's verdict. `is-system-running --wait` returns once the boot's jobs
// are done, which is why pib-health.service is Type=exec, not oneshot: a
// oneshot would be one of those jobs and wait for itself.
void system_state(const AgentOptions& o, HealthInput& in, const Logger& log) {
    Command c{.argv = {o.systemctl, "is-system-running", "--wait"}, .capture_stdout = true};
    auto r = run_process(c);
    in.system_state = r ? last_line(r->out) : "";
    log.event(Level::info, "agent", "system_state").kv("state", in.system_state);
    if (in.system_state == "running") return;
    Command f{.argv = {o.systemctl, "list-units", "--state=failed", "--plain", "--no-legend",
                       "--no-pager"},
              .capture_stdout = true};
    if (auto lr = run_process(f); lr && lr->exit_code == 0) in.failed_units = parse_failed_units(lr->out);
    for (const auto& u : in.failed_units) log.event(Level::warn, "agent", "failed_unit").kv("unit", u);
}

// run-parts rules: regular executable files, name order, no dot files or backups.
void run_checks(const AgentOptions& o, HealthInput& in, const Logger& log) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(o.checks_dir, ec)) {
        const std::string name = e.path().filename().string();
        if (name.empty() || name.front() == '.' || name.back() == '~') continue;
        if (!e.is_regular_file(ec) || ::access(e.path().c_str(), X_OK) != 0) continue;
        files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        CheckResult cr;
        cr.name = f.filename().string();
        auto r = run_process(Command{.argv = {f.string()}});
        if (r) {
            cr.exit_code = r->exit_code;
            cr.signal = r->signal;
            cr.output = r->tail;
        } else {
            cr.exit_code = 127;
            cr.output = r.error().message;
        }
        log.event(cr.passed() ? Level::info : Level::warn, "agent", "check")
            .kv("name", cr.name)
            .kv("exit", cr.exit_code)
            .kv("signal", cr.signal);
        in.checks.push_back(std::move(cr));
    }
}

FetchEnv fetch_env(const AgentOptions& o, const Logger& log) {
    FetchEnv env;
    env.say = [&log](const std::string& l) { log.event(Level::info, "agent", "http").kv("what", l); };
    env.sleep_ms = o.sleep_ms;
    return env;
}

// The node and the netbootd URL a command talks to, or the exit code when
// there is nothing to do (0) or the command line is unusable (2).
struct Target {
    BootParams params;
    Url url;
};
std::variant<Target, int> target(const AgentOptions& o, const Logger& log, const char* what,
                                 const std::string& suffix) {
    auto p = read_params(o, log);
    if (!p) return 2;
    if (p->node.empty()) {
        log.event(Level::warn, "agent", "no_node")
            .kv("why", std::string("no pib.node= on the command line: nothing to ") + what);
        return 0;
    }
    auto url = parse_url(p->server + "/api/v1/nodes/" + p->node + suffix);
    if (!url) return 2;
    return Target{std::move(*p), std::move(*url)};
}

int local_minute_of_day() {
    std::time_t t = std::time(nullptr);
    std::tm tm{};
    ::localtime_r(&t, &tm);
    return tm.tm_hour * 60 + tm.tm_min;
}

}  // namespace

namespace {

int report_health(const AgentOptions& o, Connector& net, const Logger& log, const BootParams* p,
                  const Url* url) {
    HealthInput in;
    system_state(o, in, log);
    run_checks(o, in, log);
    const HealthVerdict v = judge(in);
    log.event(v.healthy ? Level::info : Level::warn, "agent", "health")
        .kv("node", p->node)
        .kv("release", p->release)
        .kv("healthy", v.healthy ? "true" : "false")
        .kv("detail", v.detail);
    const std::string body = health_report_json(p->release, in, v);
    const FetchEnv env = fetch_env(o, log);
    std::int64_t wait = o.first_wait_ms;
    for (int attempt = 1; attempt <= o.tries; ++attempt) {
        if (post(net, *url, "application/json", body, 1, 0, env)) {
            log.event(Level::info, "agent", "reported").kv("url", url->text()).kv("attempt", attempt);
            return 0;
        }
        if (attempt == o.tries) break;
        log.event(Level::info, "agent", "retry").kv("attempt", attempt).kv("of", o.tries).kv("in_ms", wait);
        o.sleep_ms(wait);
        wait = std::min(wait * 2, o.cap_wait_ms);
    }
    log.event(Level::error, "agent", "report_failed").kv("url", url->text()).kv("attempts", o.tries);
    return 1;
}

int watch_release(const AgentOptions& o, Connector& net, const Logger& log, const BootParams* p,
                  const Url* url) {
    StringSink sink;
    RetryPolicy retry{o.tries, o.first_wait_ms, o.cap_wait_ms};
    if (auto st = fetch(net, *url, sink, retry, fetch_env(o, log)); !st) {
        log.event(Level::error, "agent", "node_unreadable").kv("url", url->text()).kv("error", st.error().message);
        return 1;
    }
    auto doc = parse_node_doc(sink.body());
    if (!doc) {
        log.event(Level::error, "agent", "node_unreadable").kv("url", url->text()).kv("error", doc.error().message);
        return 1;
    }
    const int minute = o.minute_of_day ? *o.minute_of_day : local_minute_of_day();
    const WatchDecision d = decide(p->release, *doc, minute);
    log.event(Level::info, "agent", d.reboot ? "reboot" : "stay")
        .kv("node", p->node)
        .kv("booted", p->release)
        .kv("served", doc->served.value_or("-"))
        .kv("window", doc->window.value_or("-"))
        .kv("time", hhmm(minute))
        .kv("reason", d.reason);
    if (!d.reboot || o.dry_run) return 0;
    auto r = run_process(Command{.argv = {o.systemctl, "reboot"}});
    if (!r || r->exit_code != 0) {
        log.event(Level::error, "agent", "reboot_failed").kv("error", r ? r->tail : r.error().message);
        return 1;
    }
    return 0;
}

}  // namespace

int run_health(const AgentOptions& o, Connector& net, const Logger& log) {
    auto t = target(o, log, "report", "/report");
    if (auto* code = std::get_if<int>(&t)) return *code;
    return report_health(o, net, log, &std::get<Target>(t).params, &std::get<Target>(t).url);
}

int run_watch(const AgentOptions& o, Connector& net, const Logger& log) {
    auto t = target(o, log, "watch", "");
    if (auto* code = std::get_if<int>(&t)) return *code;
    return watch_release(o, net, log, &std::get<Target>(t).params, &std::get<Target>(t).url);
}

}  // namespace pib::client::agent
