// `binlog-relay azure` (relay/tools/azure_setup.h): the statements printed for stores seeded with
// the real MySQL 8.0 binlogs of tests/data, read back field by field (GTID and file/position, the
// gtid reset set at the store's end, at --from FILE:POS and from a mydumper dump), MariaDB GTIDs
// refused, and each check before printing (account, role, password, TLS, coordinates) failing with
// what to fix. mydumper's metadata formats come from real runs (0.10 in Debian 12; later INI).
#include "relay/tools/azure_setup.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <filesystem>
#include <sstream>

#include "relay/app/cli.h"
#include "relay/tools/azure_coordinates.h"
#include "tests/support/azure_statements.h"
#include "tests/support/paths.h"
#include "tests/support/store_seed.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_certs.h"

namespace brelay::relay {
namespace {

constexpr std::string_view kGtidFixture = "apecloud-mysql80-gtid-zstd-compressed.000057";
constexpr std::string_view kAnonymousFixture = "rust-mysql-common-mysql80-json-partial-update.000001";
constexpr std::string_view kMariadbFixture = "rust-mysql-common-mariadb105-gtid-row.000001";
constexpr std::string_view kUuid = "76f3e7be-6720-11ed-9cad-0242ac110002";
// The GTID fixture's events: FDE 4, PREVIOUS_GTIDS 126 (:1-10), GTID 197 (:11) + DDL 274, GTID 378
// (:12) + payload 457, GTID 651 (:13) + payload 730, end 1283.

// A fresh self-signed P-256 certificate and its key, as PEM (fast, unlike the RSA test PKI).
std::pair<std::string, std::string> self_signed_ec_pem() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  if (!key || !cert) return {};
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("relay"), -1,
                             -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) return {};
  auto to_pem = [](auto write) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
    write(bio.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
  };
  return {to_pem([&](BIO* bio) { PEM_write_bio_X509(bio, cert.get()); }), to_pem([&](BIO* bio) {
            PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

std::string gtids(std::string_view range) {
  return std::string(kUuid) + ":" + std::string(range);
}

class AzureSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::create("azure-setup");
    ASSERT_TRUE(dir);
    dir_ = std::make_unique<testing::TempDir>(std::move(*dir));
    // A self-signed certificate as the relay's, its key in the same file.
    auto [cert, key] = self_signed_ec_pem();
    ASSERT_FALSE(cert.empty());
    ca_pem_ = cert;
    ASSERT_TRUE(testing::write_file(dir_->file("ca.pem"), cert + key));
  }

  void seed(std::string_view fixture) {
    auto store = storage::BinlogStore::open(dir_->file("data"));
    ASSERT_TRUE(store) << store.error().message();
    store_ = std::move(*store);
    auto seeded = testing::seed_store_from_binlogs(
        *store_, {testing::source_dir() + "/tests/data/binlogs/" + std::string(fixture)});
    ASSERT_TRUE(seeded) << seeded.error().message();
  }

  static constexpr std::string_view kServerTls = "tls_cert = \"ca.pem\"\ntls_key = \"ca.pem\"\n";
  static std::string signed_server_tls(const testing::TlsTestDir& tls_) {
    return "tls_cert = \"" + tls_.certs().server_cert + "\"\ntls_key = \"" + tls_.certs().server_key + "\"\n";
  }

  Config config(std::string server_extra = std::string(kServerTls), std::string users_extra = "") {
    const std::string text =
        "[source]\nhost = \"10.0.0.5\"\nuser = \"repl\"\npassword = \"x\"\nserver_id = 4001\n"
        "[storage]\ndata_dir = \"data\"\n"
        "[server]\nlisten = \"0.0.0.0:3307\"\nserver_id = 4002\n" +
        server_extra +
        "[[users]]\nname = \"azure\"\npassword = \"it's\\\\secret\"\nrole = \"replica\"\n"
        "[[users]]\nname = \"admin\"\npassword = \"adminpw\"\nrole = \"admin\"\n"
        "[[users]]\nname = \"hashed\"\nrole = \"replica\"\n"
        "native_hash = \"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\"\n" +
        users_extra;
    auto parsed = parse_config(text, dir_->file("relay.toml"));
    EXPECT_TRUE(parsed) << parsed.error().message();
    return parsed ? *parsed : Config();
  }

  AzureSetupOptions options() {
    AzureSetupOptions o;
    o.host = "relay.example.com";
    o.user = "azure";
    o.password = "it's\\secret";
    return o;
  }

  testing::PrintedAzureSetup printed(const AzureSetupOptions& o, const Config& c) {
    auto setup = prepare_azure_setup(c, *store_, o);
    EXPECT_TRUE(setup) << setup.error().message();
    if (!setup) return {};
    auto parsed = testing::parse_printed_azure_setup(setup->text);
    EXPECT_TRUE(parsed) << parsed.error().message() << "\n" << setup->text;
    return parsed ? *parsed : testing::PrintedAzureSetup();
  }

  std::string failure(const AzureSetupOptions& o, const Config& c) {
    auto setup = prepare_azure_setup(c, *store_, o);
    EXPECT_FALSE(setup) << setup->text;
    return setup ? "" : setup.error().message();
  }

  std::string write_metadata(std::string_view text) {
    const std::string dump = dir_->file("dump");
    std::filesystem::create_directories(dump);
    EXPECT_TRUE(testing::write_file(dump + "/metadata", text));
    return dump;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<storage::BinlogStore> store_;
  std::string ca_pem_;
};

TEST_F(AzureSetupTest, GtidSetupAtTheStoresEndNamesItsExecutedSet) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  o.gtid = true;
  const auto setup = printed(o, config());
  EXPECT_EQ(setup.gtid_reset_set, gtids("1-13"));
  EXPECT_NE(setup.gtid_reset_line.find("--resource-group <resource-group> --server-name <server-name>"),
            std::string::npos);
  EXPECT_EQ(setup.ca, ca_pem_) << "the certificates of [server] tls_cert, never its key";
  EXPECT_EQ(setup.ca.find("PRIVATE KEY"), std::string::npos);
  EXPECT_EQ(setup.procedure, "mysql.az_replication_change_master_with_gtid");
  EXPECT_EQ(setup.args,
            (std::vector<std::string>{"relay.example.com", "azure", "it's\\secret", "3307", "@ca"}));
  EXPECT_TRUE(setup.starts);
}

TEST_F(AzureSetupTest, GtidSetAtFromIsWhatPrecedesThePosition) {
  seed(kGtidFixture);
  const std::pair<std::uint64_t, std::string> cases[] = {
      {197, gtids("1-10")}, {378, gtids("1-11")}, {651, gtids("1-12")}, {1283, gtids("1-13")}};
  for (const auto& [position, expected] : cases) {
    AzureSetupOptions o = options();
    o.gtid = true;
    o.from = std::string(kGtidFixture) + ":" + std::to_string(position);
    EXPECT_EQ(printed(o, config()).gtid_reset_set, expected) << position;
  }
}

TEST_F(AzureSetupTest, FilePositionSetupFromTheStoreAndFromFrom) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  o.port = 13306;
  o.ca_file = dir_->file("ca.pem");
  auto setup = printed(o, config());
  EXPECT_EQ(setup.procedure, "mysql.az_replication_change_master");
  EXPECT_EQ(setup.args, (std::vector<std::string>{"relay.example.com", "azure", "it's\\secret", "13306",
                                                  std::string(kGtidFixture), "1283", "@ca"}));
  EXPECT_FALSE(setup.gtid_reset_set);
  EXPECT_EQ(setup.ca, ca_pem_);
  o.from = std::string(kGtidFixture) + ":378";
  setup = printed(o, config());
  ASSERT_EQ(setup.args.size(), 7u);
  EXPECT_EQ(setup.args[4], kGtidFixture);
  EXPECT_EQ(setup.args[5], "378");
  EXPECT_TRUE(setup.starts);
}

TEST_F(AzureSetupTest, NoTlsPrintsAnEmptyCa) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  o.no_tls = true;
  EXPECT_EQ(printed(o, config("")).ca, "");
  o.user = "hashed";
  o.password.reset();
  auto setup = prepare_azure_setup(config(""), *store_, o);
  ASSERT_TRUE(setup) << setup.error().message();
  EXPECT_NE(setup->text.find("'hashed', '<password>', 3307"), std::string::npos) << setup->text;
  ASSERT_FALSE(setup->notes.empty());
  EXPECT_NE(setup->notes[0].find("holds only its hashes"), std::string::npos) << setup->notes[0];
}

