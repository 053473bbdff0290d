#include "common/result.hpp"

namespace pib {

const char* errc_name(Errc c) {
    switch (c) {
        case Errc::truncated: return "truncated";
        case Errc::corrupted: return "corrupted";
        case Errc::unsupported: return "unsupported";
        case Errc::not_found: return "not_found";
        case Errc::io: return "io";
        case Errc::invalid: return "invalid";
        case Errc::verification: return "verification";
        case Errc::exists: return "exists";
        case Errc::busy: return "busy";
    }
    return "unknown";
}

}  // namespace pib
