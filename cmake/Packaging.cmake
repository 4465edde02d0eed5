# `cpack -G DEB` (from a Release build directory) builds podium_<version>_<arch>.deb: the binary,
# the systemd unit, /etc/podium/podium.yaml, the sysctl file, the monitoring files and docs
# (deploy/README.md has the layout; integration.deploy builds, installs and purges it).
# Destinations under /usr are relative to the packaging prefix (/usr); the others are absolute.
set(PODIUM_DEPLOY_DIR ${PROJECT_SOURCE_DIR}/deploy)
# The binary: app/CMakeLists.txt installs it to bin (/usr/bin/podium).
install(FILES ${PODIUM_DEPLOY_DIR}/podium.yaml DESTINATION /etc/podium)
install(FILES ${PODIUM_DEPLOY_DIR}/systemd/podium.service DESTINATION /lib/systemd/system)
install(FILES ${PODIUM_DEPLOY_DIR}/sysctl/60-podium.conf DESTINATION lib/sysctl.d)
install(FILES ${PROJECT_SOURCE_DIR}/monitoring/prometheus/prometheus.yml
              ${PROJECT_SOURCE_DIR}/monitoring/prometheus/alerts.yml
              ${PROJECT_SOURCE_DIR}/monitoring/prometheus/alerts_test.yml
        DESTINATION share/podium/monitoring/prometheus)
install(FILES ${PROJECT_SOURCE_DIR}/monitoring/grafana/podium-dashboard.json
        DESTINATION share/podium/monitoring/grafana)
install(FILES ${PROJECT_SOURCE_DIR}/monitoring/README.md DESTINATION share/podium/monitoring)
install(FILES ${PROJECT_SOURCE_DIR}/README.md
              ${PROJECT_SOURCE_DIR}/docs/configuration.md
              ${PROJECT_SOURCE_DIR}/docs/metrics.md
        DESTINATION share/doc/podium)
install(FILES ${PODIUM_DEPLOY_DIR}/README.md DESTINATION share/doc/podium RENAME deploy.md)
install(FILES ${PROJECT_SOURCE_DIR}/config/examples/podium.yaml
              ${PROJECT_SOURCE_DIR}/config/examples/relay.yaml
        DESTINATION share/doc/podium/examples)

set(CPACK_PACKAGE_NAME podium)
set(CPACK_PACKAGE_VENDOR "Podium")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Self-hosted real-time presentation server: TURN relay, SFU, signaling")
set(CPACK_PACKAGE_DESCRIPTION
    "One binary holds a STUN/TURN relay, a selective forwarding unit with a slides data channel, \
HTTP signaling (WHIP/WHEP, rooms API, web client) and Prometheus metrics. The package runs it as \
podium.service with /etc/podium/podium.yaml; secrets are generated into /etc/default/podium.")
set(CPACK_PACKAGE_CONTACT "podium maintainers <podium@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends: the shared libraries' packages, found by dpkg-shlibdeps (dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# conffiles (/etc/podium/podium.yaml), postinst (/etc/default/podium with generated secrets,
# enable/start the unit), prerm, postrm (purge removes /etc/default/podium).
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PODIUM_DEPLOY_DIR}/debian/conffiles;${PODIUM_DEPLOY_DIR}/debian/postinst;${PODIUM_DEPLOY_DIR}/debian/prerm;${PODIUM_DEPLOY_DIR}/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_GENERATOR DEB)
include(CPack)