TEST_F(AzureSetupTest, CoordinatesMustBeStoredWholeAndNotPurged) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  const std::string file(kGtidFixture);
  o.from = file + ":274";  // the DDL after GTID :11
  EXPECT_NE(failure(o, config()).find("inside a transaction"), std::string::npos);
  o.from = file + ":200";
  EXPECT_NE(failure(o, config()).find("not the start of an event"), std::string::npos);
  o.from = file + ":5000";
  EXPECT_NE(failure(o, config()).find("not stored yet"), std::string::npos);
  o.from = "apecloud-mysql80-gtid-zstd-compressed.000056:4";
  EXPECT_NE(failure(o, config()).find("retention purged it"), std::string::npos);
  o.from = "apecloud-mysql80-gtid-zstd-compressed.000058:4";
  EXPECT_NE(failure(o, config()).find("has not pulled that far"), std::string::npos);
  o.from = "no-position";
  EXPECT_NE(failure(o, config()).find("is not FILE:POS"), std::string::npos);
}

TEST_F(AzureSetupTest, AnEmptyStoreSaysToLetTheRelayPullFirst) {
  auto store = storage::BinlogStore::open(dir_->file("data"));
  ASSERT_TRUE(store);
  store_ = std::move(*store);
  EXPECT_NE(failure(options(), config()).find("holds no binlog yet"), std::string::npos);
}

