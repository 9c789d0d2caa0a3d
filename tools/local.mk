# dnsfsctl: the admin tool.
