// SHA-256 against published vectors (FIPS 180-2 appendix B) and against
// coreutils `sha256sum` as an independent implementation.
#include "crypto/sha256.hpp"

#include <gtest/gtest.h>

#include "release_fixture.hpp"
#include "support/test_support.hpp"

namespace pib {
namespace {

TEST(Sha256, EmptyInput) {
    EXPECT_EQ(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(Sha256, Abc) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, TwoBlockMessage) {
    EXPECT_EQ(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MillionAs) {
    EXPECT_EQ(sha256_hex(std::string(1000000, 'a')),
              "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256, IncrementalEqualsOneShot) {
    std::string data = test::random_bytes(100000, 7);
    Sha256 h;
    // Uneven pieces, including empty ones, cross every block boundary case.
    std::size_t pos = 0, step = 0;
    while (pos < data.size()) {
        std::size_t n = std::min(data.size() - pos, step++ % 97);
        h.update(std::string_view(data).substr(pos, n));
        pos += n;
    }
    EXPECT_EQ(h.finish_hex(), sha256_hex(data));
}

TEST(Sha256, SpanAndStringViewAgree) {
    std::string data = "the same bytes";
    Sha256 a, b;
    a.update(std::string_view(data));
    b.update(std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(data.data()),
                                           data.size()));
    EXPECT_EQ(a.finish(), b.finish());
}

TEST(Sha256, FileMatchesSha256sum) {
    test::TempDir tmp;
    auto path = tmp / "three-megabytes.bin";
    // 3 MB is not a multiple of the 1 MiB read size: the last read is short.
    test::write_text(path, test::random_bytes(3 * 1000 * 1000, 42));
    auto d = sha256_file(path);
    ASSERT_TRUE(d.ok()) << d.error().message;
    EXPECT_EQ(d->size, 3u * 1000 * 1000);

    std::string out;
    ASSERT_EQ(test::run({"sha256sum", path.string()}, &out), 0) << out;
    EXPECT_EQ(d->sha256, out.substr(0, 64));
}

TEST(Sha256, EmptyFile) {
    test::TempDir tmp;
    test::write_text(tmp / "empty", "");
    auto d = sha256_file(tmp / "empty");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->size, 0u);
    EXPECT_EQ(d->sha256, sha256_hex(""));
}

TEST(Sha256, MissingFileIsNotFound) {
    test::TempDir tmp;
    auto d = sha256_file(tmp / "nope");
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().code, Errc::not_found);
    EXPECT_NE(d.error().message.find("nope"), std::string::npos);
}

}  // namespace
}  // namespace pib
