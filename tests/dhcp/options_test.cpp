// Typed option getters and setters: the values real clients send, and a
// clean not_found / corrupted for everything else.
#include "dhcp/options.hpp"

#include <gtest/gtest.h>

#include "dhcp_fixture.hpp"

namespace pib::dhcp {
namespace {

using test::load_packet;

Options with(std::uint8_t code, std::vector<std::uint8_t> value) {
    Options o;
    o.set(code, std::move(value));
    return o;
}

template <class T>
void expect_error(const Result<T>& r, Errc code) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, code) << r.error().message;
}

TEST(DhcpOptionGetters, ReadThePiDiscover) {
    const Options o = load_packet("pi4_discover").options;
    EXPECT_EQ(*message_type(o), MessageType::discover);
    EXPECT_EQ(
        *parameter_request_list(o),
        (std::vector<std::uint8_t>{1, 3, 43, 60, 66, 67, 128, 129, 130, 131, 132, 133, 134, 135}));
    EXPECT_EQ(*vendor_class(o), "PXEClient:Arch:00000:UNDI:002001");
    EXPECT_EQ(*client_arch(o), std::vector<std::uint16_t>{0});
    EXPECT_EQ(*client_ndi(o), (ClientNdi{1, 2, 1}));
    auto g = client_guid(o);
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->type, 0);
    EXPECT_EQ(to_hex(g->id), "525069341131a000322ef8ed1045155b");
    expect_error(max_message_size(o), Errc::not_found);  // the Pi sends no 57
    expect_error(server_id(o), Errc::not_found);
    expect_error(user_classes(o), Errc::not_found);
}

TEST(DhcpOptionGetters, ReadTheUefiDiscover) {
    const Options o = load_packet("uefi_x64_discover").options;
    EXPECT_EQ(*max_message_size(o), 1472);
    EXPECT_EQ(*client_arch(o), std::vector<std::uint16_t>{7});
    EXPECT_EQ(*client_ndi(o), (ClientNdi{1, 3, 0}));
    EXPECT_EQ(parameter_request_list(o)->size(), 35u);
}

TEST(DhcpOptionGetters, UserClassInBothShapes) {
    // iPXE sends the bare string (no RFC 3004 length prefix).
    const Options ipxe = load_packet("ipxe_bios_discover").options;
    EXPECT_EQ(*user_classes(ipxe), std::vector<std::string>{"iPXE"});
    // RFC 3004: length-prefixed list.
    const Options rfc = with(77, {4, 'i', 'P', 'X', 'E', 3, 'f', 'o', 'o'});
    EXPECT_EQ(*user_classes(rfc), (std::vector<std::string>{"iPXE", "foo"}));
    // A zero length or overrunning prefix is not RFC 3004: the raw value.
    EXPECT_EQ(*user_classes(with(77, {0, 'a'})), std::vector<std::string>({std::string("\0a", 2)}));
    expect_error(user_classes(with(77, {})), Errc::corrupted);
}

TEST(DhcpOptionGetters, IpxeEncapsulatedOptions) {
    auto sub = ipxe_options(load_packet("ipxe_bios_discover").options);
    ASSERT_TRUE(sub.ok()) << sub.error().message;
    // iPXE's feature flags (include/ipxe/dhcp.h): 0x13 HTTP, 0x10 PXE ext.
    EXPECT_TRUE(sub->contains(0x13));
    EXPECT_TRUE(sub->contains(0x10));
    expect_error(ipxe_options(with(175, {0x13, 5, 1})), Errc::corrupted);
    expect_error(ipxe_options(Options{}), Errc::not_found);
}

