// pibuild: the command line front end. It parses arguments, calls the
// libraries and presents what they return; all the work is in the libraries.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "builder/build.hpp"
#include "builder/cli/app.hpp"
#include "builder/cli/complete.hpp"
#include "builder/cli/progress.hpp"
#include "builder/initramfs.hpp"
#include "builder/recipe.hpp"
#include "common/fs.hpp"
#include "common/version.hpp"
#include "crypto/ed25519.hpp"
#include "inventory/inventory.hpp"
#include "overlays/render.hpp"
#include "overlays/verify.hpp"
#include "release/manifest.hpp"
#include "squashfs/tree.hpp"

namespace {

using nlohmann::json;
namespace cli = pib::cli;

// Exit codes: 0 ok, 1 the operation failed, 2 bad input (recipe, arguments).
constexpr int kFailed = 1;
constexpr int kBadInput = 2;

// On a terminal the progress view tells the story and only warnings and
// errors are logged; elsewhere every event is a plain log line.
pib::Logger stderr_logger(bool verbose, bool tty, cli::ProgressView* view) {
    const pib::Level min = verbose ? pib::Level::debug : tty ? pib::Level::warn : pib::Level::info;
    return pib::Logger(
        [view](pib::Level level, const std::string& line) {
            if (view) view->clear();
            std::fprintf(stderr, "%s %s\n", pib::level_name(level), line.c_str());
        },
        min);
}

int report_error(const pib::Error& e) {
    std::fprintf(stderr, "pibuild: error: %s\n", e.message.c_str());
    return kFailed;
}

json stats_json(const pib::SquashfsStats& s) {
    return {{"inodes", s.inodes}, {"files", s.files}, {"directories", s.directories},
            {"symlinks", s.symlinks}, {"devices", s.devices}, {"other", s.other},
            {"hard_links", s.hard_links}, {"bytes_in", s.bytes_in}, {"bytes_out", s.bytes_out}};
}

int cmd_build(cli::BuildArgs& a) {
    pib::Diagnostics diags;
    auto recipe = pib::load_recipe(a.recipe, diags);
    if (!recipe) {
        if (!diags.empty()) std::fputs(diags.str().c_str(), stderr);
        else std::fprintf(stderr, "%s\n", recipe.error().message.c_str());
        std::fprintf(stderr, "pibuild: %s: %zu error(s); nothing was built\n", a.recipe.c_str(),
                     std::max<std::size_t>(diags.size(), 1));
        return kBadInput;
    }
    if (a.check_only) {
        std::fprintf(stderr, "%s: ok\n", a.recipe.c_str());
        return 0;
    }
    auto key = pib::SigningKey::load(a.key);
    if (!key) {
        std::fprintf(stderr, "pibuild: error: signing key: %s\n(create one with: pibuild keygen -o %s)\n",
                     key.error().message.c_str(),
                     std::filesystem::path(a.key).replace_extension("").c_str());
        return kBadInput;
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "pibuild: error: building a root needs root (owners, device nodes, chroot)\n");
        return kFailed;
    }
    pib::BuildOptions opts;
    opts.output_dir = a.out;
    opts.work_root = a.work;
    opts.cache_dir = a.cache;
    opts.workers = a.jobs;
    opts.keep_work = a.keep_work;
    opts.source_date_epoch = a.epoch;
    if (!opts.source_date_epoch) {
        if (const char* e = std::getenv("SOURCE_DATE_EPOCH"); e && *e) {
            char* end = nullptr;
            long long v = std::strtoll(e, &end, 10);
            if (*end || v < 0) {
                std::fprintf(stderr, "pibuild: error: SOURCE_DATE_EPOCH=%s is not a number of seconds\n", e);
                return kBadInput;
            }
            opts.source_date_epoch = v;
        }
    }

    const bool tty = ::isatty(STDERR_FILENO) && !a.json;
    cli::ProgressView view(stderr, tty, a.verbose);
    auto log = stderr_logger(a.verbose, tty, &view);
    auto result = pib::build_release(*recipe, *key, opts, log, &view);
    view.clear();
    if (!result) return report_error(result.error());

