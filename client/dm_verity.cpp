#include "client/dm_verity.hpp"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace pib::client {

namespace {

Error sys_error(const std::string& what) {
    return fail(Errc::io, what + ": " + std::strerror(errno));
}

// One ioctl buffer: struct dm_ioctl, then (for a table) one dm_target_spec
// and its NUL-terminated parameters, 8-byte aligned as the kernel expects.
std::vector<std::uint8_t> dm_buffer(const std::string& name, const std::string& target,
                                    std::uint64_t sectors, const std::string& params) {
    std::size_t size = sizeof(dm_ioctl);
    if (!target.empty()) size += sizeof(dm_target_spec) + (params.size() + 1 + 7) / 8 * 8;
    std::vector<std::uint8_t> buf(size, 0);
    auto* io = reinterpret_cast<dm_ioctl*>(buf.data());
    io->version[0] = DM_VERSION_MAJOR;  // the kernel checks the major and accepts older minors
    io->data_size = static_cast<__u32>(size);
    io->data_start = sizeof(dm_ioctl);
    std::strncpy(io->name, name.c_str(), DM_NAME_LEN - 1);
    if (!target.empty()) {
        io->target_count = 1;
        io->flags = DM_READONLY_FLAG;
        auto* spec = reinterpret_cast<dm_target_spec*>(buf.data() + sizeof(dm_ioctl));
        spec->sector_start = 0;
        spec->length = sectors;
        spec->next = static_cast<__u32>(size - sizeof(dm_ioctl));
        std::strncpy(spec->target_type, target.c_str(), DM_MAX_TYPE_NAME - 1);
        std::memcpy(buf.data() + sizeof(dm_ioctl) + sizeof(dm_target_spec), params.c_str(),
                    params.size() + 1);
    }
    return buf;
}

Status dm_call(int control, unsigned long request, std::vector<std::uint8_t>& buf, const char* what) {
    if (::ioctl(control, request, buf.data()) != 0) return sys_error(what);
    return {};
}

}  // namespace

Result<DmDevice> create_verity_device(const std::string& name, std::uint64_t sectors,
                                      const std::string& table) {
    int control = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    if (control < 0) {
        // devtmpfs has the node as /dev/mapper/control once dm-mod is loaded;
        // make it from the misc device number otherwise (10:236).
        ::mkdir("/dev/mapper", 0755);
        ::mknod("/dev/mapper/control", S_IFCHR | 0600, makedev(10, 236));
        control = ::open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
    }
    if (control < 0) return sys_error("open /dev/mapper/control (is dm-mod loaded?)");
    auto create = dm_buffer(name, "", 0, "");
    if (auto s = dm_call(control, DM_DEV_CREATE, create, "DM_DEV_CREATE"); !s) {
        ::close(control);
        return s.error();
    }
    auto remove = [&] {
        auto buf = dm_buffer(name, "", 0, "");
        ::ioctl(control, DM_DEV_REMOVE, buf.data());
        ::close(control);
    };
    auto load = dm_buffer(name, "verity", sectors, table);
    if (auto s = dm_call(control, DM_TABLE_LOAD, load, "DM_TABLE_LOAD verity"); !s) {
        remove();
        return s.error();
    }
    auto resume = dm_buffer(name, "", 0, "");
    if (auto s = dm_call(control, DM_DEV_SUSPEND, resume, "DM_DEV_SUSPEND (resume)"); !s) {
        remove();
        return s.error();
    }
    ::close(control);
    DmDevice d;
    d.name = name;
    d.dev = static_cast<dev_t>(reinterpret_cast<dm_ioctl*>(resume.data())->dev);
    d.node = "/dev/mapper/" + name;
    ::mkdir("/dev/mapper", 0755);
    ::unlink(d.node.c_str());
    if (::mknod(d.node.c_str(), S_IFBLK | 0600, d.dev) != 0) return sys_error("mknod " + d.node);
    return d;
}

Status read_range(const std::string& device, std::uint64_t offset, std::uint64_t length) {
    int fd = ::open(device.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return sys_error("open " + device);
    std::vector<char> buf(1 << 16);
    std::uint64_t done = 0;
    while (done < length) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), length - done));
        ssize_t n = ::pread(fd, buf.data(), want, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            Error e = n < 0 ? sys_error("read " + device + " at byte " + std::to_string(offset + done))
                            : fail(Errc::io, "read " + device + ": short device");
            ::close(fd);
            return e;
        }
        done += static_cast<std::uint64_t>(n);
    }
    ::close(fd);
    return {};
}

}  // namespace pib::client
