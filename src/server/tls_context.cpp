// TLS context: checks the certificate and key files and loads them into one OpenSSL server context.
#include "server/tls_context.h"

#include <openssl/ssl.h>

#include <fstream>
#include <stdexcept>
#include <string>
#include <system_error>

namespace posestream::server {
namespace {

namespace ssl = boost::asio::ssl;

constexpr const char* kCertFlag = "--tls-cert";
constexpr const char* kKeyFlag = "--tls-key";

std::string named(const char* flag, const std::filesystem::path& file) { return std::string(flag) + " " + file.string(); }

// OpenSSL's own messages for these files are terse ("no start line"); ours name the flag and the file
// first, and keep OpenSSL's reason after them.
void check_readable(const char* flag, const std::filesystem::path& file) {
  std::error_code error;
  if (!std::filesystem::exists(file, error)) throw std::invalid_argument(named(flag, file) + ": no such file");
  if (!std::filesystem::is_regular_file(file, error)) throw std::invalid_argument(named(flag, file) + ": not a file");
  if (!std::ifstream(file)) throw std::invalid_argument(named(flag, file) + ": cannot be read");
}

void check_both_given(const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  if (key_file.empty()) {
    throw std::invalid_argument(named(kCertFlag, cert_file) + " is given without " + kKeyFlag +
                                ": TLS needs both the certificate and its private key");
  }
  if (cert_file.empty()) {
    throw std::invalid_argument(named(kKeyFlag, key_file) + " is given without " + kCertFlag +
                                ": TLS needs both the certificate and its private key");
  }
}

// TLS 1.2 and 1.3 only. single_dh_use and ECDH need nothing from us in OpenSSL 1.1 and later (fresh
// keys per handshake, automatic ECDH groups); single_dh_use is kept for the record. Renegotiation is a
// CPU-exhaustion lever for a client and no client of ours needs it.
void set_protocol_options(ssl::context& context) {
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::no_compression |
                      ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  SSL_CTX_set_options(context.native_handle(), SSL_OP_NO_RENEGOTIATION);
  // An encrypted key would make OpenSSL prompt on the terminal; an empty passphrase makes it fail instead.
  context.set_password_callback([](std::size_t, ssl::context::password_purpose) { return std::string(); });
}

// The key goes in first: OpenSSL then drops it when the certificate that follows does not match it
// (whatever the key type), and the check below names the mismatch, rather than OpenSSL's version-dependent
// error from whichever load came second.
void load_files(ssl::context& context, const std::filesystem::path& cert_file, const std::filesystem::path& key_file) {
  boost::system::error_code error;
  context.use_private_key_file(key_file.string(), ssl::context::pem, error);
  if (error) {
    throw std::invalid_argument(named(kKeyFlag, key_file) + ": not a usable PEM private key (encrypted keys are " +
                                "not supported) (OpenSSL: " + error.message() + ")");
  }
  context.use_certificate_chain_file(cert_file.string(), error);
  if (error) {
    throw std::invalid_argument(named(kCertFlag, cert_file) + ": not a usable PEM certificate chain (OpenSSL: " +
                                error.message() + ")");
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    throw std::invalid_argument(named(kKeyFlag, key_file) + " does not match the certificate in " +
                                named(kCertFlag, cert_file));
  }
}

}  // namespace

std::unique_ptr<ssl::context> load_tls_context(const std::filesystem::path& cert_file,
                                               const std::filesystem::path& key_file) {
  if (cert_file.empty() && key_file.empty()) return nullptr;
  check_both_given(cert_file, key_file);
  check_readable(kCertFlag, cert_file);
  check_readable(kKeyFlag, key_file);
  auto context = std::make_unique<ssl::context>(ssl::context::tls_server);
  set_protocol_options(*context);
  load_files(*context, cert_file, key_file);
  return context;
}

}  // namespace posestream::server