    for (const auto& w : result->warnings) std::fprintf(stderr, "pibuild: warning: %s\n", w.c_str());
    if (a.json) {
        json stages = json::array();  // in pipeline order
        for (const auto& s : result->stages) stages.push_back({{"stage", s.stage}, {"ms", s.elapsed.count()}});
        json out = {{"release_id", result->release_id},
                    {"path", std::filesystem::absolute(result->release_dir).string()},
                    {"already_present", result->already_present},
                    {"name", result->manifest.name},
                    {"version", result->manifest.version},
                    {"arch", result->manifest.arch},
                    {"board", result->manifest.board},
                    {"source_date_epoch", result->manifest.source_date_epoch},
                    {"stages", stages},
                    {"squashfs", stats_json(result->squashfs)},
                    {"warnings", result->warnings}};
        json arts = json::array();
        for (const auto& art : result->manifest.artifacts)
            arts.push_back({{"path", art.path}, {"sha256", art.sha256}, {"size", art.size}});
        out["artifacts"] = arts;
        std::cout << out.dump(2) << "\n";
    } else {
        std::printf("%s %s\n", result->already_present ? "unchanged" : "built",
                    result->release_dir.c_str());
    }
    return 0;
}

int cmd_keygen(const std::string& name) {
    auto key = pib::SigningKey::generate();
    if (!key) return report_error(key.error());
    auto st = pib::write_key_pair(name, *key);
    if (!st) return report_error(st.error());
    std::printf("wrote %s.key (private, mode 0600) and %s.pub\npublic key %s\n", name.c_str(),
                name.c_str(), key->public_key().fingerprint().c_str());
    return 0;
}

int cmd_verify(const std::string& dir, const std::string& pub, bool as_json) {
    auto key = pib::PublicKey::load(pub);
    if (!key) {
        std::fprintf(stderr, "pibuild: error: public key: %s\n", key.error().message.c_str());
        return kBadInput;
    }
    pib::VerifyReport report;
    auto m = pib::verify_release(dir, *key, report);
    if (as_json) {
        json out = {{"ok", m.ok()}, {"problems", report.problems}, {"key", key->fingerprint()}};
        if (m) out["artifacts"] = m->artifacts.size();
        std::cout << out.dump(2) << "\n";
    }
    if (!m) {
        if (!as_json) {
            for (const auto& p : report.problems) std::fprintf(stderr, "%s: %s\n", dir.c_str(), p.c_str());
            if (report.problems.empty()) std::fprintf(stderr, "%s: %s\n", dir.c_str(), m.error().message.c_str());
            std::fprintf(stderr, "pibuild: %s does NOT verify\n", dir.c_str());
        }
        return kFailed;
    }
    if (!as_json) {
        std::printf("%s: OK: signature by %s, %zu artifacts match\n", dir.c_str(),
                    key->fingerprint().c_str(), m->artifacts.size());
    }
    return 0;
}

