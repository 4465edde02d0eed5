# `cpack -G DEB` builds a .deb with the binary, the systemd unit and /etc/podium/podium.yaml.
set(CPACK_PACKAGE_NAME podium)
set(CPACK_PACKAGE_VENDOR "Podium")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Self-hosted real-time presentation server: TURN relay, SFU, signaling")
set(CPACK_PACKAGE_CONTACT "podium maintainers <podium@localhost>")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_GENERATOR DEB)
include(CPack)