TEST_F(AzureSetupTest, AccountChecksSayWhatToFix) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  o.user = "nobody";
  EXPECT_NE(failure(o, config()).find("no [[users]] entry named 'nobody'"), std::string::npos);
  o.user = "admin";
  o.password = "adminpw";
  EXPECT_NE(failure(o, config()).find("role = \"admin\""), std::string::npos);
  o.user = "azure";
  o.password = "wrong";
  EXPECT_NE(failure(o, config()).find("--password is not the password"), std::string::npos);
  o.user = "hashed";
  o.password = "password";  // the native_hash above
  EXPECT_TRUE(prepare_azure_setup(config(), *store_, o));
}

TEST_F(AzureSetupTest, TlsChecksSayWhatToFix) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  EXPECT_NE(failure(o, config("")).find("[server] tls_cert is not set"), std::string::npos);
  o.ca_file = dir_->file("ca.pem");
  EXPECT_NE(failure(o, config("")).find("a CA is of no use"), std::string::npos);
  o.ca_file = dir_->file("relay.toml.missing");
  EXPECT_NE(failure(o, config()).find("cannot read"), std::string::npos);
  ASSERT_TRUE(testing::write_file(dir_->file("key-only.pem"), "-----BEGIN PRIVATE KEY-----\nx\n"));
  o.ca_file = dir_->file("key-only.pem");
  EXPECT_NE(failure(o, config()).find("holds no PEM certificate"), std::string::npos);
  // A relay certificate signed by a CA: its chain alone does not verify; the right CA does, a wrong one not.
  auto pki = testing::TlsTestDir::create("azure-setup-pki");
  ASSERT_TRUE(pki) << pki.error().message();
  const testing::TlsTestDir& tls_ = **pki;
  o.ca_file.clear();
  EXPECT_NE(failure(o, config(signed_server_tls(tls_))).find("would not accept the relay's certificate"),
            std::string::npos);
  o.ca_file = tls_.certs().other_ca_cert;
  EXPECT_NE(failure(o, config(signed_server_tls(tls_))).find("Give the CA that issued it with --ca"),
            std::string::npos);
  o.ca_file = tls_.certs().ca_cert;
  auto setup = prepare_azure_setup(config(signed_server_tls(tls_)), *store_, o);
  ASSERT_TRUE(setup) << setup.error().message();
  EXPECT_EQ(testing::parse_printed_azure_setup(setup->text)->ca,
            testing::read_file(tls_.certs().ca_cert).value());
  ASSERT_EQ(setup->notes.size(), 1u);
  EXPECT_NE(setup->notes[0].find("does not name 'relay.example.com'"), std::string::npos) << setup->notes[0];
  o.host = "127.0.0.1";  // the test server certificate's subjectAltName
  setup = prepare_azure_setup(config(signed_server_tls(tls_)), *store_, o);
  ASSERT_TRUE(setup) << setup.error().message();
  EXPECT_TRUE(setup->notes.empty());
  o.ca_file.clear();
  o.no_tls = true;
  o.user = "tls-only";
  o.password = "p";
  EXPECT_NE(failure(o, config(std::string(kServerTls),
                              "[[users]]\nname = \"tls-only\"\npassword = \"p\"\nrole = "
                              "\"replica\"\nrequire_tls = true\n"))
                .find("drop --no-tls"),
            std::string::npos);
}

