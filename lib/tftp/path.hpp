// Requested TFTP file names, made safe before the server looks anything up.
// Pure string work: the server still opens files beneath its root without
// following symlinks out of it (openat2 RESOLVE_BENEATH); this is the first gate.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace pib::tftp {

/// Normalises a requested filename into a clean relative path ("a/b/c"):
/// '\' is read as '/' (Windows boot managers ask for "\Boot\BCD"), leading '/' and
/// empty or "." components are dropped. Errc::invalid (-> ERROR 2, access violation)
/// for any ".." component, a NUL or control character, a component over 255 bytes,
/// or nothing left to name.
Result<std::string> normalize_path(std::string_view requested);

/// Which per-client directory a Raspberry Pi path starts with.
enum class PiPrefix {
    serial,  ///< "<8 lower-case hex digits>/": the board serial's last 8 digits
    mac,     ///< "aa-bb-cc-dd-ee-ff/": the bootloader's TFTP_PREFIX=2 (MAC address)
};

/// A path under a Raspberry Pi client directory.
struct PiPath {
    PiPrefix kind = PiPrefix::serial;
    std::string id;    ///< the serial or the dash-separated MAC, as requested
    std::string rest;  ///< the file below it, e.g. "start4.elf" or "overlays/x.dtbo"
    bool operator==(const PiPath&) const = default;
};

/// Recognises a normalised path of the form "<serial>/<file>" or "<mac>/<file>".
/// The bootloader prints both in lower case, so upper-case ids are not recognised
/// and fall through to the root like any other name.
std::optional<PiPath> parse_pi_path(std::string_view normalized);

}  // namespace pib::tftp
