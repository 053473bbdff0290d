// DirectoryResolver without a network: confinement beneath the root, the Pi
// serial-directory fallback, and one shared descriptor per file in a boot storm.
#include "netbootd/file_resolver.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/test_support.hpp"

namespace fs = std::filesystem;
using netbootd::ClientAddress;
using netbootd::DirectoryResolver;
using pib::Errc;

namespace {

std::string read_all(const pib::tftp::FileInfo& f) {
    std::string s(f.size, '\0');
    auto n = f.source->read(0, std::span(reinterpret_cast<std::uint8_t*>(s.data()), s.size()));
    EXPECT_TRUE(n);
    return n ? s.substr(0, *n) : "";
}

class DirectoryResolverTest : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(root());
        pib::test::write_text(root() / "a.txt", "hello");
        pib::test::write_text(root() / "start4.elf", "shared");
        pib::test::write_text(root() / "1234abcd/start4.elf", "own");
        pib::test::write_text(tmp_ / "outside.txt", "secret");
        fs::create_symlink(tmp_ / "outside.txt", root() / "abs-link");
        fs::create_symlink("../outside.txt", root() / "rel-link");
        fs::create_symlink("a.txt", root() / "in-link");
        auto r = DirectoryResolver::create(root().string());
        ASSERT_TRUE(r);
        resolver_ = std::move(*r);
    }
    fs::path root() const { return tmp_ / "root"; }

    pib::test::TempDir tmp_;
    std::unique_ptr<DirectoryResolver> resolver_;
    ClientAddress client_;
};

TEST_F(DirectoryResolverTest, OpensFilesBeneathTheRoot) {
    auto f = resolver_->open("a.txt", client_);
    ASSERT_TRUE(f);
    EXPECT_EQ(f->size, 5u);
    EXPECT_EQ(read_all(*f), "hello");
    auto l = resolver_->open("in-link", client_);
    ASSERT_TRUE(l);
    EXPECT_EQ(read_all(*l), "hello");
}

TEST_F(DirectoryResolverTest, NothingLeavesTheRoot) {
    for (const char* p : {"../outside.txt", "abs-link", "rel-link"}) {
        auto f = resolver_->open(p, client_);
        ASSERT_FALSE(f) << p;
        EXPECT_EQ(f.error().code, Errc::invalid) << p;
    }
    auto abs = resolver_->open((tmp_ / "outside.txt").string(), client_);
    ASSERT_FALSE(abs);
    EXPECT_EQ(abs.error().code, Errc::invalid);
}

TEST_F(DirectoryResolverTest, MissingFilesAndDirectoriesAreNotFoundOrRefused) {
    auto f = resolver_->open("nope", client_);
    ASSERT_FALSE(f);
    EXPECT_EQ(f.error().code, Errc::not_found);
    auto d = resolver_->open("1234abcd", client_);
    ASSERT_FALSE(d);
    EXPECT_EQ(d.error().code, Errc::invalid);  // a directory is not served
}

TEST_F(DirectoryResolverTest, PiSerialDirectoryThenSharedFallback) {
    auto own = resolver_->open("1234abcd/start4.elf", client_);
    ASSERT_TRUE(own);
    EXPECT_EQ(read_all(*own), "own");
    auto shared = resolver_->open("deadbeef/start4.elf", client_);
    ASSERT_TRUE(shared);
    EXPECT_EQ(read_all(*shared), "shared");
    auto other = resolver_->open("other/start4.elf", client_);  // not a serial: no fallback
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().code, Errc::not_found);
}

TEST_F(DirectoryResolverTest, ConcurrentTransfersShareOneOpenFile) {
    auto a = resolver_->open("a.txt", client_);
    auto b = resolver_->open("a.txt", client_);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->source.get(), b->source.get());
    EXPECT_EQ(resolver_->open_files(), 1u);
    a->source.reset();
    b->source.reset();
    EXPECT_EQ(resolver_->open_files(), 0u);
    // A file replaced under the same name (new inode) is opened afresh.
    auto c = resolver_->open("a.txt", client_);
    ASSERT_TRUE(c);
    fs::remove(root() / "a.txt");
    pib::test::write_text(root() / "a.txt", "replaced");
    auto d = resolver_->open("a.txt", client_);
    ASSERT_TRUE(d);
    EXPECT_NE(c->source.get(), d->source.get());
    EXPECT_EQ(read_all(*d), "replaced");
}

}  // namespace