TEST_F(AzureSetupTest, MariadbGtidsAreRefusedFilePositionWorks) {
  seed(kMariadbFixture);
  AzureSetupOptions o = options();
  o.gtid = true;
  EXPECT_NE(failure(o, config()).find("cannot take MariaDB GTIDs"), std::string::npos);
  o.gtid = false;
  EXPECT_EQ(printed(o, config()).procedure, "mysql.az_replication_change_master");
}

TEST_F(AzureSetupTest, AnonymousBinlogHasNoGtidSetup) {
  seed(kAnonymousFixture);
  AzureSetupOptions o = options();
  o.gtid = true;
  EXPECT_NE(failure(o, config()).find("has no GTIDs"), std::string::npos);
  o.gtid = false;
  EXPECT_EQ(printed(o, config()).args.at(4), kAnonymousFixture);
}

TEST_F(AzureSetupTest, MydumperCoordinatesAndGtidSet) {
  seed(kGtidFixture);
  AzureSetupOptions o = options();
  o.from_mydumper = write_metadata(
      "Started dump at: 2026-12-04 14:23:47\nSHOW MASTER STATUS:\n\tLog: " + std::string(kGtidFixture) +
      "\n\tPos: 651\n\tGTID:" + gtids("1-12") + "\n\nFinished dump at: 2026-12-04 14:23:47\n");
  auto setup = printed(o, config());
  ASSERT_EQ(setup.args.size(), 7u);
  EXPECT_EQ(setup.args[4], kGtidFixture);
  EXPECT_EQ(setup.args[5], "651");
  o.gtid = true;
  EXPECT_EQ(printed(o, config()).gtid_reset_set, gtids("1-12"));
  // A snapshot lacking what the relay purged, or holding what it has not stored yet.
  o.from_mydumper =
      write_metadata("SHOW MASTER STATUS:\n\tLog: x.000001\n\tPos: 4\n\tGTID:" + gtids("1-5") + "\n");
  EXPECT_NE(failure(o, config()).find("purged transactions that the dump lacks"), std::string::npos);
  o.from_mydumper =
      write_metadata("SHOW MASTER STATUS:\n\tLog: x.000001\n\tPos: 4\n\tGTID:" + gtids("1-14") + "\n");
  EXPECT_NE(failure(o, config()).find("not stored yet (" + gtids("14") + ")"), std::string::npos);
  o.from_mydumper =
      write_metadata("SHOW MASTER STATUS:\n\tLog: mysql-bin.000001\n\tPos: 766\n\tGTID:0-1-3\n");
  EXPECT_NE(failure(o, config()).find("cannot take MariaDB GTIDs"), std::string::npos);
  o.from_mydumper = dir_->file("no-dump");
  EXPECT_NE(failure(o, config()).find("mydumper output directory"), std::string::npos);
}