int cmd_inspect(const std::string& dir, bool as_json) {
    auto bytes = pib::read_file(std::filesystem::path(dir) / "manifest.json");
    if (!bytes) return report_error(bytes.error());
    auto m = pib::Manifest::parse(*bytes);
    if (!m) return report_error(m.error());
    auto info = pib::squashfs_info(std::filesystem::path(dir) / "root.squashfs");
    const std::string id = pib::release_id(*m, *bytes);
    const bool signed_ = std::filesystem::exists(std::filesystem::path(dir) / "manifest.json.sig");
    if (as_json) {
        json out = json::parse(*bytes);
        out["release_id"] = id;
        out["signature_present"] = signed_;
        if (info) out["squashfs"] = {{"compressor", info->compressor}, {"block_size", info->block_size},
                                     {"inodes", info->inodes}, {"bytes_used", info->bytes_used},
                                     {"exportable", info->exportable}, {"xattrs", info->has_xattrs}};
        std::cout << out.dump(2) << "\n";
        return 0;
    }
    std::printf("release      %s\n", id.c_str());
    std::printf("name         %s %s (%s, %s)\n", m->name.c_str(), m->version.c_str(), m->arch.c_str(),
                m->board.c_str());
    if (!m->description.empty()) std::printf("description  %s\n", m->description.c_str());
    std::printf("built by     pibuild %s, SOURCE_DATE_EPOCH=%lld\n", m->tool_version.c_str(),
                static_cast<long long>(m->source_date_epoch));
    std::printf("recipe       sha256:%s\n", m->recipe_sha256.c_str());
    std::printf("signature    %s (check it with: pibuild verify %s --pubkey KEY.pub)\n",
                signed_ ? "present" : "MISSING", dir.c_str());
    if (info) {
        std::printf("root         %s, block %u, %u inodes, %s\n", info->compressor.c_str(),
                    info->block_size, info->inodes, cli::human_bytes(static_cast<double>(info->bytes_used)).c_str());
    }
    if (m->boot.contains("kernel")) {
        std::printf("boot         kernel %s", m->boot["kernel"].get<std::string>().c_str());
        if (m->boot.value("initramfs", json()).is_string())
            std::printf(", initramfs %s", m->boot["initramfs"].get<std::string>().c_str());
        std::printf("\n");
    }
    if (m->boot.contains("cmdline")) std::printf("cmdline      %s\n", m->boot["cmdline"].get<std::string>().c_str());
    std::printf("inputs\n");
    for (const auto& in : m->inputs) {
        std::printf("  %-10s %s%s%s\n", in.kind.c_str(), in.ref.c_str(), in.sha256.empty() ? "" : "  sha256:",
                    in.sha256.substr(0, 16).c_str());
    }
    std::printf("artifacts\n");
    for (const auto& a : m->artifacts) {
        std::printf("  %-28s %10s  %s\n", a.path.c_str(), cli::human_bytes(static_cast<double>(a.size)).c_str(),
                    a.sha256.substr(0, 16).c_str());
    }
    return 0;
}

// `pibuild nodes render`: one signed overlay per node (docs/overlays.md).
int cmd_nodes_render(const cli::NodesArgs& a) {
    pib::Diagnostics diags;
    auto inv = pib::inventory::load_inventory(a.inventory, diags);
    if (!inv) {
        if (!diags.empty()) std::fputs(diags.str().c_str(), stderr);
        else std::fprintf(stderr, "%s\n", inv.error().message.c_str());
        std::fprintf(stderr, "pibuild: %s: %zu error(s); no overlay was rendered\n", a.inventory.c_str(),
                     std::max<std::size_t>(diags.size(), 1));
        return kBadInput;
    }
    auto key = pib::SigningKey::load(a.key);
    if (!key) {
        std::fprintf(stderr, "pibuild: error: signing key: %s\n", key.error().message.c_str());
        return kBadInput;
    }
    if (::geteuid() != 0) {
        std::fprintf(stderr, "pibuild: error: rendering overlays needs root (files owned by root in the image)\n");
        return kFailed;
    }
    pib::overlays::RenderOptions opts{.store = a.store, .secrets = a.secrets, .only_node = a.node};
    // The per-node lines on stdout tell the story; -v adds the log events.
    auto log = stderr_logger(a.verbose, /*tty=*/!a.verbose, nullptr);
    auto result = pib::overlays::render_overlays(*inv, *key, opts, log, diags);
    if (!result) {
        if (diags.empty()) {
            report_error(result.error());
            // Errc::invalid: the arguments are wrong (secrets inside the store).
            return result.error().code == pib::Errc::invalid ? kBadInput : kFailed;
        }
        std::fputs(diags.str().c_str(), stderr);
        std::fprintf(stderr, "pibuild: %s: %zu error(s); no overlay was rendered\n", a.inventory.c_str(),
                     diags.size());
        return kBadInput;
    }
    if (a.json) {
        json nodes = json::array();
        for (const auto& r : *result) {
            json n = {{"node", r.node}, {"result", pib::overlays::outcome_name(r.outcome)},
                      {"path", std::filesystem::absolute(r.dir).string()}};
            if (r.outcome != pib::overlays::RenderOutcome::removed) {
                n["hostname"] = r.manifest.hostname;
                n["overlay_sha256"] = r.manifest.artifacts.front().sha256;
                n["overlay_size"] = r.manifest.artifacts.front().size;
                n["ssh_host_keys"] = r.manifest.ssh_host_keys;
                n["secrets_created"] = r.secrets_created;
            }
            nodes.push_back(n);
        }
        std::cout << json{{"nodes", nodes}, {"key", key->public_key().fingerprint()}}.dump(2) << "\n";
    } else {
        for (const auto& r : *result)
            std::printf("%-9s %s\n", pib::overlays::outcome_name(r.outcome), r.dir.c_str());
    }
    return 0;
}