TEST(DhcpOptionGetters, WrongLengthsAreCorrupted) {
    expect_error(message_type(with(53, {})), Errc::corrupted);
    expect_error(message_type(with(53, {1, 1})), Errc::corrupted);
    expect_error(message_type(with(53, {0})), Errc::corrupted);
    expect_error(server_id(with(54, {10, 0, 0})), Errc::corrupted);
    expect_error(parameter_request_list(with(55, {})), Errc::corrupted);
    expect_error(max_message_size(with(57, {2})), Errc::corrupted);
    expect_error(max_message_size(with(57, {0x02, 0x3f})), Errc::corrupted);  // 575 < 576
    expect_error(vendor_class(with(60, {})), Errc::corrupted);
    expect_error(client_arch(with(93, {})), Errc::corrupted);
    expect_error(client_arch(with(93, {0, 7, 0})), Errc::corrupted);
    expect_error(client_ndi(with(94, {1, 2})), Errc::corrupted);
    expect_error(client_guid(with(97, std::vector<std::uint8_t>(16))), Errc::corrupted);
    expect_error(client_guid(with(97, std::vector<std::uint8_t>(18))), Errc::corrupted);
    expect_error(vendor_options(with(43, {6, 2, 8})), Errc::corrupted);
    expect_error(pxe_boot_item(with(43, {71, 3, 0, 0, 0, 255})), Errc::corrupted);
    expect_error(pxe_boot_item(with(43, {6, 1, 8, 255})), Errc::not_found);
}

TEST(DhcpOptionGetters, ArchitectureLists) {
    // RFC 4578 §2.1: a client may list several architectures.
    EXPECT_EQ(*client_arch(with(93, {0, 7, 0, 9})), (std::vector<std::uint16_t>{7, 9}));
}

TEST(DhcpOptionSetters, RoundTripThroughTheGetters) {
    Options o;
    set_message_type(o, MessageType::offer);
    set_server_id(o, Ipv4{10, 99, 0, 1});
    const std::vector<std::uint8_t> prl = {1, 3, 43};
    set_parameter_request_list(o, prl);
    set_max_message_size(o, 1260);
    set_vendor_class(o, "PXEClient");
    const std::vector<std::string> classes = {"iPXE", "", "x"};
    set_user_classes(o, classes);
    const std::vector<std::uint16_t> arch = {11};
    set_client_arch(o, arch);
    set_client_ndi(o, ClientNdi{1, 3, 16});
    ClientGuid g;
    g.id[15] = 7;
    set_client_guid(o, g);
    Options pxe;
    pxe.set(71, std::vector<std::uint8_t>{0x80, 0x01, 0x00, 0x02});
    set_vendor_options(o, pxe);
    set_tftp_server_name(o, "10.99.0.1");
    set_bootfile_name(o, "ipxe.efi");

    EXPECT_EQ(*message_type(o), MessageType::offer);
    EXPECT_EQ(*server_id(o), (Ipv4{10, 99, 0, 1}));
    EXPECT_EQ(*parameter_request_list(o), prl);
    EXPECT_EQ(*max_message_size(o), 1260);
    EXPECT_EQ(*vendor_class(o), "PXEClient");
    EXPECT_EQ(*user_classes(o), (std::vector<std::string>{"iPXE", "x"}));  // empty skipped
    EXPECT_EQ(*client_arch(o), arch);
    EXPECT_EQ(*client_ndi(o), (ClientNdi{1, 3, 16}));
    EXPECT_EQ(*client_guid(o), g);
    EXPECT_EQ(*pxe_boot_item(o), (PxeBootItem{0x8001, 2}));
    EXPECT_EQ(*o.find(43), (std::vector<std::uint8_t>{71, 4, 0x80, 0x01, 0x00, 0x02, 255}));
    EXPECT_EQ(*o.find(66),
              (std::vector<std::uint8_t>{'1', '0', '.', '9', '9', '.', '0', '.', '1'}));
    EXPECT_EQ(*o.find(67), (std::vector<std::uint8_t>{'i', 'p', 'x', 'e', '.', 'e', 'f', 'i'}));
}

TEST(DhcpOptionSetters, MessageTypeNames) {
    EXPECT_EQ(message_type_name(MessageType::discover), "DHCPDISCOVER");
    EXPECT_EQ(message_type_name(MessageType::inform), "DHCPINFORM");
    EXPECT_EQ(message_type_name(static_cast<MessageType>(13)), "DHCP(13)");
}

}  // namespace
}  // namespace pib::dhcp