TEST(MydumperMetadata, FormatsOfItsVersions) {
  // 0.10 (Debian 12), as a run against MariaDB wrote it.
  auto old = parse_mydumper_metadata(
      "Started dump at: 2026-12-04 14:23:47\nSHOW MASTER STATUS:\n\tLog: mysql-bin.000001\n\tPos: 766\n"
      "\tGTID:0-1-3\n\nFinished dump at: 2026-12-04 14:23:47\n");
  ASSERT_TRUE(old) << old.error().message();
  EXPECT_EQ(old->file, "mysql-bin.000001");
  EXPECT_EQ(old->position, 766u);
  EXPECT_EQ(old->gtid, "0-1-3");
  // A MySQL set over several lines, and a dump taken on a replica (its SHOW SLAVE STATUS is skipped).
  auto multi = parse_mydumper_metadata(
      "Started dump at: x\nSHOW SLAVE STATUS:\n\tHost: 10.0.0.1\n\tLog: other.000009\n\tPos: 9\n\tGTID:\n\n"
      "SHOW MASTER STATUS:\n\tLog: binlog.000002\n\tPos: "
      "157\n\tGTID:aaaaaaaa-0000-0000-0000-000000000001:1-5,\n"
      "bbbbbbbb-0000-0000-0000-000000000002:1-3\n\nFinished dump at: x\n");
  ASSERT_TRUE(multi) << multi.error().message();
  EXPECT_EQ(multi->file, "binlog.000002");
  EXPECT_EQ(multi->position, 157u);
  EXPECT_EQ(multi->gtid, "aaaaaaaa-0000-0000-0000-000000000001:1-5,bbbbbbbb-0000-0000-0000-000000000002:1-3");
  // Later versions: INI.
  auto ini = parse_mydumper_metadata(
      "# Started dump at: x\n[config]\nquote_character = BACKTICK\n\n[source]\n# Channel_Name = ''\n"
      "File = binlog.000003\nPosition = 1234\nExecuted_Gtid_Set = "
      "aaaaaaaa-0000-0000-0000-000000000001:1-7\n");
  ASSERT_TRUE(ini) << ini.error().message();
  EXPECT_EQ(ini->file, "binlog.000003");
  EXPECT_EQ(ini->position, 1234u);
  EXPECT_EQ(ini->gtid, "aaaaaaaa-0000-0000-0000-000000000001:1-7");
  EXPECT_FALSE(parse_mydumper_metadata("Started dump at: x\nFinished dump at: y\n"));
  EXPECT_FALSE(parse_mydumper_metadata("SHOW MASTER STATUS:\n\tLog: a.1\n\tPos: x\n"));
}

TEST(SqlStringLiteral, EscapesWhatMysqlNeeds) {
  EXPECT_EQ(sql_string_literal("plain"), "'plain'");
  EXPECT_EQ(sql_string_literal("it's"), "'it''s'");
  EXPECT_EQ(sql_string_literal("a\\b"), "'a\\\\b'");
  EXPECT_EQ(sql_string_literal(std::string_view("n\0l\r\x1a", 5)), "'n\\0l\\r\\Z'");
  EXPECT_EQ(sql_string_literal("pem\nlines\n"), "'pem\nlines\n'");
}

int cli(std::vector<std::string> args, std::string& out, std::string& err) {
  args.insert(args.begin(), "binlog-relay");
  std::vector<const char*> argv;
  for (const auto& arg : args)
    argv.push_back(arg.c_str());
  std::ostringstream o, e;
  const int status = run_cli(static_cast<int>(argv.size()), argv.data(), o, e);
  out = o.str();
  err = e.str();
  return status;
}

TEST_F(AzureSetupTest, CommandLine) {
  seed(kGtidFixture);
  store_.reset();
  const std::string path = dir_->file("relay.toml");
  ASSERT_TRUE(testing::write_file(
      path,
      "[source]\nhost = \"10.0.0.5\"\nuser = \"repl\"\npassword = \"x\"\nserver_id = 4001\n"
      "[storage]\ndata_dir = \"data\"\n[server]\nlisten = \"127.0.0.1:3307\"\nserver_id = 4002\n"
      "[[users]]\nname = \"azure\"\nnative_hash = \"*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19\"\n"
      "role = \"replica\"\n"));
  std::string out, err;
  ASSERT_EQ(cli({"azure", "--config", path, "--host", "relay.example.com", "--user", "azure", "--no-tls",
                 "--gtid", "--from", std::string(kGtidFixture) + ":378"},
                out, err),
            0)
      << err;
  auto setup = testing::parse_printed_azure_setup(out);
  ASSERT_TRUE(setup) << setup.error().message();
  EXPECT_EQ(setup->gtid_reset_set, gtids("1-11"));
  EXPECT_EQ(setup->args.at(2), "<password>");
  EXPECT_NE(err.find("holds only its hashes"), std::string::npos) << err;
  EXPECT_EQ(cli({"azure", "--config", path, "--host", "h", "--user", "nobody", "--no-tls"}, out, err), 1);
  EXPECT_NE(err.find("no [[users]] entry named 'nobody'"), std::string::npos) << err;
  EXPECT_NE(cli({"azure", "--config", path, "--user", "azure"}, out, err), 0) << "--host is required";
}

}  // namespace
}  // namespace brelay::relay