// `pibuild nodes verify`: every overlay in the store (or one) as a client checks it.
int cmd_nodes_verify(const cli::NodesArgs& a) {
    auto key = pib::PublicKey::load(a.pubkey);
    if (!key) {
        std::fprintf(stderr, "pibuild: error: public key: %s\n", key.error().message.c_str());
        return kBadInput;
    }
    const std::filesystem::path root = std::filesystem::path(a.store) / "overlays";
    std::vector<std::string> names;
    if (a.node) {
        names.push_back(*a.node);
    } else {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(root, ec))
            if (e.is_directory() && e.path().filename().string()[0] != '.')
                names.push_back(e.path().filename().string());
        if (ec) return report_error(pib::fail(pib::Errc::io, root.string() + ": " + ec.message()));
        std::sort(names.begin(), names.end());
    }
    bool all_ok = true;
    json out = json::array();
    for (const auto& name : names) {
        pib::VerifyReport report;
        auto m = pib::overlays::verify_overlay(root / name, *key, name, report);
        all_ok &= m.ok();
        if (a.json) {
            out.push_back({{"node", name}, {"ok", m.ok()}, {"problems", report.problems}});
        } else if (m) {
            std::printf("%s: OK: signed by %s, hostname %s\n", name.c_str(), key->fingerprint().c_str(),
                        m->hostname.c_str());
        } else {
            for (const auto& p : report.problems) std::fprintf(stderr, "%s: %s\n", name.c_str(), p.c_str());
            if (report.problems.empty()) std::fprintf(stderr, "%s: %s\n", name.c_str(), m.error().message.c_str());
            std::fprintf(stderr, "pibuild: overlay %s does NOT verify\n", name.c_str());
        }
    }
    if (a.json) std::cout << json{{"ok", all_ok}, {"overlays", out}}.dump(2) << "\n";
    return all_ok ? 0 : kFailed;
}

// `pibuild version`: --version's line, and which client programs a build
// would bake (found as builder/initramfs.cpp finds them), so that an
// installation can be checked without building a release.
int cmd_version(bool as_json) {
    json programs = json::object();
    std::string text = pib::version_line("pibuild") + "\n";
    for (pib::Arch arch : {pib::Arch::amd64, pib::Arch::arm64}) {
        for (const char* name : {"pib-init", "pib-agent"}) {
            auto p = pib::find_client_program(arch, name);
            const std::string where = p ? std::filesystem::absolute(*p).string() : "";
            programs[pib::arch_name(arch)][name] = p ? json(where) : json(nullptr);
            text += std::string(name) + " " + pib::arch_name(arch) + ": " +
                    (p ? where : "not found (" + p.error().message + ")") + "\n";
        }
    }
    if (as_json) {
        std::cout << json{{"name", "pibuild"},
                          {"version", std::string(pib::version())},
                          {"commit", std::string(pib::git_commit())},
                          {"client_programs", programs}}
                         .dump(2)
                  << "\n";
    } else {
        std::fputs(text.c_str(), stdout);
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    // The verbs and options: builder/cli/app.cpp (also pibuild(1) and the completion).
    cli::PibuildCli c(pib::version_line("pibuild"));
    try {
        c.app.parse(c.normalise_args(argc, argv));
    } catch (const CLI::ParseError& e) {
        return c.app.exit(e) == 0 ? 0 : kBadInput;
    }
    if (*c.build) return cmd_build(c.build_args);
    if (*c.keygen) return cmd_keygen(c.key_name);
    if (*c.verify) return cmd_verify(c.verify_dir, c.pubkey, c.verify_json);
    if (*c.inspect) return cmd_inspect(c.inspect_dir, c.inspect_json);
    if (*c.nodes_render) return cmd_nodes_render(c.nodes_args);
    if (*c.nodes_verify) return cmd_nodes_verify(c.nodes_args);
    if (*c.version) return cmd_version(c.version_json);
    if (*c.complete) return cli::run_complete(c.complete_args);
    if (auto rc = c.fleet->run()) return *rc;
    return kBadInput;
}
