// A dm-verity device made with the device-mapper ioctls (linux/dm-ioctl.h),
// no libdevmapper or veritysetup in the initramfs: DM_DEV_CREATE, then
// DM_TABLE_LOAD of one read-only "verity" target, then DM_DEV_SUSPEND without
// DM_SUSPEND_FLAG to resume it. Reads of the device return data only when
// every hash up to the signed root hash matches; otherwise EIO.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "common/result.hpp"

namespace pib::client {

/// A live mapped device.
struct DmDevice {
    std::string name;  ///< "pib-root"
    dev_t dev = 0;
    std::string node;  ///< /dev/mapper/<name>, made with mknod
};

/// Creates device `name` over `sectors` 512-byte sectors with the verity
/// `table` (client/verity_params.hpp), read-only, and makes its /dev node.
/// On failure the half-made device is removed again.
Result<DmDevice> create_verity_device(const std::string& name, std::uint64_t sectors,
                                      const std::string& table);

/// Reads [offset, offset+length) of a block device in full. The errno text
/// names EIO, which is how dm-verity reports a block that fails its hash.
Status read_range(const std::string& device, std::uint64_t offset, std::uint64_t length);

}  // namespace pib::client
