// Whether an Azure target that trusts a CA (the @ca of `binlog-relay azure`, azure_setup.h) will
// accept the relay's certificate: the chain in [server] tls_cert verified against that CA with
// OpenSSL, as the target's client does, and whether the certificate names the host the target
// connects to. Any thread.
#pragma once

#include <string>

#include "common/result.h"

namespace brelay::relay {

// Verifies the leaf of `certificate_file` (a PEM chain, leaf first; the rest are intermediates)
// against the certificates in `ca_pem` as the only trust anchors. Errors name OpenSSL's reason and
// say what to give instead.
Status verify_relay_certificate(const std::string& ca_pem, const std::string& certificate_file);

// True when the leaf of `certificate_file` names `host` (a DNS name or an IP address, in its
// subjectAltName or common name); false also when the file cannot be read.
bool certificate_names_host(const std::string& certificate_file, const std::string& host);

}  // namespace brelay::relay
