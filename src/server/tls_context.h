// TLS context: the server's certificate chain and private key, loaded once at start-up for HTTPS and WSS.
#pragma once

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <memory>

namespace posestream::server {

// The context every TLS connection of one server is made from (ServerOptions::tls_cert_file and
// tls_key_file, `serve --tls-cert FILE --tls-key FILE`). nullptr when both paths are empty: the server
// speaks plain HTTP and WebSocket.
//
// The context offers TLS 1.2 and 1.3 only, OpenSSL's default ciphers and ECDH groups, no renegotiation
// and no compression. `cert_file`: PEM, the server's certificate first, then any intermediates.
// `key_file`: PEM, unencrypted (a passphrase is never asked for: the server may have no terminal).
//
// Throws std::invalid_argument, naming the flag and the file, when only one path is given, a file cannot
// be read, is not PEM, the key is encrypted, or the key does not belong to the certificate.
std::unique_ptr<boost::asio::ssl::context> load_tls_context(const std::filesystem::path& cert_file,
                                                            const std::filesystem::path& key_file);

}  // namespace posestream::server
